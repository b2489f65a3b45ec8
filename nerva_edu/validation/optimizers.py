"""Validation of the optimizers (spec §8).

SymPy: gradient descent moves along the negative gradient (d/dη L(θ − η·Dθ) at η = 0 is
−‖Dθ‖²); three momentum and Nesterov steps of the spec's (Keras) equations, on symbolic
gradients, equal three steps of torch's equations with Δ = −η·v.
Torch: the update rules of ``nerva_edu.optimizers``, run on float64 tensors for 60 steps of
a non-quadratic loss, follow the same trajectory as ``torch.optim.SGD`` (plain, momentum,
Nesterov) with a constant learning rate.
"""

import numpy as np
import sympy as sp

from nerva_edu import matrix as M
from nerva_edu.optimizers import GradientDescent, Momentum, Nesterov
from nerva_edu.registry import register
from nerva_edu.symbolic import assert_equal, symbolic_matrix
from nerva_edu.validation import assert_close

CHAPTER = "book/08-optimization"
eta, mu = sp.symbols("eta mu", positive=True)


def _sympy_descent():
    theta = symbolic_matrix("theta", 2, 2)
    C = symbolic_matrix("c", 2, 2)
    loss = lambda T: M.elements_sum(M.hadamard(C, M.exp(T))) + M.elements_sum(M.hadamard(T, T))
    Dtheta = sp.Matrix(2, 2, lambda i, j: sp.diff(loss(theta), theta[i, j]))
    theta_new, _ = GradientDescent().step(theta, Dtheta, eta, None)
    slope = sp.diff(loss(theta_new), eta).subs(eta, 0)
    assert_equal(slope, -M.elements_sum(M.hadamard(Dtheta, Dtheta)), "d/dη L(θ − η·Dθ) at η = 0")


def _torch_reference(theta, v, g, nesterov):
    """torch.optim.SGD's update (dampening 0): v' = μ·v + g; θ' = θ − η·v' (or − η·(g + μ·v'))."""
    v = mu * v + g
    return theta - eta * ((g + mu * v) if nesterov else v), v


def _sympy_reparameterization(cls, nesterov):
    def check():
        rule = cls(mu)
        theta = symbolic_matrix("theta", 2, 1)
        theta_torch, v = theta, sp.zeros(2, 1)
        Delta = rule.init_state(theta)
        for k in range(1, 4):
            g = symbolic_matrix(f"g{k}", 2, 1)
            theta, Delta = rule.step(theta, g, eta, Delta)
            theta_torch, v = _torch_reference(theta_torch, v, g, nesterov)
            assert_equal(Delta, -eta * v, f"step {k}: Δ = −η·v")
            assert_equal(theta, theta_torch, f"step {k}: θ (spec) = θ (torch)")
    return check


def _loss(theta, A, B):
    R = A @ theta - B
    return 0.5 * (R * R).sum() + 0.25 * (theta ** 4).sum()


def _torch_agreement(rule, **sgd_options):
    def check():
        import torch
        rng = np.random.default_rng(5)
        A, B = torch.tensor(rng.standard_normal((6, 4))), torch.tensor(rng.standard_normal((6, 3)))
        theta0 = torch.tensor(rng.standard_normal((4, 3)))
        learning_rate = 0.05

        parameter = torch.nn.Parameter(theta0.clone())
        sgd = torch.optim.SGD([parameter], lr=learning_rate, **sgd_options)
        theta, state = theta0.clone(), rule.init_state(theta0.clone())
        for step in range(60):
            sgd.zero_grad()
            _loss(parameter, A, B).backward()
            sgd.step()
            variable = theta.clone().requires_grad_(True)
            _loss(variable, A, B).backward()
            theta, state = rule.step(theta, variable.grad, learning_rate, state)
        assert_close(theta, parameter.detach(), f"{rule!r} vs torch.optim.SGD({sgd_options}) after 60 steps",
                     rtol=1e-12, atol=1e-12)
    return check


register("optimizer.gradient_descent", "§8", CHAPTER, GradientDescent,
         sympy=_sympy_descent, torch=_torch_agreement(GradientDescent()))
register("optimizer.momentum", "§8", CHAPTER, Momentum,
         sympy=_sympy_reparameterization(Momentum, nesterov=False),
         torch=_torch_agreement(Momentum(0.9), momentum=0.9))
register("optimizer.nesterov", "§8", CHAPTER, Nesterov,
         sympy=_sympy_reparameterization(Nesterov, nesterov=True),
         torch=_torch_agreement(Nesterov(0.9), momentum=0.9, nesterov=True))
