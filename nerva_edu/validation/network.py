"""Backpropagation through a whole network, proved on the library's own MLP.

The theorem: for X₀ = X, X_l = layer_l(X_{l−1}) (l = 1..L) and a loss L(X_L), the backward
recursion of ``MLP.backpropagate`` (DX_L = ∇_{X_L} L; each layer turns DX_l into the gradients
of its parameters and DX_{l−1}) gives ∇_θ L for every parameter θ of every layer. It is
proved by induction over the layers counted from the output; this module checks it in two
ways, both on the code that trains (``nerva_edu.mlp.MLP`` and the layers of chapter 4):

- **The whole network** (:func:`symbolic_network`, :func:`symbolic_gradients`,
  :func:`library_gradients`, :func:`gradient_differences`): an MLP built by ``build_mlp`` whose
  input and parameters are matrices of symbols runs its ``feedforward``; the loss is
  elements_sum(X_L ⊙ C) with a symbolic C (so DX_L = C is arbitrary), or a loss of
  ``nerva_edu.losses`` against symbolic targets T. ``sp.diff`` of that scalar with respect to
  every entry of X and of every parameter must equal, entry by entry, what the MLP's backward
  pass returns. A layer item ``"f"`` is an activation layer with an arbitrary differentiable
  f (a SymPy undefined function), which proves the result for every activation at once.
- **The inductive step** (:func:`inductive_step`): for one layer with symbolic parameters and
  input X_{l−1}, the rest of the network and the loss are an arbitrary function ℓ(X_l) (an
  undefined SymPy function of all entries of X_l). The inductive hypothesis gives
  DX_l = ∇_{X_l} ℓ; the layer's backpropagate, given that DX_l, must return the chain rule
  ∂ℓ(X_l(θ, X_{l−1}))/∂θ for each of its parameters θ and for X_{l−1}, which ``sp.diff``
  computes. (SReLU is piecewise: there exact values inside its pieces are put in after
  differentiating, as in ``nerva_edu.validation.layers``.)

The numeric checks (:func:`oracle_differences`) run the same networks on float64 values of
torch and of JAX and compare every gradient with each framework's automatic differentiation
(relative tolerance 1e-10 of the largest entry, plus 1e-12 for gradients that are 0);
:func:`torch_network` and :func:`autograd_differences` do the same on networks built by hand.

Gradients are named by the parameter and the position l of its layer (1-based):
``DW1``, ``Db1``, ``Dbeta2``, ``Dgamma2``, ``Dal3``, ...; ``DX0`` is the gradient with respect to
the input X₀ = X.
"""

from dataclasses import dataclass

import numpy as np
import sympy as sp

from nerva_edu import matrix as M
from nerva_edu.layers import Activation, BatchNormalization
from nerva_edu.losses import LOSSES
from nerva_edu.mlp import MLP, build_mlp
from nerva_edu.optimizers import GradientDescent
from nerva_edu.parsing import split_list
from nerva_edu.registry import register
from nerva_edu.symbolic import gradient, symbolic_matrix
from nerva_edu.validation import as_numpy, as_torch
from nerva_edu.validation import layers as L
from nerva_edu.validation.layers import EPSILON, GenericActivation, SymPyValues

CHAPTER = "book/06b-backpropagation"
GENERIC = "f"     # a layer item: an activation layer with an arbitrary differentiable f


# --- building a network whose parameters are given ------------------------------------------

def _items(layers):
    return split_list(layers, "layers") if isinstance(layers, str) else list(layers)


def network(layers, sizes, parameter):
    """The MLP of ``build_mlp(layers, sizes)`` whose every parameter is replaced by
    ``parameter(key, value)`` (key such as "W1" or "al3", value the initial one), with an item
    ``"f"`` of ``layers`` an activation layer with an arbitrary function (SymPy only). Batch
    normalization's running statistics become zeros and ones of the parameters' kind."""
    items = _items(layers)
    built = build_mlp(["Linear" if item == GENERIC else item for item in items], sizes).layers
    result = []
    for position, (item, layer) in enumerate(zip(items, built), start=1):
        if item == GENERIC:
            layer = Activation(layer.W, layer.b, GenericActivation())
        for name in layer.parameter_names:
            setattr(layer, name, parameter(f"{name}{position}", getattr(layer, name)))
        if isinstance(layer, BatchNormalization):
            K = layer.output_size
            layer.running_mean, layer.running_variance = M.zeros(1, K, like=layer.beta), M.ones(1, K, like=layer.beta)
        result.append(layer)
    return MLP(result, [GradientDescent() for _ in result])


