"""Validation of the layers (spec §4 and the derivations of §4.1), on the layers' own code.

For every layer and every gradient it returns, the same procedure runs twice:

- SymPy: build the layer from matrices of symbols (small N, D, K; several shapes), run
  ``feedforward``, take the scalar loss L = elements_sum(Y ⊙ C) with a symbolic C (so
  that DY = C), run ``backpropagate(Y, C)``, and prove that DX and every D<parameter> equal
  ``sp.diff`` of L with respect to each entry (``simplify`` of the difference is zero).
- Numeric, with the torch and the JAX oracle (``nerva_edu.validation.oracles``): the same with
  float64 values of the oracle's kind and a random C; the gradients are compared with the
  vector-Jacobian product C·J of the oracle's automatic differentiation of the layer's own
  feedforward, as a function of X and the parameters (relative tolerance 1e-10).

Two devices keep the symbolic proofs short and exact:

- the stable softmax functions subtract the row maximum m = max(z); L does not depend on m
  (this is proved: ∂L/∂m simplifies to 0), so m is replaced by a free symbol before
  differentiating;
- SReLU is piecewise, and its pieces are decided by comparisons of symbolic entries of Z
  with t_l and t_r. There the gradients are first derived symbolically and then evaluated
  at exact rational points (X, W, b, t_l, t_r) whose entries of Z fall strictly inside every
  piece (away from the kinks), keeping a_l, a_r and C symbolic.

Besides the gradients, the printed forms of the spec that the code computes differently
(for speed) are proved equal to the code: the softmax layer's DZ with diag(DY·Yᵀ), batch
normalization's R, Σ and DX of (25) with their N×N matrices.
"""

import numpy as np
import sympy as sp

from nerva_edu import matrix as M
from nerva_edu.activations import AllReLU, LeakyReLU, ReLU, Sigmoid, SReLU, Tanh, _Activation
from nerva_edu.backends import Elementwise
from nerva_edu.layers import (Activation, ActivationDropout, BatchNormalization, Linear, LinearDropout, LogSoftmax,
                              Softmax, SReLULayer)
from nerva_edu.registry import register
from nerva_edu.softmax import softmax_batch
from nerva_edu.symbolic import assert_equal, derive_gradients, symbolic_matrix
from nerva_edu.validation import assert_close

CHAPTER = "book/04-layer-equations"
SHAPES = [(2, 2, 2), (3, 2, 1), (1, 3, 2)]           # (N, D, K)


class SymPyValues:
    """Values for the symbolic run: matrices of symbols and scalar symbols."""
    kind = "sympy"

    def matrix(self, name, m, n):
        return symbolic_matrix(name, m, n)

    def scalar(self, name, value):
        return sp.Symbol(name, real=True)


class OracleValues:
    """Values for the numeric run: random float64 values of an oracle's kind."""

    def __init__(self, oracle, seed=0):
        self.oracle, self.kind, self.rng = oracle, oracle.name, np.random.default_rng(seed)

    def matrix(self, name, m, n):
        return self.oracle.array(self.rng.standard_normal((m, n)))

    def scalar(self, name, value):
        return self.oracle.scalar(value)


def _gradients(layer, X, DX):
    """(name, value, gradient) for X and every parameter, after backpropagate."""
    return [("X", X, DX)] + [(name, getattr(layer, name), getattr(layer, "D" + name))
                                   for name in layer.parameter_names]


def sympy_gradients(build, shapes, at=None):
    """SymPy check of every gradient of the layer made by build(values, N, D, K), with
    ``nerva_edu.symbolic.derive_gradients`` (the function the book's chapter 4 shows).

    ``at(layer, X)``, if given, returns exact values for some symbols, substituted after
    differentiating (for piecewise layers)."""
    def check():
        for N, D, K in shapes:
            layer, X, options = build(SymPyValues(), N, D, K)
            for d in derive_gradients(layer, X, at=at, **options):
                if not d.proved:
                    raise AssertionError(f"{type(layer).__name__} D{d.name} (N, D, K = {N, D, K}): difference "
                                         f"does not vanish:\n{d.difference}")
    return check


