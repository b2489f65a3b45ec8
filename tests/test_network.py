"""Backpropagation through a whole network (nerva_edu.validation.network): random MLPs of every
layer kind agree with torch autograd; the symbolic proofs and the torch comparison detect a wrong
layer; MLP.backpropagate keeps every DX_l."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from nerva_edu import activations
from nerva_edu.layers import (Activation, ActivationDropout, BatchNormalization, Linear, LinearDropout, LogSoftmax,
                              Softmax, SReLULayer)
from nerva_edu.mlp import MLP
from nerva_edu.optimizers import GradientDescent
from nerva_edu.validation import as_torch
from nerva_edu.validation import network as V

ACTIVATIONS = [activations.ReLU(), activations.LeakyReLU(0.1), activations.AllReLU(-0.3), activations.Tanh(),
               activations.Sigmoid()]
KINDS = ["Linear", "Activation", "SReLU", "BatchNormalization", "Softmax", "LogSoftmax", "LinearDropout",
         "ActivationDropout"]


def _tensor(rng, *shape):
    return as_torch(rng.standard_normal(shape)).requires_grad_(True)


def _scalar(value):
    return as_torch(value).reshape(()).requires_grad_(True)


def _layer(kind, D, K, rng):
    """A layer of ``kind`` with D inputs (K outputs, except batch normalization: D) and random
    float64 torch parameters; dropout layers draw their masks from a seeded generator."""
    if kind == "BatchNormalization":
        return BatchNormalization(_tensor(rng, 1, D), _tensor(rng, 1, D))
    W, b = _tensor(rng, K, D), _tensor(rng, 1, K)
    act = ACTIVATIONS[rng.integers(len(ACTIVATIONS))]
    if kind == "Activation":
        return Activation(W, b, act)
    if kind == "SReLU":
        return SReLULayer(W, b, _scalar(rng.uniform(0, 1)), _scalar(rng.uniform(-1, -0.1)),
                          _scalar(rng.uniform(0, 1)), _scalar(rng.uniform(0.1, 1)))
    if kind == "LinearDropout":
        return LinearDropout(W, b, 0.7, rng=np.random.default_rng(rng.integers(1000)))
    if kind == "ActivationDropout":
        return ActivationDropout(W, b, act, 0.7, rng=np.random.default_rng(rng.integers(1000)))
    return {"Linear": Linear, "Softmax": Softmax, "LogSoftmax": LogSoftmax}[kind](W, b)


def random_mlp(kinds, widths, N, seed):
    rng = np.random.default_rng(seed)
    layers, D = [], widths[0]
    for kind, K in zip(kinds, widths[1:]):
        layers.append(_layer(kind, D, K, rng))
        D = layers[-1].output_size
    for layer in layers:
        if isinstance(layer, BatchNormalization):
            layer.running_mean, layer.running_variance = layer.beta.detach() * 0, layer.gamma.detach() * 0 + 1
    X = as_torch(rng.standard_normal((N, widths[0]))).requires_grad_(True)
    return MLP(layers, [GradientDescent() for _ in layers]), X


@settings(max_examples=40, deadline=None)
@given(kinds=st.lists(st.sampled_from(KINDS), min_size=1, max_size=6),
       widths=st.lists(st.integers(1, 4), min_size=7, max_size=7),
       N=st.integers(2, 5), loss=st.sampled_from([None, "squared_error", "mean_squared_error"]),
       seed=st.integers(0, 2**16))
def test_random_networks_agree_with_autograd(kinds, widths, N, loss, seed):
    """Every parameter gradient of every layer, and DX_0, equal autograd's (1e-10 relative)."""
    mlp, X = random_mlp(kinds, widths, N, seed)
    assert V.autograd_differences(mlp, X, loss, seed) == []


def test_every_layer_kind_is_covered_in_one_network():
    mlp, X = random_mlp(KINDS, [3, 4, 3, 2, 0, 4, 3, 2, 3], 4, 7)  # batch normalization keeps its width
    assert [type(layer).__name__ for layer in mlp.layers] == ["Linear", "Activation", "SReLULayer",
                                                               "BatchNormalization", "Softmax", "LogSoftmax",
                                                               "LinearDropout", "ActivationDropout"]
    assert V.autograd_differences(mlp, X, "squared_error") == []