def parameters(mlp):
    """[(key, layer, name)] for every parameter of every layer: key = name + the layer's
    position (1-based), e.g. ("W1", layer, "W")."""
    return [(f"{name}{position}", layer, name)
            for position, layer in enumerate(mlp.layers, start=1) for name in layer.parameter_names]


def backpropagated_gradients(mlp, DX0):
    """{"DX0": DX0, "DW1": ..., "Db1": ..., ...}: the gradient ``MLP.backpropagate`` returned
    and those it set on the layers (D + each parameter's name, keyed as :func:`parameters`)."""
    return {"DX0": DX0, **{"D" + key: getattr(layer, "D" + name) for key, layer, name in parameters(mlp)}}


def _latex_name(key, name):
    """The symbol name of a parameter: w^{(1)}, b^{(1)}, beta^{(2)}, a_l^{(3)}, ..."""
    position = key[len(name):]
    base = {"W": "w", "al": "a_l", "tl": "t_l", "ar": "a_r", "tr": "t_r"}.get(name, name)
    return f"{base}^{{({position})}}"


def _symbol(key, value):
    """A symbolic parameter with the shape of ``value`` (a matrix, or a scalar for SReLU)."""
    name = key.rstrip("0123456789")
    if np.ndim(value) == 0:
        return sp.Symbol(_latex_name(key, name), real=True)
    return symbolic_matrix(_latex_name(key, name), *np.shape(value))


# --- the whole network in SymPy -----------------------------------------------------------

@dataclass
class SymbolicNetwork:
    """A network after its feedforward on symbols: the ``mlp``, its input ``X`` (N×D) and
    output ``Y`` = X_L, the scalar ``loss`` L(Y) and ``DY`` = ∇_Y L, the targets ``T`` (or the
    weights C of elements_sum(Y ⊙ C)); ``shifts`` maps the row maxima of stable softmax
    functions to free symbols (proved not to change Y)."""
    mlp: MLP
    X: sp.Matrix
    Y: sp.Matrix
    loss: sp.Expr
    DY: sp.Matrix
    T: sp.Matrix
    shifts: dict


def free_shifts(Y):
    """{Max(...): m_i} for the row maxima in Y, after proving that no entry of Y depends on
    them (the stable softmax subtracts a row's maximum, which cancels)."""
    maxima = sorted(set().union(*(sp.sympify(y).atoms(sp.Max) for y in Y)), key=sp.default_sort_key)
    shifts = {maximum: sp.Symbol(f"m_{i}", real=True) for i, maximum in enumerate(maxima)}
    freed = Y.subs(shifts)
    for m in shifts.values():
        dependence = [sp.simplify(sp.diff(y, m)) for y in freed]
        if any(d != 0 for d in dependence):
            raise AssertionError(f"the output depends on the softmax shift {m}: ∂Y/∂{m} = {dependence}")
    return shifts


