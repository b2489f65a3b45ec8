"""Softmax functions (§5.1) and losses (§6): hypothesis over shapes and values up to magnitude
1e4 (the stable versions are finite and agree with torch), gradients against finite
differences, and bad shapes raise ValueError naming the operation."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from nerva_edu import losses as L
from nerva_edu import softmax as S

large = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)
shapes = st.tuples(st.integers(1, 5), st.integers(1, 6))
batches = shapes.flatmap(lambda s: arrays(np.float64, s, elements=large))
rows = st.integers(1, 6).flatmap(lambda d: arrays(np.float64, (1, d), elements=large))


def torch_of(X):
    return torch.tensor(X)


@settings(max_examples=60, deadline=None)
@given(X=batches)
def test_stable_softmax_is_finite_and_correct_at_large_magnitudes(X):
    with np.errstate(over="raise", divide="raise", invalid="raise"):       # underflow to 0 is exact enough
        Y = S.stable_softmax_batch(X)
        logY = S.stable_log_softmax_batch(X)
    assert np.all(np.isfinite(Y)) and np.all(np.isfinite(logY))
    np.testing.assert_allclose(Y.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(Y, torch.softmax(torch_of(X), dim=1).numpy(), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(logY, torch.log_softmax(torch_of(X), dim=1).numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(S.stable_softmax_batch(torch_of(X)).numpy(), Y, rtol=1e-12, atol=1e-300)


@settings(max_examples=40, deadline=None)
@given(x=rows)
def test_row_versions_agree_with_batch_versions(x):
    np.testing.assert_allclose(S.stable_softmax(x), S.stable_softmax_batch(x), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(S.stable_log_softmax(x), S.stable_log_softmax_batch(x), rtol=1e-12)
    J = S.softmax_jacobian(x)
    assert np.all(np.isfinite(J)) and J.shape == (x.shape[1],) * 2
    np.testing.assert_allclose(J.sum(axis=0), 0.0, atol=1e-12)          # softmax sums to 1: columns of J sum to 0


def test_plain_softmax_overflows_where_the_stable_one_does_not():
    X = np.array([[1e4, 0.0]])
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.all(np.isfinite(S.softmax_batch(X)))
    np.testing.assert_allclose(S.stable_softmax_batch(X), [[1.0, 0.0]])


@pytest.mark.parametrize("f", [S.softmax, S.stable_softmax, S.log_softmax, S.stable_log_softmax,
                               S.softmax_jacobian, S.log_softmax_jacobian])
def test_row_functions_reject_batches(f):
    with pytest.raises(ValueError, match=f"{f.__name__}: expected a row vector x of shape \\(1, D\\), got shape \\(2, 3\\)"):
        f(np.zeros((2, 3)))


# --- losses --------------------------------------------------------------------------------

def one_hot(labels, K):
    return np.eye(K)[labels]


targets = st.tuples(st.integers(1, 5), st.integers(2, 6)).flatmap(
    lambda s: st.tuples(arrays(np.float64, s, elements=large),
                        st.lists(st.integers(0, s[1] - 1), min_size=s[0], max_size=s[0])))


@settings(max_examples=60, deadline=None)
@given(data=targets)
def test_stable_losses_are_finite_and_correct_at_large_magnitudes(data):
    Y, labels = data
    T = one_hot(labels, Y.shape[1])
    Yt, Tt = torch_of(Y).requires_grad_(True), torch_of(T)
    with np.errstate(over="raise", divide="raise", invalid="raise"):       # underflow to 0 is exact enough
        sce = L.softmax_cross_entropy_batch(Y, T)
        lce = L.logistic_cross_entropy_batch(Y, T)
        DY = L.softmax_cross_entropy_batch_gradient(Y, T)
    reference = torch.nn.functional.cross_entropy(Yt, torch.tensor(labels), reduction="sum")
    assert np.isfinite(sce) and np.isfinite(lce) and np.all(np.isfinite(DY))
    np.testing.assert_allclose(sce, reference.item(), rtol=1e-10, atol=1e-10)
    reference.backward()
    np.testing.assert_allclose(DY, Yt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(DY, L.softmax_cross_entropy_one_hot_batch_gradient(Y, T), rtol=1e-12, atol=1e-15)
    expected_lce = -(Tt * torch.nn.functional.logsigmoid(torch_of(Y))).sum().item()
    np.testing.assert_allclose(lce, expected_lce, rtol=1e-10, atol=1e-10)


BATCH_LOSSES = [(name, loss) for name, loss in L.LOSSES.items()]


@pytest.mark.parametrize("name,loss", BATCH_LOSSES, ids=[n for n, _ in BATCH_LOSSES])
def test_batch_gradients_match_central_differences(name, loss):
    rng = np.random.default_rng(2)
    Y = rng.uniform(0.2, 0.9, (3, 4))
    T = rng.uniform(0.1, 1.0, (3, 4))
    h = 1e-6
    numeric = np.zeros_like(Y)
    for index in np.ndindex(Y.shape):
        E = np.zeros_like(Y)
        E[index] = h
        numeric[index] = (loss(Y + E, T) - loss(Y - E, T)) / (2 * h)
    np.testing.assert_allclose(loss.gradient(Y, T), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,loss", BATCH_LOSSES, ids=[n for n, _ in BATCH_LOSSES])
def test_losses_reject_mismatched_shapes(name, loss):
    with pytest.raises(ValueError, match=r"output and target must have the same shape, got \(2, 3\) and \(2, 4\)"):
        loss(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="same shape"):
        loss.gradient(np.ones((2, 3)), np.ones((3, 2)))


def test_single_example_losses_reject_batches():
    with pytest.raises(ValueError, match=r"squared_error: expected a single example, a row vector of shape \(1, K\)"):
        L.squared_error(np.ones((2, 3)), np.ones((2, 3)))


@settings(max_examples=30, deadline=None)
@given(data=targets)
def test_batch_loss_is_the_sum_of_the_rows(data):
    Y, labels = data
    Y = Y / 1e3
    T = one_hot(labels, Y.shape[1])
    total = sum(L.softmax_cross_entropy(Y[i:i + 1], T[i:i + 1]) for i in range(Y.shape[0]))
    np.testing.assert_allclose(L.softmax_cross_entropy_batch(Y, T), total, rtol=1e-10)


def test_mean_squared_error_is_exact_on_symbols():
    # the division by K·N stays a rational on SymPy matrices (no floats in a proof or a printed formula)
    import sympy as sp
    from nerva_edu.symbolic import symbolic_matrix
    Y, T = symbolic_matrix("y", 2, 3), symbolic_matrix("t", 2, 3)
    for value in (L.mean_squared_error_batch(Y, T), *L.mean_squared_error_batch_gradient(Y, T)):
        assert not sp.sympify(value).atoms(sp.Float), value
    assert L.mean_squared_error_batch_gradient(Y, T)[0, 0] == (Y[0, 0] - T[0, 0]) / 3


# Probabilities with exact zeros and ones, as a saturated softmax gives them, and targets with
# zeros: soft targets (any entries in [0, 1], some exactly 0) and one-hot rows.
probabilities = st.tuples(st.integers(1, 4), st.integers(2, 5)).flatmap(
    lambda s: st.tuples(arrays(np.float64, s, elements=st.sampled_from([0.0, 1.0, 0.25, 1e-300, 0.5])),
                        arrays(np.float64, s, elements=st.sampled_from([0.0, 0.0, 1.0, 0.3]))))


@pytest.mark.parametrize("name", ["cross_entropy", "negative_log_likelihood"])
@settings(max_examples=60, deadline=None)
@given(data=probabilities)
def test_zero_log_zero_is_zero_in_value_and_gradient(name, data):
    """0·log 0 = 0: entries with target 0 add nothing to the value or the gradient, whatever the
    output; NumPy and torch agree; the value is never NaN (+∞ only where a target > 0 meets an
    output 0), and the gradient is finite wherever the target's probability is positive."""
    Y, T = data
    loss = L.LOSSES[name]
    with np.errstate(divide="ignore"):
        value, DY = loss(Y, T), loss.gradient(Y, T)
    assert not np.isnan(value) and not np.any(np.isnan(DY))
    assert np.all(DY[T == 0] == 0)
    Yt, Tt = torch.tensor(Y), torch.tensor(T)
    np.testing.assert_allclose(loss(Yt, Tt).numpy(), value, rtol=1e-12)          # sums and logs in another order
    np.testing.assert_allclose(loss.gradient(Yt, Tt).numpy(), DY, rtol=1e-14)
    if name == "cross_entropy":
        expected = -torch.special.xlogy(Tt, Yt).sum().item()          # torch's own convention
        assert value == pytest.approx(expected) if np.isfinite(expected) else value == expected
        finite = (T == 0) | (Y > 0)
    else:
        likelihood = (Y * T).sum(axis=1, keepdims=True)
        finite = np.broadcast_to(likelihood > 0, Y.shape) | (T == 0)
    assert np.all(np.isfinite(DY[finite]))


def test_zero_log_zero_on_single_examples_and_symbols():
    import sympy as sp
    y, t = np.array([[1.0, 0.0, 0.0]]), np.array([[1.0, 0.0, 0.0]])
    assert L.cross_entropy(y, t) == 0 and L.negative_log_likelihood(y, t) == 0
    np.testing.assert_array_equal(L.cross_entropy_gradient(y, t), [[-1, 0, 0]])
    with np.errstate(divide="ignore"):                     # the target has probability 0: an infinite loss
        np.testing.assert_array_equal(L.negative_log_likelihood_gradient(np.array([[0.0, 1.0, 0.0]]), t),
                                      [[-np.inf, 0, 0]])
    ys, ts = sp.symbols("y1 y2", positive=True), sp.symbols("t1 t2", positive=True)
    assert L.cross_entropy(sp.Matrix([ys]), sp.Matrix([ts])) == -ts[0] * sp.log(ys[0]) - ts[1] * sp.log(ys[1])