def test_backpropagate_keeps_every_DX():
    mlp, X = V.torch_network("ReLU;BatchNormalization;Tanh;Linear", "3;4;2;2", 3)
    Y = mlp.feedforward(X)
    DY = as_torch(np.ones(tuple(Y.shape)))
    DX = mlp.backpropagate(Y.detach(), DY)
    assert len(mlp.DX) == len(mlp.layers) + 1
    assert mlp.DX[0] is DX and mlp.DX[-1] is DY
    assert [tuple(D.shape) for D in mlp.DX] == [(3, 3), (3, 4), (3, 4), (3, 2), (3, 2)]
    # DX_l is the gradient of elements_sum(Y) with respect to X_l, the input of layer l + 1
    inputs = [layer.X for layer in mlp.layers]
    grads = __import__("torch").autograd.grad(Y.sum(), inputs)
    for l, (expected, actual) in enumerate(zip(grads, mlp.DX)):
        assert np.allclose(actual.detach().numpy(), expected.numpy(), rtol=1e-10, atol=1e-12), l


# --- the symbolic network ----------------------------------------------------------------------

def test_symbolic_network_names_every_gradient_and_proves_them():
    net = V.symbolic_network("f;BatchNormalization;Linear", "2;2;2", 2)
    expected, actual = V.symbolic_gradients(net), V.library_gradients(net)
    assert list(expected) == ["DX0", "DW1", "Db1", "Dbeta2", "Dgamma2", "DW3", "Db3"] == list(actual)
    assert net.DY == net.T and net.X.shape == (2, 2)
    for difference in V.gradient_differences(expected, actual).values():
        assert difference == sp.zeros(*difference.shape)


def test_symbolic_network_with_a_loss_takes_its_gradient():
    net = V.symbolic_network("Tanh;Linear", "2;2;2", 2, loss="squared_error")
    assert net.DY == 2 * (net.Y - net.T)
    V.prove_network("Tanh;Linear", "2;2;2", 2, loss="squared_error")


def test_the_softmax_shift_is_proved_free():
    net = V.symbolic_network("f;Softmax", "2;2;2", 2)
    assert len(net.shifts) == 2 and not net.loss.subs(net.shifts).atoms(sp.Max)


class ScaledDW(Linear):
    """A linear layer with a wrong DW."""

    def backpropagate(self, Y, DY):
        DX = super().backpropagate(Y, DY)
        self.DW = 2 * self.DW
        return DX


def test_the_symbolic_proofs_detect_a_wrong_layer():
    net = V.symbolic_network("f;Linear", "2;2;2", 2)
    net.mlp.layers[1].__class__ = ScaledDW
    differences = V.gradient_differences(V.symbolic_gradients(net), V.library_gradients(net))
    assert [key for key, D in differences.items() if any(d != 0 for d in D)] == ["DW2"]
    from nerva_edu.validation.layers import SymPyValues, build_linear
    layer, X, _ = build_linear(SymPyValues(), 2, 2, 2)
    layer.__class__ = ScaledDW
    chain, library = V.inductive_step(layer, X)
    differences = V.gradient_differences(chain, library)
    assert [key for key, D in differences.items() if any(d != 0 for d in D)] == ["DW"]


def test_the_torch_check_detects_a_wrong_layer():
    mlp, X = V.torch_network("Tanh;Linear", "2;3;2", 3)
    mlp.layers[1].__class__ = ScaledDW
    assert [key for key, _ in V.autograd_differences(mlp, X)] == ["DW2"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown loss 'hinge'"):
        V.symbolic_network("Linear", "2;2", 2, loss="hinge")
    with pytest.raises(ValueError, match="got 2 sizes for 2 linear layers"):
        V.symbolic_network("f;Linear", "2;2", 2)
    with pytest.raises(ValueError, match="N must be a positive integer"):
        V.symbolic_network("Linear", "2;2", 0)
    with pytest.raises(ValueError, match="exists only in SymPy"):
        V.torch_network("f;Linear", "2;2;2", 2)