def symbolic_network(layers, sizes, N, loss=None, epsilon=EPSILON):
    """The MLP of ``build_mlp(layers, sizes)`` with symbolic input X (N×D) and parameters, after
    its feedforward, as a :class:`SymbolicNetwork`.

    ``loss=None`` takes L = elements_sum(Y ⊙ C) with a symbolic C (so DY = C); a key of
    ``nerva_edu.losses.LOSSES`` (e.g. "squared_error") takes that loss against symbolic
    targets T, with DY its gradient. Batch normalization uses the symbol ε (positive).
    """
    if isinstance(N, bool) or not isinstance(N, int) or N < 1:
        raise ValueError(f"symbolic_network: N must be a positive integer (the number of examples), got {N!r}")
    if loss is not None and loss not in LOSSES:
        raise ValueError(f"symbolic_network: unknown loss {loss!r}; accepted: None, {', '.join(LOSSES)}")
    mlp = network(layers, sizes, _symbol)
    for layer in mlp.layers:
        if isinstance(layer, BatchNormalization):
            layer.epsilon = epsilon
    X = symbolic_matrix("x", N, mlp.layers[0].input_size)
    Y = mlp.feedforward(X)
    shifts = free_shifts(Y)
    if loss is None:
        T = symbolic_matrix("c", *Y.shape)
        value, DY = M.elements_sum(M.hadamard(Y, T)), T
    else:
        T = symbolic_matrix("t", *Y.shape, positive=True)
        value, DY = LOSSES[loss](Y, T), LOSSES[loss].gradient(Y, T)
    return SymbolicNetwork(mlp, X, Y, value, DY, T, shifts)


def _is_matrix(value):
    return isinstance(value, sp.MatrixBase)


def symbolic_gradients(net):
    """{"DX0": ∇_X L, "DW1": ∇_{W1} L, ...}: the gradient of the whole network's loss with
    respect to the input and every parameter of every layer, by ``sp.diff`` of the scalar L."""
    loss = sp.sympify(net.loss).subs(net.shifts)
    result = {"DX0": gradient(loss, net.X)}
    for key, layer, name in parameters(net.mlp):
        value = getattr(layer, name)
        result["D" + key] = gradient(loss, value) if _is_matrix(value) else sp.diff(loss, value)
    return result


def library_gradients(net):
    """{"DX0": ..., "DW1": ..., ...}: what ``MLP.backpropagate(Y, DY)`` returns (DX0) and sets
    on the layers (D + each parameter's name)."""
    result = backpropagated_gradients(net.mlp, net.mlp.backpropagate(net.Y, net.DY))
    return {key: sp.sympify(value).subs(net.shifts) for key, value in result.items()}


def _reduce(entry):
    """An entry of a difference, expanded (which is enough for most), else simplified; an entry
    that is not zero at a point (evaluated to 30 digits) is left expanded, as simplifying it is
    slow and cannot make it zero."""
    expanded = sp.expand(entry)
    if expanded == 0 or _nonzero_at_a_point(expanded):
        return expanded
    return sp.simplify(expanded)


def _nonzero_at_a_point(expression):
    """True if the expression is a number farther than 1e-12 from 0 at a point where every symbol
    lies in [1/2, 3/2] (False when it cannot be evaluated, e.g. with an undefined function)."""
    rng = np.random.default_rng(0)
    point = {symbol: sp.Rational(int(rng.integers(50, 150)), 100)
             for symbol in sorted(expression.free_symbols, key=sp.default_sort_key)}
    value = expression.evalf(30, subs=point)
    return value.is_number and not value.has(sp.Function, sp.Subs, sp.Derivative) and abs(complex(value)) > 1e-12


def gradient_differences(expected, actual):
    """{key: expected[key] − actual[key], reduced entry by entry} (zero when they agree)."""
    if set(expected) != set(actual):
        raise AssertionError(f"different gradients: {sorted(expected)} vs {sorted(actual)}")
    return {key: (expected[key] - actual[key]).applyfunc(_reduce) if _is_matrix(expected[key])
            else _reduce(expected[key] - actual[key]) for key in expected}


def _assert_zero(differences, what):
    for key, difference in differences.items():
        entries = difference if _is_matrix(difference) else [difference]
        if any(entry != 0 for entry in entries):
            raise AssertionError(f"{what}: {key} differs from sp.diff by {difference}")


def prove_network(layers, sizes, N, loss=None):
    """SymPy proof that the MLP's backward pass gives the gradient of the loss with respect to
    the input and every parameter of every layer (AssertionError naming the gradient)."""
    net = symbolic_network(layers, sizes, N, loss)
    _assert_zero(gradient_differences(symbolic_gradients(net), library_gradients(net)),
                 f"network {layers} ({sizes}, N = {N}, loss {loss or 'elements_sum(Y ⊙ C)'})")


