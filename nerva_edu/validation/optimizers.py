"""Validation of the optimizers (spec §8).

SymPy: gradient descent moves along the negative gradient (d/dη L(θ − η·Dθ) at η = 0 is
−‖Dθ‖²); three momentum and Nesterov steps of the spec's (Keras) equations, on symbolic
gradients, equal three steps of torch's equations with Δ = −η·v.
Numeric (with the torch and the JAX oracle): the update rules of ``nerva_edu.optimizers``,
run on float64 values of the oracle's kind for 60 steps of a non-quadratic loss, with the
gradients of the oracle's automatic differentiation, follow the same trajectory as torch's
equations with a velocity v (the form of ``torch.optim.SGD``). On JAX values, which are
immutable, this also runs the rules' augmented assignments as rebinding.
Torch only: the same 60 steps agree with ``torch.optim.SGD`` itself (plain, momentum,
Nesterov) with a constant learning rate; JAX has no optimizer library of its own.
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


def _velocity_form(theta, v, g, eta, mu, nesterov):
    """torch.optim.SGD's update (dampening 0): v' = μ·v + g; θ' = θ − η·v' (or − η·(g + μ·v'));
    μ = 0 is gradient descent."""
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
            theta_torch, v = _velocity_form(theta_torch, v, g, eta, mu, nesterov)
            assert_equal(Delta, -eta * v, f"step {k}: Δ = −η·v")
            assert_equal(theta, theta_torch, f"step {k}: θ (spec) = θ (torch)")
    return check


def _loss(theta, A, B):
    R = A @ theta - B
    return 0.5 * (R * R).sum() + 0.25 * (theta ** 4).sum()


LEARNING_RATE = 0.05


def _problem(rng):
    """A, B and θ₀ of the loss below, drawn from ``rng``."""
    return rng.standard_normal((6, 4)), rng.standard_normal((6, 3)), rng.standard_normal((4, 3))


def _trajectory(rule, mu=0, nesterov=False):
    """Numeric check: 60 steps of ``rule`` equal 60 steps of the velocity form, both with the
    oracle's gradients."""
    def check(oracle):
        A, B, theta0 = (oracle.array(value) for value in _problem(np.random.default_rng(5)))
        loss = lambda theta: _loss(theta, A, B)          # noqa: E731
        theta, state = 1 * theta0, rule.init_state(theta0)     # a copy: a rule may update θ in place
        reference = theta0
        v = 0 * theta0
        for _ in range(60):
            [Dtheta] = oracle.grad(loss, [theta])
            theta, state = rule.step(theta, Dtheta, LEARNING_RATE, state)
            [g] = oracle.grad(loss, [reference])
            reference, v = _velocity_form(reference, v, g, LEARNING_RATE, mu, nesterov)
        assert_close(theta, reference, f"{rule!r} on {oracle.name} vs the velocity form after 60 steps",
                     rtol=1e-12, atol=1e-12)
    return check


def _torch_agreement(rule, **sgd_options):
    def check():
        import torch
        A, B, theta0 = (torch.tensor(value) for value in _problem(np.random.default_rng(5)))

        parameter = torch.nn.Parameter(theta0.clone())
        sgd = torch.optim.SGD([parameter], lr=LEARNING_RATE, **sgd_options)
        theta, state = theta0.clone(), rule.init_state(theta0.clone())
        for step in range(60):
            sgd.zero_grad()
            _loss(parameter, A, B).backward()
            sgd.step()
            variable = theta.clone().requires_grad_(True)
            _loss(variable, A, B).backward()
            theta, state = rule.step(theta, variable.grad, LEARNING_RATE, state)
        assert_close(theta, parameter.detach(), f"{rule!r} vs torch.optim.SGD({sgd_options}) after 60 steps",
                     rtol=1e-12, atol=1e-12)
    return check


register("optimizer.gradient_descent", "§8", CHAPTER, GradientDescent,
         sympy=_sympy_descent, numeric=_trajectory(GradientDescent()), torch_only=_torch_agreement(GradientDescent()))
register("optimizer.momentum", "§8", CHAPTER, Momentum,
         sympy=_sympy_reparameterization(Momentum, nesterov=False), numeric=_trajectory(Momentum(0.9), mu=0.9),
         torch_only=_torch_agreement(Momentum(0.9), momentum=0.9))
register("optimizer.nesterov", "§8", CHAPTER, Nesterov,
         sympy=_sympy_reparameterization(Nesterov, nesterov=True),
         numeric=_trajectory(Nesterov(0.9), mu=0.9, nesterov=True),
         torch_only=_torch_agreement(Nesterov(0.9), momentum=0.9, nesterov=True))