def autodiff_gradients(build, shapes, seeds=(0, 1)):
    """Numeric check of every gradient of the layer made by build(values, N, D, K): DX and each
    D<parameter> from ``backpropagate(Y, C)`` equal the oracle's C·J of ``feedforward``."""
    def check(oracle):
        for seed in seeds:
            for N, D, K in shapes:
                layer, X, options = build(OracleValues(oracle, seed), N, D, K)
                parameters = [getattr(layer, name) for name in layer.parameter_names]
                Y = layer.feedforward(X, **options)
                if isinstance(layer, LinearDropout) and layer.R is not None:
                    options = dict(options, R=layer.R)      # differentiate with the mask just drawn

                def feedforward(X, *values):
                    for name, value in zip(layer.parameter_names, values):
                        setattr(layer, name, value)
                    return layer.feedforward(X, **options)
                C = oracle.array(np.random.default_rng(seed + 100).standard_normal(M.shape(Y)))
                state = dict(vars(layer))
                expected = oracle.vjp(feedforward, [X, *parameters], C)
                vars(layer).update(state)           # not the differentiated run's values (JAX: tracers)
                Y = layer.feedforward(X, **options)
                for (name, _, D_), gradient in zip(_gradients(layer, X, layer.backpropagate(Y, C)), expected):
                    assert_close(D_, gradient, f"{type(layer).__name__} D{name} vs {oracle.name} autodiff "
                                               f"(N, D, K = {N, D, K})")
    return check


# --- the layers, built from values of either kind --------------------------------------------

def _linear_parameters(values, N, D, K):
    return values.matrix("x", N, D), values.matrix("w", K, D), values.matrix("b", 1, K)


def build_linear(values, N, D, K):
    X, W, b = _linear_parameters(values, N, D, K)
    return Linear(W, b), X, {}


def build_activation(act):
    def build(values, N, D, K):
        X, W, b = _linear_parameters(values, N, D, K)
        return Activation(W, b, act), X, {}
    return build


_f, _u = sp.Function("f"), sp.Dummy("u")


class GenericActivation(_Activation):
    """An arbitrary differentiable function f (a SymPy undefined function) and its derivative
    f' (evaluated at z), for the symbolic proof of the activation layer for every activation."""
    function = Elementwise("f", numpy=None, torch=None, jax=None, sympy=_f)
    derivative = Elementwise("f'", numpy=None, torch=None, jax=None,
                             sympy=lambda z: sp.Subs(sp.Derivative(_f(_u), _u), _u, z))


def _numeric_activation_layers(oracle):
    for act in (ReLU(), LeakyReLU(0.1), AllReLU(-0.3), SReLU(0.1, -0.5, 0.2, 0.7), Tanh(), Sigmoid()):
        autodiff_gradients(build_activation(act), SHAPES[:2])(oracle)


def build_srelu(values, N, D, K):
    X, W, b = _linear_parameters(values, N, D, K)
    parameters = [values.scalar(name, value) for name, value in (("a_l", 0.1), ("t_l", -0.5), ("a_r", 0.2),
                                                                   ("t_r", 0.7))]
    return SReLULayer(W, b, *parameters), X, {}