# --- the inductive step for one layer ----------------------------------------------------

def inductive_step(layer, X, **options):
    """(chain rule, library) for one layer with symbolic parameters and input X = X_{l−1}.

    The rest of the network and the loss are an arbitrary function ℓ of the layer's output
    X_l (an undefined function of all its entries). The inductive hypothesis gives DX_l =
    ∇_{X_l} ℓ; the layer's ``backpropagate`` is given that DX_l. Returns two dicts keyed "DX"
    (for X_{l−1}) and "D" + each parameter's name: ``sp.diff`` of ℓ(X_l(θ, X_{l−1})), which
    applies the chain rule, and what the layer returned. ``options`` go to ``feedforward``
    (a dropout mask R).
    """
    Y = layer.feedforward(X, **options)
    shifts = free_shifts(Y)
    U = symbolic_matrix("u", *Y.shape)
    ell = sp.Function("ell")(*U)
    at = dict(zip(U, Y.subs(shifts)))
    DX_l = gradient(ell, U).subs(at)               # the inductive hypothesis: DX_l = ∇ ℓ at X_l
    loss = ell.subs(at)
    values = [("DX", X, layer.backpropagate(Y, DX_l))]
    values += [("D" + name, getattr(layer, name), getattr(layer, "D" + name)) for name in layer.parameter_names]
    chain, library = {}, {}
    for key, value, returned in values:
        chain[key] = gradient(loss, value) if _is_matrix(value) else sp.diff(loss, value)
        library[key] = sp.sympify(returned).subs(shifts)
    return chain, library


def prove_inductive_step(build, N, D, K, at=None):
    """SymPy proof of the inductive step for the layer made by ``build(values, N, D, K)`` (a
    builder of ``nerva_edu.validation.layers``). ``at(layer, X)``, if given, returns exact values
    for some symbols, put in after differentiating (for the pieces of SReLU)."""
    layer, X, options = build(SymPyValues(), N, D, K)
    chain, library = inductive_step(layer, X, **options)
    if at is not None:
        point = at(layer, X)
        chain, library = ({key: sp.sympify(value).xreplace(point) for key, value in gradients.items()}
                          for gradients in (chain, library))
    _assert_zero(gradient_differences(chain, library), f"inductive step, {type(layer).__name__} (N, D, K = {N, D, K})")


# --- torch float64 against autograd -------------------------------------------------------

def random_parameter(rng):
    """``parameter`` for :func:`network`: float64 tensors with standard normal entries that
    record gradients; SReLU's thresholds t_l < t_r, its slopes in (0, 1)."""
    def parameter(key, value):
        return as_torch(_random_number(rng, key, value)).reshape(np.shape(value)).requires_grad_(True)
    return parameter


def torch_network(layers, sizes, N, seed=0):
    """(mlp, X): the network of :func:`network` with random float64 torch parameters and a
    random input X (N×D), all recording gradients. The arbitrary activation "f" has no numbers:
    name a concrete one (ValueError)."""
    if GENERIC in _items(layers):
        raise ValueError(f"torch_network: {layers!r}: the item {GENERIC!r} (an arbitrary activation) exists only in "
                         f"SymPy; name a concrete activation such as Tanh")
    rng = np.random.default_rng(seed)
    mlp = network(layers, sizes, random_parameter(rng))
    X = as_torch(rng.standard_normal((N, mlp.layers[0].input_size))).requires_grad_(True)
    return mlp, X


