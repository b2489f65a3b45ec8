"""Layers (spec §4): the NumPy path agrees with torch autograd over random shapes (hypothesis),
inputs of the wrong shape or kind raise errors naming the operation and both shapes, batch
normalization's evaluation mode and dropout's mask behave as documented, and the NumPy path
is vectorized (no Python loop over elements)."""

import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from nerva_edu.activations import ReLU, Sigmoid, SReLU, Tanh
from nerva_edu.layers import (Activation, ActivationDropout, BatchNormalization, Linear, LinearDropout, LogSoftmax,
                              Softmax, SReLULayer)
from nerva_edu.layers.dropout_mask import dropout_mask


def make_layer(name, W, b):
    return {
        "Linear": lambda: Linear(W, b),
        "ReLU": lambda: Activation(W, b, ReLU()),
        "Tanh": lambda: Activation(W, b, Tanh()),
        "SReLU": lambda: SReLULayer(W, b, al=0.1, tl=-0.2, ar=0.3, tr=0.4),
        "Softmax": lambda: Softmax(W, b),
        "LogSoftmax": lambda: LogSoftmax(W, b),
    }[name]()


LAYERS = ["Linear", "ReLU", "Tanh", "SReLU", "Softmax", "LogSoftmax"]
sizes = st.tuples(st.integers(1, 6), st.integers(1, 5), st.integers(1, 5), st.integers(0, 2 ** 16))


@pytest.mark.parametrize("name", LAYERS)
@settings(max_examples=15, deadline=None)
@given(size=sizes)
def test_numpy_layer_agrees_with_torch_autograd(name, size):
    N, D, K, seed = size
    rng = np.random.default_rng(seed)
    X, W, b, C = (rng.standard_normal(s) for s in ((N, D), (K, D), (1, K), (N, K)))
    layer = make_layer(name, W, b)
    Y = layer.feedforward(X)
    DX = layer.backpropagate(Y, C)

    Xt, Wt, bt = (torch.tensor(A, requires_grad=True) for A in (X, W, b))
    reference = make_layer(name, Wt, bt)
    Yt = reference.feedforward(Xt)
    (Yt * torch.tensor(C)).sum().backward()
    np.testing.assert_allclose(Y, Yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    for ours, expected in ((DX, Xt.grad), (layer.DW, Wt.grad), (layer.Db, bt.grad)):
        np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-9, atol=1e-11)


@settings(max_examples=15, deadline=None)
@given(size=sizes)
def test_batch_normalization_agrees_with_torch(size):
    N, _, K, seed = size
    N += 1
    rng = np.random.default_rng(seed)
    X, C = rng.standard_normal((N, K)) * 100, rng.standard_normal((N, K))
    beta, gamma = rng.standard_normal((1, K)), rng.uniform(0.5, 2, (1, K))
    layer = BatchNormalization(beta, gamma)
    Y = layer.feedforward(X)
    DX = layer.backpropagate(Y, C)
    Xt, bt, gt = (torch.tensor(A, requires_grad=True) for A in (X, beta, gamma))
    Yt = torch.nn.functional.batch_norm(Xt, None, None, gt.flatten(), bt.flatten(), training=True, eps=1e-5)
    (Yt * torch.tensor(C)).sum().backward()
    np.testing.assert_allclose(Y, Yt.detach().numpy(), rtol=1e-9, atol=1e-9)
    for ours, expected in ((DX, Xt.grad), (layer.Dbeta, bt.grad), (layer.Dgamma, gt.grad)):
        np.testing.assert_allclose(ours, expected.numpy(), rtol=1e-7, atol=1e-9)


# --- errors at layer entry ------------------------------------------------------------------

def test_linear_rejects_bad_shapes_naming_the_operation():
    W, b = np.zeros((2, 3)), np.zeros((1, 2))
    with pytest.raises(ValueError, match=r"Linear.feedforward: X has shape \(4, 2\), expected \(N, 3\) "
                                         r"to match W of shape \(2, 3\)"):
        Linear(W, b).feedforward(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"Linear: b has shape \(1, 3\), expected \(1, 2\)"):
        Linear(W, np.zeros((1, 3)))
    layer = Linear(W, b)
    Y = layer.feedforward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"Linear.backpropagate: DY has shape \(4, 3\), expected \(4, 2\)"):
        layer.backpropagate(Y, np.zeros((4, 3)))
    with pytest.raises(ValueError, match="call feedforward before backpropagate"):
        Linear(W, b).backpropagate(Y, Y)


@pytest.mark.parametrize("layer", [Activation(np.zeros((2, 3)), np.zeros((1, 2)), ReLU()),
                                   SReLULayer(np.zeros((2, 3)), np.zeros((1, 2))),
                                   Softmax(np.zeros((2, 3)), np.zeros((1, 2))),
                                   LinearDropout(np.zeros((2, 3)), np.zeros((1, 2)), 0.5),
                                   ActivationDropout(np.zeros((2, 3)), np.zeros((1, 2)), Sigmoid(), 0.5)],
                         ids=lambda layer: type(layer).__name__)
def test_every_layer_names_itself_in_shape_errors(layer):
    with pytest.raises(ValueError, match=rf"{type(layer).__name__}.feedforward: X has shape \(4, 5\)"):
        layer.feedforward(np.zeros((4, 5)))
    with pytest.raises(ValueError, match=rf"{type(layer).__name__}.feedforward: X has shape \(3,\)"):
        layer.feedforward(np.zeros(3))


