"""Activation functions (spec §5): the three kinds agree, dtypes are kept, values of magnitude
1e4 stay finite, derivatives match finite differences, SReLU's defaults give ReLU."""

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import example, given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from nerva_edu.activations import (AllReLU, LeakyReLU, ReLU, Sigmoid, SReLU, Tanh, alternating_all_relus,
                                   sigmoid)
from nerva_edu.validation import as_numpy, as_sympy, as_torch

ACTIVATIONS = [ReLU(), LeakyReLU(0.1), LeakyReLU(2.5), AllReLU(-0.3), SReLU(), SReLU(0.1, -0.5, 0.2, 0.7),
               SReLU(0.1, 0.5, 0.2, -0.3), Tanh(), Sigmoid()]
large = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
shapes = st.tuples(st.integers(1, 4), st.integers(1, 5))


@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
@settings(max_examples=20, deadline=None)
@given(X=shapes.flatmap(lambda s: arrays(np.float64, s, elements=large)))
@example(X=np.array([[9.0, -9.0]]))
def test_kinds_agree_and_stay_finite(act, X):
    # tanh' = 1 − tanh² cancels where |x| is large: its value is then only good to a few ulps of 1,
    # whatever its size (x = 9: 6.09e-08 ± 2.2e-16 between NumPy's and torch's tanh)
    gradient_atol = 1e-15 if isinstance(act, Tanh) else 1e-300
    for method, atol in (("__call__", 1e-300), ("gradient", gradient_atol)):
        expected = getattr(act, method)(X)
        assert expected.shape == X.shape and np.all(np.isfinite(expected))
        np.testing.assert_allclose(as_numpy(getattr(act, method)(as_torch(X))), expected, rtol=1e-12, atol=atol)
    small = X[:2, :2]
    np.testing.assert_allclose(as_numpy(act(as_sympy(small))), act(small), rtol=1e-12)
    np.testing.assert_allclose(as_numpy(act.gradient(as_sympy(small))), act.gradient(small), rtol=1e-12,
                               atol=gradient_atol)


@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
def test_derivative_matches_central_differences(act):
    X = np.random.default_rng(0).uniform(-3, 3, (5, 7))
    h = 1e-6
    numeric = (act(X + h) - act(X - h)) / (2 * h)
    np.testing.assert_allclose(act.gradient(X), numeric, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("act", ACTIVATIONS, ids=repr)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(act, dtype):
    X = np.linspace(-2, 2, 12, dtype=dtype).reshape(3, 4)
    assert act(X).dtype == dtype and act.gradient(X).dtype == dtype
    T = torch.tensor(X)
    assert act(T).dtype == T.dtype and act.gradient(T).dtype == T.dtype


def test_erratum_srelu_defaults_are_not_relu():
    """The spec: a_l, t_l, a_r, t_r = 0, 0, 0, 1 "corresponds to the ReLU function". It gives
    min(max(x, 0), 1); ReLU needs a_r = 1."""
    X = np.random.default_rng(1).standard_normal((4, 6)) * 2
    assert not np.allclose(SReLU()(X), ReLU()(X))
    np.testing.assert_array_equal(SReLU()(X), np.clip(X, 0, 1))
    np.testing.assert_array_equal(SReLU(ar=1)(X), ReLU()(X))
    np.testing.assert_array_equal(SReLU(ar=1).gradient(X), ReLU().gradient(X))


def test_srelu_pieces_and_first_alternative():
    act = SReLU(al=0.5, tl=-1.0, ar=2.0, tr=1.0)
    X = np.array([[-3.0, -1.0, 0.0, 1.0, 3.0]])
    np.testing.assert_allclose(act(X), [[-2.0, -1.0, 0.0, 1.0, 5.0]])
    np.testing.assert_allclose(act.gradient(X), [[0.5, 0.5, 1.0, 2.0, 2.0]])
    overlap = SReLU(al=0.5, tl=1.0, ar=2.0, tr=-1.0)          # t_l ≥ t_r: the first case wins
    np.testing.assert_allclose(overlap(np.array([[0.0, 2.0]])), [[0.5, 5.0]])
    np.testing.assert_allclose(overlap.Tr(np.array([[0.0, 2.0]])), [[0.0, -1.0]])


def test_sigmoid_is_finite_and_exact_at_large_magnitudes():
    X = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):   # underflow to 0 is exact rounding
        np.testing.assert_allclose(sigmoid(X), torch.sigmoid(torch.tensor(X)).numpy(), rtol=1e-15, atol=0)
    x = sp.Symbol("x", real=True)
    assert sp.simplify(Sigmoid()(sp.Matrix([[x]]))[0, 0].rewrite(sp.exp) - 1 / (1 + sp.exp(-x))) == 0


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_sigmoid_and_its_derivative_are_accurate_to_a_few_ulps_for_every_float(kind):
    """Against 200-bit mpmath: σ and σ' = σ(x)σ(−x) within 4 ulps wherever the result is a normal
    float, at random points of (−745, 745), at the points where the old forms cancelled, and at
    the extremes of float64."""
    import mpmath
    mpmath.mp.prec = 200
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-40, 40, 300), rng.uniform(-745, 745, 300),
                        [9.17, -9.17, 20.0, -20.0, 0.0, -0.0, 1e-300, -5e-324, 1e308, -1e308]])
    sigma = [1 / (1 + mpmath.exp(-mpmath.mpf(v))) for v in x]
    exact = {"__call__": np.array([float(s) for s in sigma]),
             "gradient": np.array([float(s / (1 + mpmath.exp(mpmath.mpf(v)))) for s, v in zip(sigma, x)])}
    X = x.reshape(1, -1) if kind == "numpy" else torch.tensor(x.reshape(1, -1))
    for method, expected in exact.items():
        with np.errstate(over="raise", invalid="raise", divide="raise"):   # underflow to 0 is exact rounding
            computed = as_numpy(getattr(Sigmoid(), method)(X)).ravel()
        normal = np.abs(expected) >= np.finfo(np.float64).tiny
        ulps = np.abs(computed - expected)[normal] / np.spacing(np.abs(expected[normal]))
        assert ulps.max() <= 4, (method, x[normal][ulps.argmax()], ulps.max())
        assert np.all(np.abs(computed - expected)[~normal] <= np.finfo(np.float64).tiny)


@pytest.mark.parametrize("make", [LeakyReLU, AllReLU, lambda v: SReLU(tl=v), lambda v: SReLU(ar=v)])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_parameters_must_be_finite(make, value):
    with pytest.raises(ValueError, match="must be a finite number"):
        make(value)


def test_parameters_must_be_numbers_or_symbols():
    with pytest.raises(TypeError, match="alpha must be a number, a SymPy expression or a torch or JAX scalar, got str"):
        LeakyReLU("0.1")
    assert LeakyReLU(sp.Symbol("alpha")).alpha == sp.Symbol("alpha")


def test_alternating_all_relus():
    alphas = [act.alpha for act in alternating_all_relus(0.25, 4)]
    assert alphas == [-0.25, 0.25, -0.25, 0.25]


def test_torch_gradient_flows_to_srelu_parameters():
    al = torch.tensor(0.1, dtype=torch.float64, requires_grad=True)
    X = torch.tensor([[-2.0, 0.5, 3.0]], dtype=torch.float64)
    SReLU(al=al)(X).sum().backward()
    assert al.grad.item() == pytest.approx(-2.0)