def autograd_differences(mlp, X, loss=None, seed=0, rtol=1e-10, atol=1e-12):
    """Run ``mlp`` (torch parameters recording gradients) on X, backpropagate the loss
    (elements_sum(Y ⊙ C) with a random C when ``loss`` is None, else LOSSES[loss] against random
    positive targets) through the MLP and through autograd; returns [(key, largest relative
    deviation)] for every gradient G whose deviation from autograd's A exceeds rtol·max|A| + atol·s,
    s = 1 + the largest entry of any DX_l (empty when all agree)."""
    import torch
    Y = mlp.feedforward(X)
    rng = np.random.default_rng(seed + 1000)
    T = as_torch(rng.uniform(0.1, 1.0, tuple(Y.shape)) if loss else rng.standard_normal(tuple(Y.shape)))
    value, DY = (M.elements_sum(M.hadamard(Y, T)), T) if loss is None else (LOSSES[loss](Y, T),
                                                                           LOSSES[loss].gradient(Y.detach(), T))
    wrt = [("DX0", X)] + [("D" + key, getattr(layer, name)) for key, layer, name in parameters(mlp)]
    autograd = torch.autograd.grad(value, [value_ for _, value_ in wrt], allow_unused=True)
    library = backpropagated_gradients(mlp, mlp.backpropagate(Y.detach(), DY))
    return deviations(library, {key: expected if expected is not None else 0 * library[key]
                                for (key, _), expected in zip(wrt, autograd)}, rtol, atol * _gradient_scale(mlp))


def _gradient_scale(mlp):
    """1 + the largest entry of any DX_l of the last backward pass: a gradient that is exactly 0
    (β before a batch normalization, whose DX sums to 0 over the batch) comes out as the rounding
    of a sum of such entries, so the absolute tolerance grows with them."""
    return 1 + max(float(np.max(np.abs(as_numpy(DX)), initial=0)) for DX in mlp.DX)


def deviations(library, expected, rtol=1e-10, atol=1e-12):
    """[(key, largest relative deviation)] for every gradient library[key] that differs from
    expected[key] by more than rtol·max|expected| + atol (empty when all agree)."""
    failures = []
    for key, reference in expected.items():
        actual, reference = as_numpy(library[key]), as_numpy(reference)
        if actual.shape != reference.shape:
            failures.append((key, np.inf))
            continue
        scale, error = np.max(np.abs(reference)), np.max(np.abs(actual - reference))
        if not error <= rtol * scale + atol:
            failures.append((key, float(error / scale) if scale else np.inf))
    return failures


def _random_number(rng, key, value):
    """A random float64 value for the parameter ``key`` of the shape of ``value``: standard
    normal entries; SReLU's thresholds t_l < t_r, its slopes in (0, 1)."""
    if np.ndim(value) == 0:
        return {"al": rng.uniform(0, 1), "ar": rng.uniform(0, 1), "tl": rng.uniform(-1, -0.1),
                "tr": rng.uniform(0.1, 1)}[key.rstrip("0123456789")]
    return rng.standard_normal(np.shape(value))


def oracle_differences(oracle, layers, sizes, N, loss=None, seed=0, rtol=1e-10, atol=1e-12):
    """The network of :func:`network` with random float64 parameters and input X of the
    ``oracle``'s kind (``nerva_edu.validation.oracles``), the loss of :func:`autograd_differences`:
    [(key, largest relative deviation)] for every gradient that ``MLP.backpropagate`` returns or
    sets and that differs from the oracle's automatic differentiation of the loss as a function
    of X and of every parameter (empty when all agree)."""
    rng = np.random.default_rng(seed)
    numbers = {}

    def parameter(key, value):
        numbers[key] = _random_number(rng, key, value)
        return oracle.scalar(numbers[key]) if np.ndim(value) == 0 else oracle.array(numbers[key])
    mlp = network(layers, sizes, parameter)
    keys = list(numbers)
    X = oracle.array(rng.standard_normal((N, mlp.layers[0].input_size)))
    Y = mlp.feedforward(X)
    targets = np.random.default_rng(seed + 1000)
    T = oracle.array(targets.uniform(0.1, 1.0, tuple(Y.shape)) if loss else targets.standard_normal(tuple(Y.shape)))

    def value(Y):
        return M.elements_sum(M.hadamard(Y, T)) if loss is None else LOSSES[loss](Y, T)

    def loss_of(X, *values):
        given = dict(zip(keys, values))
        return value(network(layers, sizes, lambda key, _: given[key]).feedforward(X))
    expected = oracle.grad(loss_of, [X] + [parameter_ for _, layer, name in parameters(mlp)
                                           for parameter_ in [getattr(layer, name)]])
    library = backpropagated_gradients(mlp, mlp.backpropagate(Y, T if loss is None else LOSSES[loss].gradient(Y, T)))
    return deviations(library, dict(zip(["DX0"] + ["D" + key for key in keys], expected)), rtol,
                      atol * _gradient_scale(mlp))