def test_input_of_another_kind_is_rejected():
    with pytest.raises(TypeError, match="X is a torch value, but the layer's parameters are numpy values"):
        Linear(np.zeros((2, 3)), np.zeros((1, 2))).feedforward(torch.zeros(4, 3))


def test_batch_normalization_errors():
    with pytest.raises(ValueError, match=r"BatchNormalization: gamma has shape \(1, 3\), expected \(1, 2\)"):
        BatchNormalization(np.zeros((1, 2)), np.ones((1, 3)))
    layer = BatchNormalization(np.zeros((1, 2)), np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"BatchNormalization.feedforward: X has shape \(5, 3\), expected \(N, 2\)"):
        layer.feedforward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="training needs a batch of at least 2 rows"):
        layer.feedforward(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="momentum must lie in"):
        BatchNormalization(np.zeros((1, 2)), np.ones((1, 2)), momentum=1.5)


def test_batch_normalization_evaluation_uses_running_statistics():
    rng = np.random.default_rng(3)
    layer = BatchNormalization(np.zeros((1, 2)), np.ones((1, 2)), momentum=1.0, epsilon=0)
    X = rng.standard_normal((8, 2)) * 3 + 5
    layer.feedforward(X)
    np.testing.assert_allclose(layer.running_mean, X.mean(axis=0, keepdims=True))
    np.testing.assert_allclose(layer.running_variance, X.var(axis=0, ddof=1, keepdims=True))
    layer.training = False
    x = X[:1]
    np.testing.assert_allclose(layer.feedforward(x), (x - X.mean(0)) / X.std(0, ddof=1))


# --- dropout -----------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.0, -0.1, 1.5])
def test_keep_probability_must_lie_in_0_1(p):
    with pytest.raises(ValueError, match=r"keep_probability must lie in \(0, 1\]"):
        LinearDropout(np.zeros((2, 3)), np.zeros((1, 2)), keep_probability=p)


def test_dropout_mask_is_inverted_and_keeps_the_expected_weights():
    W = np.ones((200, 300), dtype=np.float32)
    R = dropout_mask(W, 0.8, np.random.default_rng(0))
    assert R.shape == (300, 200) and R.dtype == np.float32
    assert set(np.unique(R)) == {0.0, np.float32(1 / 0.8)}
    assert abs(R.mean() - 1.0) < 0.01          # E[R_ij] = 1: inverted dropout
    assert abs((R > 0).mean() - 0.8) < 0.01


def test_dropout_draws_a_new_mask_in_training_and_none_in_evaluation():
    rng = np.random.default_rng(4)
    W, b, X = rng.standard_normal((3, 4)), rng.standard_normal((1, 3)), rng.standard_normal((5, 4))
    layer = LinearDropout(W, b, keep_probability=0.5, rng=rng)
    layer.feedforward(X)
    R1 = layer.R
    Y2, R2 = layer.feedforward(X), layer.R
    assert not np.array_equal(R1, R2)
    np.testing.assert_allclose(Y2, X @ (W.T * R2) + b)
    layer.training = False
    np.testing.assert_allclose(layer.feedforward(X), Linear(W, b).feedforward(X))
    assert layer.R is None


def test_dropout_rejects_a_mask_of_the_wrong_shape():
    layer = LinearDropout(np.zeros((2, 3)), np.zeros((1, 2)), 0.5)
    with pytest.raises(ValueError, match=r"LinearDropout.feedforward: R has shape \(2, 3\), expected \(3, 2\)"):
        layer.feedforward(np.zeros((4, 3)), R=np.ones((2, 3)))


def test_dropout_mask_follows_the_kind_of_the_weights():
    W = torch.ones(2, 3, dtype=torch.float64)
    R = dropout_mask(W, 0.5, np.random.default_rng(0))
    assert isinstance(R, torch.Tensor) and R.dtype == torch.float64 and tuple(R.shape) == (3, 2)


# --- vectorization (speed itself is measured by `nerva-edu bench`, not by timed tests) -------------

def _python_calls(f):
    """The number of Python-level function calls made while running f()."""
    calls = 0

    def count(frame, event, arg):
        nonlocal calls
        calls += event == "call"
    sys.setprofile(count)
    try:
        f()
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("make", [lambda W, b: Activation(W, b, SReLU(0.1, -0.2, 0.3, 0.4)),
                                  lambda W, b: Softmax(W, b),
                                  lambda W, b: BatchNormalization(b, b + 1)],
                         ids=["SReLU activation", "Softmax", "BatchNormalization"])
def test_numpy_path_is_vectorized(make):
    """Feedforward + backpropagate make as many Python calls for a 4×8 batch as for a 256×256 one:
    the work on the elements happens inside NumPy, never in a Python loop over them."""
    rng = np.random.default_rng(0)

    def calls(N, D):
        X, W, b = rng.standard_normal((N, D)), rng.standard_normal((D, D)), rng.standard_normal((1, D))
        layer = make(W, b)
        return _python_calls(lambda: layer.backpropagate(layer.feedforward(X), X))

    calls(4, 8)                              # warm-up: first-time imports and caches
    assert calls(256, 256) == calls(4, 8)
