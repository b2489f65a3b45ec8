"""Optimizers (spec §8): the registered validations, the torch reparameterization as a
property, the layer protocol (incl. SReLU and batch-norm parameters), parsing."""

from types import SimpleNamespace

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from nerva_edu import registry
from nerva_edu.optimizers import GradientDescent, LayerOptimizer, Momentum, Nesterov, parse_optimizer
from nerva_edu.validation import optimizers as validation


@pytest.mark.parametrize("id", ["optimizer.gradient_descent", "optimizer.momentum", "optimizer.nesterov"])
@pytest.mark.parametrize("kind", ["sympy", "torch", "jax"])
def test_registered_validations_pass(id, kind):
    equation = registry.EQUATIONS[id]
    assert equation.spec_ref == "§8"
    ok, reason = registry.run_check(getattr(equation, kind))
    assert ok, reason


@pytest.mark.parametrize("oracle", ["torch", "jax"])
def test_numeric_checks_detect_a_wrong_rule(oracle):
    with pytest.raises(AssertionError, match=f"on {oracle} vs the velocity form after 60 steps"):
        validation._trajectory(Momentum(0.9), mu=0.9, nesterov=True)(registry.oracle(oracle))
    with pytest.raises(AssertionError, match="after 60 steps"):
        validation._torch_agreement(Momentum(0.9), momentum=0.9, nesterov=True)()
    with pytest.raises(AssertionError, match="does not vanish"):
        validation._sympy_reparameterization(Momentum, nesterov=True)()


def torch_sgd(theta, gradients, etas, mu, nesterov):
    """torch.optim.SGD's equations with velocity v (dampening 0)."""
    v = np.zeros_like(theta)
    for g, eta in zip(gradients, etas):
        v = mu * v + g
        theta = theta - eta * ((g + mu * v) if nesterov else v)
    return theta


def run(rule, theta, gradients, etas):
    theta, state = theta.copy(), rule.init_state(theta)
    for g, eta in zip(gradients, etas):
        theta, state = rule.step(theta, g, eta, state)
    return theta


@settings(max_examples=40, deadline=None)
@given(mu=st.floats(0.05, 0.95), eta=st.floats(1e-3, 1.0), nesterov=st.booleans(),
       gradients=st.lists(arrays(np.float64, (2, 3), elements=st.floats(-10, 10)), min_size=1, max_size=8))
def test_spec_momentum_is_torch_momentum_with_constant_eta(mu, eta, nesterov, gradients):
    theta = np.arange(6.0).reshape(2, 3)
    rule = Nesterov(mu) if nesterov else Momentum(mu)
    etas = [eta] * len(gradients)
    np.testing.assert_allclose(run(rule, theta, gradients, etas),
                               torch_sgd(theta, gradients, etas, mu, nesterov), rtol=1e-10, atol=1e-10)


def test_the_reparameterization_needs_a_constant_eta():
    theta, gradients, etas = np.zeros((1, 1)), [np.ones((1, 1))] * 2, [1.0, 0.5]
    spec = run(Momentum(0.5), theta, gradients, etas)        # Δ₁ = −1, Δ₂ = −0.5 − 0.5 = −1
    torch = torch_sgd(theta, gradients, etas, 0.5, False)    # v₁ = 1, v₂ = 1.5, θ₂ = −1 − 0.75
    assert spec[0, 0] == pytest.approx(-2.0) and torch[0, 0] == pytest.approx(-1.75)


def test_gradient_descent():
    theta = np.array([[1.0, 2.0]])
    np.testing.assert_array_equal(run(GradientDescent(), theta, [np.array([[1.0, -1.0]])], [0.5]), [[0.5, 2.5]])


def layer_with_all_parameter_kinds(dtype):
    """A stand-in obeying the layer protocol: matrices, vectors and SReLU's scalars."""
    rng = np.random.default_rng(0)
    names = ("W", "b", "beta", "gamma", "al", "tl", "ar", "tr")
    layer = SimpleNamespace(parameter_names=names)
    for name in names:
        value = rng.standard_normal((3, 2) if name == "W" else (1, 3)).astype(dtype)
        if name in ("al", "tl", "ar", "tr"):
            value = float(value[0, 0])
        setattr(layer, name, value)
        setattr(layer, "D" + name, 0 * value + 0.5)
    return layer


@pytest.mark.parametrize("rule", [GradientDescent(), Momentum(0.9), Nesterov(0.9)], ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_optimizer_updates_every_parameter_in_place(rule, dtype):
    layer = layer_with_all_parameter_kinds(dtype)
    before = {name: np.copy(getattr(layer, name)) for name in layer.parameter_names}
    W = layer.W
    optimizer = LayerOptimizer(layer, rule)
    for _ in range(2):
        optimizer.update(0.1)
    assert layer.W is W and layer.W.dtype == dtype               # no copy of the weight matrix
    for name in layer.parameter_names:
        expected = run(rule, np.asarray(before[name], dtype=np.float64), [0.5 * np.ones_like(before[name])] * 2,
                       [0.1] * 2)
        np.testing.assert_allclose(getattr(layer, name), expected, rtol=1e-6)


def test_layer_optimizer_on_sympy_parameters():
    al, Dal = sp.symbols("a_l Da_l")
    layer = SimpleNamespace(parameter_names=("al",), al=al, Dal=Dal)
    LayerOptimizer(layer, Nesterov(sp.Rational(1, 2))).update(sp.Symbol("eta"))
    eta = sp.Symbol("eta")
    assert sp.simplify(layer.al - (al + sp.Rational(1, 2) * (-eta * Dal) - eta * Dal)) == 0


@pytest.mark.parametrize("text, expected", [("GradientDescent", "GradientDescent()"),
                                            ("Momentum(0.9)", "Momentum(mu=0.9)"),
                                            ("Nesterov(mu=0.95)", "Nesterov(mu=0.95)")])
def test_parse(text, expected):
    assert repr(parse_optimizer(text)) == expected


@pytest.mark.parametrize("text, message", [("Adam", "accepted: GradientDescent, Momentum, Nesterov"),
                                           ("Momentum", "missing argument 'mu'"),
                                           ("Nesterov(1.5)", "expected 0 < mu < 1"),
                                           ("GradientDescent(0.1)", "too many arguments")])
def test_parse_rejects_bad_values(text, message):
    with pytest.raises(ValueError, match=message):
        parse_optimizer(text)