def assert_oracle(oracle, layers, sizes, N, loss=None, seeds=(0, 1)):
    """float64 check of the network's gradients against the oracle's automatic differentiation
    (torch or JAX; AssertionError naming the gradients that differ)."""
    for seed in seeds:
        failures = oracle_differences(oracle, layers, sizes, N, loss, seed)
        if failures:
            listed = ", ".join(f"{key} (relative deviation {deviation:.2e})" for key, deviation in failures)
            raise AssertionError(f"network {layers} ({sizes}, N = {N}, seed {seed}) vs {oracle.name}: {listed}")


# --- the registry ------------------------------------------------------------------------------
# (layers, sizes, N, loss): the SymPy proofs use the arbitrary activation f; the numeric checks run
# each network once with each activation of NUMERIC_ACTIVATIONS in the place of f, on NUMERIC_N examples.

NETWORKS = {
    "network.depth1": [("f", "3;2", 2, None), ("Sigmoid", "2;2", 2, "squared_error")],
    "network.depth2": [("f;Linear", "2;3;2", 2, None), ("Tanh;Linear", "2;2;2", 2, "squared_error")],
    "network.depth3": [("f;f;Linear", "2;2;2;2", 2, None)],
    "network.batch_norm": [("f;BatchNormalization;Linear", "2;2;2", 2, None)],
    "network.softmax": [("f;Softmax", "2;2;2", 2, None)],
    "network.log_softmax": [("f;LogSoftmax", "2;2;2", 2, None)],
}
NUMERIC_ACTIVATIONS = ["Tanh", "ReLU", "Sigmoid"]
NUMERIC_N = 5


def _with_activation(layers, activation):
    return ";".join(activation if item == GENERIC else item for item in _items(layers))


def _sympy_check(cases):
    def check():
        for layers, sizes, N, loss in cases:
            prove_network(layers, sizes, N, loss)
    return check


def _numeric_check(cases):
    def check(oracle):
        for layers, sizes, _, loss in cases:
            for activation in NUMERIC_ACTIVATIONS:
                assert_oracle(oracle, _with_activation(layers, activation), sizes, NUMERIC_N, loss)
    return check


def _sympy_inductive_step():
    for build in (L.build_linear, L.build_activation(GenericActivation()), L.build_softmax(L.Softmax),
                  L.build_softmax(L.LogSoftmax), L.build_linear_dropout, L.build_activation_dropout):
        prove_inductive_step(build, 2, 2, 2)
    prove_inductive_step(L.build_batch_norm(), 2, 0, 2)
    for overlap in (False, True):
        prove_inductive_step(L.build_srelu, 2, 2, 2, at=L.srelu_point(overlap))


def _numeric_inductive_step(oracle):
    """Each layer kind of build_mlp between two others (a Tanh layer before it; a Sigmoid layer
    and the squared error after it): every gradient of the network equals autograd's."""
    for middle in ("ReLU", "SReLU", "Softmax", "LogSoftmax", "BatchNormalization", "Linear"):
        assert_oracle(oracle, f"Tanh;{middle};Sigmoid", "3;4;2" if middle == "BatchNormalization" else "3;4;3;2", 4,
                        "squared_error")


for _id, _cases in NETWORKS.items():
    register(_id, "§4, whole network", CHAPTER, MLP.backpropagate, sympy=_sympy_check(_cases),
             numeric=_numeric_check(_cases))
register("network.inductive_step", "Ostwald–Usée 2021", CHAPTER, MLP.backpropagate, sympy=_sympy_inductive_step,
         numeric=_numeric_inductive_step)