def srelu_point(overlap):
    """Exact values for X, W, b, t_l, t_r that put the entries of Z strictly inside the pieces
    of srelu (left, middle and right; or, with overlapping thresholds t_r < t_l, both ends)."""
    def at(layer, X):
        rng = np.random.default_rng(3)
        point = {}
        for A in (X, layer.W, layer.b):              # multiples of 1/4, so Z is a multiple of 1/16
            point.update({a: sp.Rational(int(v), 4) for a, v in zip(A, rng.integers(-8, 9, len(A)))})
        Z = sorted(set(layer.Z.subs(point)))
        low, high = Z[len(Z) // 3], Z[(2 * len(Z)) // 3]
        gap = sp.Rational(1, 32)                     # no entry of Z lies on a threshold
        tl, tr = (high + gap, low - gap) if overlap else (low + gap, high + gap)
        point.update({layer.tl: tl, layer.tr: tr})
        return point
    return at


def _sympy_srelu():
    for overlap in (False, True):
        sympy_gradients(build_srelu, [(3, 2, 2)], at=srelu_point(overlap))()


def build_softmax(layer_class):
    def build(values, N, D, K):
        X, W, b = _linear_parameters(values, N, D, K)
        return layer_class(W, b), X, {}
    return build


def _sympy_softmax_printed_DZ():
    """The softmax layer's DZ as printed, Y ⊙ (DY − diag(DY·Yᵀ)·1_Kᵀ), equals the layer's DZ
    (which computes diag(DY·Yᵀ) as rows_sum(DY ⊙ Y))."""
    N, D, K = 2, 2, 3
    layer, X, _ = build_softmax(Softmax)(SymPyValues(), N, D, K)
    Y = layer.feedforward(X)
    DY = symbolic_matrix("c", N, K)
    layer.backpropagate(Y, DY)
    printed = M.hadamard(Y, DY - M.diag(DY @ Y.T) @ M.ones(K, like=Y).T)
    assert_equal(layer.DZ, printed, "softmax layer: DZ = Y ⊙ (DY − diag(DY·Yᵀ)·1_Kᵀ)")


def _sympy_softmax_layer():
    sympy_gradients(build_softmax(Softmax), SHAPES[:2])()
    _sympy_softmax_printed_DZ()


def _sympy_log_softmax_printed_DZ():
    """Equation (17) as printed, DZ = DY − softmax(Z) ⊙ (DY·1_K·1_Kᵀ), equals the layer's DZ."""
    N, D, K = 2, 2, 3
    layer, X, _ = build_softmax(LogSoftmax)(SymPyValues(), N, D, K)
    Y = layer.feedforward(X)
    DY = symbolic_matrix("c", N, K)
    layer.backpropagate(Y, DY)
    ones = M.ones(K, like=Y)
    printed = DY - M.hadamard(softmax_batch(layer.Z), DY @ ones @ ones.T)
    assert_equal(layer.DZ, printed, "log-softmax layer: DZ = DY − softmax(Z) ⊙ (DY·1_K·1_Kᵀ)")


def _sympy_log_softmax_layer():
    sympy_gradients(build_softmax(LogSoftmax), SHAPES[:2])()
    _sympy_log_softmax_printed_DZ()


EPSILON = sp.Symbol("epsilon", positive=True)


def build_batch_norm(training=True, epsilon=EPSILON):
    def build(values, N, D, K):
        X = values.matrix("x", N, K)
        layer = BatchNormalization(values.matrix("beta", 1, K), values.matrix("gamma", 1, K),
                                   epsilon=epsilon if values.kind == "sympy" else 1e-5)
        if not training:
            layer.running_mean, layer.running_variance = _running_statistics(values, K)
            layer.training = False
        return layer, X, {}
    return build


def _running_statistics(values, K):
    if values.kind == "sympy":
        return symbolic_matrix("mu", 1, K), symbolic_matrix("v", 1, K, positive=True)
    rng = values.rng
    return values.oracle.array(rng.standard_normal((1, K))), values.oracle.array(rng.uniform(0.5, 2.0, (1, K)))


def _sympy_batch_norm_printed():
    """R, Σ and DX as printed (with their N×N matrices) equal the layer's R, Σ and DX."""
    N, K = 3, 2
    layer, X, _ = build_batch_norm()(SymPyValues(), N, 0, K)
    Y = layer.feedforward(X)
    DY = symbolic_matrix("c", N, K)
    DX = layer.backpropagate(Y, DY)
    ones, I = M.ones(N, like=X), M.identity(N, like=X)
    R = X - (ones @ ones.T / N) @ X
    assert_equal(layer.R, R, "R = X − (1_N·1_Nᵀ/N)·X")
    Sigma = M.diag(R.T @ R).T / N
    assert_equal(layer.Sigma, Sigma, "Σ = (1/N)·diag(RᵀR)ᵀ")
    inv_sqrt = M.inv_sqrt(Sigma + EPSILON * M.ones(1, K, like=Sigma))
    Z = M.hadamard(ones @ inv_sqrt, R)
    assert_equal(layer.Z, Z, "Z = (1_N·Σ^(−1/2)) ⊙ R")
    DZ = M.hadamard(ones @ layer.gamma, DY)
    printed = M.hadamard((1 / N) * ones @ inv_sqrt,
                         (N * I - ones @ ones.T) @ DZ - M.hadamard(Z, ones @ M.diag(Z.T @ DZ).T))
    assert_equal(DX, printed, "(25): DX")


def _sympy_batch_norm():
    sympy_gradients(build_batch_norm(), [(2, 0, 2), (3, 0, 1)])()
    _sympy_batch_norm_printed()


def _torch_batch_norm_forward():
    """Training-mode Y agrees with torch.nn.functional.batch_norm (batch statistics, ε inside the root)."""
    import torch
    from nerva_edu.registry import oracle
    layer, X, _ = build_batch_norm()(OracleValues(oracle("torch"), 4), 5, 0, 3)
    Y = layer.feedforward(X)
    expected = torch.nn.functional.batch_norm(X, None, None, layer.gamma.flatten(), layer.beta.flatten(),
                                              training=True, eps=1e-5)
    assert_close(Y, expected, "BatchNormalization Y vs torch batch_norm")


def _torch_batch_norm_evaluation():
    """Running statistics and evaluation output agree with torch.nn.BatchNorm1d (momentum 0.1,
    ε = 1e-5, unbiased running variance)."""
    import torch
    rng = np.random.default_rng(9)
    K = 3
    reference = torch.nn.BatchNorm1d(K, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(rng.uniform(0.5, 1.5, K)))
        reference.bias.copy_(torch.tensor(rng.standard_normal(K)))
    layer = BatchNormalization(reference.bias.detach().reshape(1, K).clone(),
                               reference.weight.detach().reshape(1, K).clone(), momentum=0.1, epsilon=1e-5)
    for _ in range(3):
        X = torch.tensor(2 + 3 * rng.standard_normal((6, K)))
        layer.feedforward(X)
        reference(X)
    assert_close(layer.running_mean, reference.running_mean.reshape(1, K), "running mean vs BatchNorm1d")
    assert_close(layer.running_variance, reference.running_var.reshape(1, K), "running variance vs BatchNorm1d")
    layer.training = False
    reference.eval()
    X = torch.tensor(rng.standard_normal((1, K)))
    assert_close(layer.feedforward(X), reference(X), "evaluation Y (N = 1) vs BatchNorm1d")


def build_linear_dropout(values, N, D, K):
    X, W, b = _linear_parameters(values, N, D, K)
    layer = LinearDropout(W, b, keep_probability=0.7, rng=np.random.default_rng(N + D + K))
    return layer, X, _mask_option(values, D, K)


def build_activation_dropout(values, N, D, K):
    X, W, b = _linear_parameters(values, N, D, K)
    layer = ActivationDropout(W, b, Tanh(), keep_probability=0.7, rng=np.random.default_rng(N + D + K))
    return layer, X, _mask_option(values, D, K)


def _mask_option(values, D, K):
    """A symbolic mask R (D×K) for SymPy; for torch, the layer draws its own mask."""
    return {"R": symbolic_matrix("r", D, K)} if values.kind == "sympy" else {}


register("linear.backward", "§4 linear layer", CHAPTER, Linear,
         sympy=sympy_gradients(build_linear, SHAPES), numeric=autodiff_gradients(build_linear, SHAPES))
register("activation.backward", "§4 activation layer", CHAPTER, Activation,
         sympy=sympy_gradients(build_activation(GenericActivation()), SHAPES), numeric=_numeric_activation_layers)
register("srelu.backward", "§4 srelu layer", CHAPTER, SReLULayer, sympy=_sympy_srelu,
         numeric=autodiff_gradients(build_srelu, SHAPES))
register("softmax_layer.backward", "§4 softmax layer", CHAPTER, Softmax, sympy=_sympy_softmax_layer,
         numeric=autodiff_gradients(build_softmax(Softmax), SHAPES))
register("log_softmax_layer.backward", "eq. (17)", CHAPTER, LogSoftmax, sympy=_sympy_log_softmax_layer,
         numeric=autodiff_gradients(build_softmax(LogSoftmax), SHAPES))
register("batch_norm.backward", "eq. (25)", CHAPTER, BatchNormalization, sympy=_sympy_batch_norm,
         numeric=autodiff_gradients(build_batch_norm(), [(2, 0, 2), (5, 0, 3)]), torch_only=_torch_batch_norm_forward)
register("batch_norm.evaluation", "§4 batch normalization", CHAPTER, BatchNormalization,
         sympy=sympy_gradients(build_batch_norm(training=False), [(2, 0, 2)]),
         numeric=autodiff_gradients(build_batch_norm(training=False), [(1, 0, 3), (4, 0, 2)]),
         torch_only=_torch_batch_norm_evaluation)
register("linear_dropout.backward", "§4 linear dropout layer", CHAPTER, LinearDropout,
         sympy=sympy_gradients(build_linear_dropout, SHAPES[:2]),
         numeric=autodiff_gradients(build_linear_dropout, SHAPES))
register("activation_dropout.backward", "§4 activation dropout layer", CHAPTER, ActivationDropout,
         sympy=sympy_gradients(build_activation_dropout, SHAPES[:2]),
         numeric=autodiff_gradients(build_activation_dropout, SHAPES))
