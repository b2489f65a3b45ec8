"""Auto-checkers for the exercises: grade a reader's function and explain what is wrong.

Each ``check_...(my_fn)`` calls ``my_fn`` on random NumPy inputs of several (non-square)
shapes, then on float64 torch tensors, then on small SymPy matrices of symbols, and compares
with the library's own code (``nerva_edu.matrix``, ``nerva_edu.layers``, ``nerva_edu.softmax``,
``nerva_edu.losses``) and, for gradients, with torch autograd. A wrong answer is explained: a wrong shape, a 1-D
result where the spec has a row or column vector, a transposed result, a wrong sign, a
constant factor (a mean where a sum was meant), rows and columns swapped; the layer checkers
also recognize the mistakes typical of their layer (a forgotten derivative factor or mask, the
diagonal of the softmax Jacobian only, the unbiased variance in batch normalization, ...).

The verdict prints as one short paragraph, is true or false, and ``verdict.assert_passed()``
raises AssertionError with the explanation (for a student's CI under nbval or pytest)::

    >>> from nerva_edu.exercises import check_columns_sum
    >>> check_columns_sum(lambda X: X.sum(axis=0, keepdims=True))
    ✔ columns_sum: correct on 4 NumPy cases and on torch float64; equal to the library for all values (SymPy).

A function written with NumPy only (no torch or SymPy support) is graded on NumPy alone.
"""

import copy
import math
import warnings

import numpy as np
import sympy as sp

from nerva_edu import init, matrix
from nerva_edu.activations import Sigmoid, SReLU, Tanh
from nerva_edu.layers import (Activation, ActivationDropout, BatchNormalization, Linear, LinearDropout, LogSoftmax,
                              Softmax, SReLULayer)
from nerva_edu.losses import LOSSES
from nerva_edu.softmax import softmax_batch, stable_softmax_batch
from nerva_edu.symbolic import is_zero, symbolic_matrix
from nerva_edu.validation import as_numpy, as_torch
from nerva_edu.validation.network import (backpropagated_gradients, gradient_differences, network, parameters,
                                          symbolic_gradients, symbolic_network)

__all__ = ["Verdict", "check_columns_sum", "check_rows_sum", "check_columns_mean", "check_rows_mean",
           "check_row_repeat", "check_column_repeat", "check_hadamard", "check_softmax",
           "check_linear_feedforward", "check_linear_backward", "check_activation_backward",
           "check_srelu_backward", "check_softmax_backward", "check_log_softmax_backward",
           "check_batch_norm_backward", "check_linear_dropout_backward", "check_activation_dropout_backward",
           "check_loss_gradient", "check_mlp_backward", "check_vjp_from_jacobian"]

SHAPES = [(2, 3), (4, 1), (1, 5), (3, 2)]  # non-square, so that a transposed result shows


class Verdict:
    """The outcome of a checker: the ``problems`` found (none when it ``passed``), the
    kinds of values it was ``correct_on``, and ``notes`` (advice that is not an error)."""

    def __init__(self, exercise, problems, correct_on=(), notes=()):
        self.exercise, self.problems = exercise, list(problems)
        self.correct_on, self.notes = list(correct_on), list(notes)

    @property
    def passed(self):
        return not self.problems

    def __bool__(self):
        return self.passed

    def __str__(self):
        if self.passed:
            return f"✔ {self.exercise}: " + "; ".join(["correct on " + " and on ".join(self.correct_on)]
                                                       + self.notes) + "."
        return f"✘ {self.exercise}: " + " ".join(self.problems)

    __repr__ = __str__

    def assert_passed(self):
        """Raise AssertionError with the explanation unless the submission is correct."""
        if not self.passed:
            raise AssertionError(str(self))


# --- comparing one result with the expected one -------------------------------------------

def _as_array(value):
    """A float64 NumPy array with the shape of value exactly as returned (1-D stays 1-D)."""
    if hasattr(value, "detach"):
        return value.detach().numpy().astype(np.float64)
    if isinstance(value, sp.MatrixBase):
        return np.array(value.evalf(), dtype=np.float64)
    return np.asarray(value, dtype=np.float64)


def _shape_problem(actual, expected, what, inputs):
    """A sentence explaining a result of the wrong shape, or None when the shape is right."""
    if actual.shape == expected.shape:
        return None
    if expected.ndim == 0:
        return (f"{what} for {inputs} has shape {actual.shape}, expected a scalar: the gradient of a scalar "
                f"parameter sums over every entry (elements_sum).")
    if actual.ndim != 2:
        fix = " (e.g. keepdims=True or reshape)" if actual.size == expected.size else ""
        return (f"{what} for {inputs} has shape {actual.shape}, expected {expected.shape}: the spec's "
                f"vectors are two-dimensional, a row vector 1×n or a column vector m×1{fix}.")
    if actual.shape == expected.T.shape:
        kind = "the transpose of the expected result" if np.allclose(actual, expected.T) \
            else "transposed"
        return (f"{what} for {inputs} has shape {actual.shape}, expected {expected.shape}: it is {kind}"
                f" (rows and columns swapped).")
    return f"{what} for {inputs} has shape {actual.shape}, expected {expected.shape}."


def _value_problem(actual, expected, what, inputs):
    """A sentence explaining wrong values of the right shape, or None when they agree."""
    if np.allclose(actual, expected, rtol=1e-9, atol=1e-12):
        return None
    if not np.all(np.isfinite(actual)):
        return f"{what} for {inputs} contains inf or nan."
    if np.allclose(actual, -expected, rtol=1e-9, atol=1e-12):
        return f"{what} for {inputs} has the wrong sign: it is −1 times the expected result."
    if actual.ndim == 2 and actual.shape[0] == actual.shape[1] and np.allclose(actual, expected.T, rtol=1e-9,
                                                                               atol=1e-12):
        return f"{what} for {inputs} is transposed (rows and columns swapped)."
    scale = float(np.vdot(actual, expected) / np.vdot(expected, expected)) if np.any(expected) else 0.0
    if actual.ndim == 0:                     # a scalar: any factor is a "constant factor"
        return f"{what} for {inputs} is {float(actual):.6g}, expected {float(expected):.6g}."
    if scale and np.allclose(actual, scale * expected, rtol=1e-9, atol=1e-12):
        return (f"{what} for {inputs} is off by a constant factor: it is {scale:.4g} times the expected "
                f"result{_factor_hint(scale, inputs)}.")
    difference = actual - expected
    if actual.shape[0] > 1 and np.allclose(difference, difference[:1, :]):
        return (f"{what} for {inputs} is off by the same row vector {np.round(difference[0], 4)} in every "
                "row: a missing, doubled or wrong row term (such as the bias 1_N·b)?")
    if actual.shape[1] > 1 and np.allclose(difference, difference[:, :1]):
        return f"{what} for {inputs} is off by the same column vector in every column."
    i, j = np.unravel_index(np.argmax(np.abs(difference)), expected.shape)
    return (f"{what} for {inputs} has wrong values: entry ({i}, {j}) is {actual[i, j]:.6g}, "
            f"expected {expected[i, j]:.6g}.")


def _factor_hint(scale, inputs):
    for n in range(2, 7):
        if np.isclose(scale, 1 / n):
            return f" (1/{n}: a mean where a sum was meant, or a division by a dimension?)"
        if np.isclose(scale, n):
            return f" ({n}: a sum where a mean was meant, or a repeated term?)"
    return ""


def _compare(actual, expected, what, inputs):
    """The problem with ``actual`` (any kind) versus ``expected`` (NumPy), or None."""
    if actual is None:
        return f"{what} for {inputs} is None: does the function end with `return`?"
    try:
        actual = _as_array(actual)
    except (TypeError, ValueError):
        return f"{what} for {inputs} is a {type(actual).__name__}, expected a matrix."
    return _shape_problem(actual, expected, what, inputs) or _value_problem(actual, expected, what, inputs)


def _describe(arguments):
    """The shapes of the matrix arguments (numbers and activations are not described)."""
    return "inputs of shape " + ", ".join("×".join(map(str, np.shape(a))) for a in arguments if np.ndim(a) > 0)


# --- running a submission on the three kinds of values -------------------------------------

def _outputs(result, names):
    """The submission's result as a tuple with one entry per output name."""
    if len(names) == 1:
        return (result,)
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        got = f"{len(result)} values" if isinstance(result, (tuple, list)) else f"a {type(result).__name__}"
        raise _Wrong(f"expected a tuple ({', '.join(names)}), got {got}.")
    return tuple(result)


class _Wrong(Exception):
    """A submission whose result cannot be graded (explained in the message)."""


def _grade(exercise, fn, cases, reference, names, symbolic_case=None, mistakes=()):
    """Grade fn on NumPy cases (lists of arguments), on torch, and on one SymPy case.

    ``reference(*arguments)`` returns the expected outputs (NumPy, torch or SymPy values).
    ``mistakes`` are typical errors, pairs (explanation, wrong) where ``wrong(*arguments)``
    returns a dict {output name: the wrong value}: a NumPy result that equals one of them is
    explained by its explanation.
    """
    for arguments in cases:
        try:
            actual = _outputs(fn(*arguments), names)
        except _Wrong as wrong:
            return Verdict(exercise, [str(wrong)])
        except Exception as error:  # the reader's code may raise anything: report it
            return Verdict(exercise, [f"raised {type(error).__name__}: {error} (for {_describe(arguments)})."])
        expected = [_as_array(value) for value in reference(*arguments)]
        for name, got, want in zip(names, actual, expected):
            problem = _compare(got, want, name, _describe(arguments))
            if problem:
                return Verdict(exercise, [_recognized(mistakes, arguments, dict(zip(names, actual)),
                                                      dict(zip(names, expected))) or problem])
    verdict = Verdict(exercise, [], [f"{len(cases)} NumPy cases"])
    _torch(verdict, fn, cases[0], reference, names)
    if symbolic_case is not None and verdict.passed:
        _symbolic(verdict, fn, symbolic_case, reference, names)
    return verdict


def _recognized(mistakes, arguments, actual, expected):
    """The explanation of the first mistake that changes the result for these arguments and whose
    wrong outputs all equal the submission's, or None."""
    for explanation, wrong in mistakes:
        try:
            with np.errstate(all="ignore"):
                outputs = wrong(*arguments)
        except ValueError:          # a mistake that needs other shapes (an untransposed mask)
            continue
        if not all(_equal(value, expected[name]) for name, value in outputs.items()) and \
                all(_equal(actual[name], value) for name, value in outputs.items()):
            return explanation
    return None


def _equal(actual, expected):
    try:
        actual, expected = _as_array(actual), _as_array(expected)
    except (TypeError, ValueError):
        return False
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, rtol=1e-9, atol=1e-12))


def _torch(verdict, fn, arguments, reference, names):
    """Run fn on float64 torch tensors: a wrong value is a problem; a function that does
    not accept tensors, or turns them into NumPy arrays, only a note."""
    tensors = [as_torch(a) if isinstance(a, np.ndarray) else a for a in arguments]
    try:
        with warnings.catch_warnings():  # NumPy functions on tensors warn; the result decides
            warnings.simplefilter("ignore")
            actual = _outputs(fn(*tensors), names)
    except Exception:
        verdict.notes.append("it does not run on torch tensors (write it with nerva_edu.matrix to run "
                             "on every kind)")
        return
    for name, got, want in zip(names, actual, reference(*arguments)):
        problem = _compare(got, _as_array(want), name, "torch " + _describe(arguments))
        if problem:
            verdict.problems.append(problem)
    converted = [name for name, got in zip(names, actual) if isinstance(got, np.ndarray)]
    if converted:
        verdict.notes.append(f"on torch tensors it returns {', '.join(converted)} as a NumPy array, not a tensor "
                             "(write it with nerva_edu.matrix so that the result is of the kind that came in)")
    elif verdict.passed:
        verdict.correct_on.append("torch float64")


def _symbolic(verdict, fn, arguments, reference, names):
    """Compare fn with the reference on SymPy matrices of symbols: a proof for all values."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            actual = _outputs(fn(*arguments), names)
    except Exception:
        actual = None
    if actual is None or not all(isinstance(got, sp.MatrixBase) for got in actual):
        verdict.notes.append("it does not run on SymPy matrices, so it is not proven for all values")
        return
    for name, got, want in zip(names, actual, reference(*arguments)):
        if got.shape != want.shape:
            verdict.problems.append(f"{name} on SymPy matrices has shape {got.shape}, expected {want.shape}.")
        elif not is_zero((got - want).applyfunc(lambda e: e.rewrite(sp.exp))):  # so tanh and σ compare
            verdict.problems.append(f"{name} on SymPy matrices differs from the library's by "
                                    f"{sp.simplify(got - want)}.")
    if verdict.passed:
        verdict.correct_on.append("SymPy symbols (equal to the library's result for all values)")


def _agrees(fn, X, expected):
    """Whether fn(X) equals expected (False when it raises or overflows)."""
    try:
        with np.errstate(all="ignore"):
            return bool(np.allclose(_as_array(fn(X)), expected))
    except Exception:
        return False


def _random(rng, *shape):
    return rng.standard_normal(shape)


# --- matrix operations (spec §3, Table 1) ---------------------------------------------------

def _check_unary(name, reference, fn):
    rng = np.random.default_rng(2024)
    cases = [[_random(rng, m, n)] for m, n in SHAPES]
    return _grade(name, fn, cases, lambda X: [reference(X)], [name],
                  symbolic_case=[symbolic_matrix("x", 2, 3)])


def check_columns_sum(fn):
    """fn(X) must return columns_sum(X) = 1_mᵀ·X, the 1×n row vector of column sums."""
    return _check_unary("columns_sum", matrix.columns_sum, fn)


def check_rows_sum(fn):
    """fn(X) must return rows_sum(X) = X·1_n, the m×1 column vector of row sums."""
    return _check_unary("rows_sum", matrix.rows_sum, fn)


def check_columns_mean(fn):
    """fn(X) must return columns_mean(X), the 1×n row vector of column means."""
    return _check_unary("columns_mean", matrix.columns_mean, fn)


def check_rows_mean(fn):
    """fn(X) must return rows_mean(X), the m×1 column vector of row means."""
    return _check_unary("rows_mean", matrix.rows_mean, fn)


def check_row_repeat(fn):
    """fn(x, m) must return row_repeat(x, m) = 1_m·x: m copies of the row vector x."""
    rng = np.random.default_rng(2024)
    cases = [[_random(rng, 1, n), m] for m, n in SHAPES]
    return _grade("row_repeat", fn, cases, lambda x, m: [matrix.row_repeat(x, m)], ["row_repeat"],
                  symbolic_case=[symbolic_matrix("x", 1, 3), 2])


def check_column_repeat(fn):
    """fn(x, n) must return column_repeat(x, n) = x·1_nᵀ: n copies of the column vector x."""
    rng = np.random.default_rng(2024)
    cases = [[_random(rng, m, 1), n] for m, n in SHAPES]
    return _grade("column_repeat", fn, cases, lambda x, n: [matrix.column_repeat(x, n)], ["column_repeat"],
                  symbolic_case=[symbolic_matrix("x", 3, 1), 2])


def check_hadamard(fn):
    """fn(X, Y) must return hadamard(X, Y) = X ⊙ Y, the element-wise product."""
    rng = np.random.default_rng(2024)
    cases = [[_random(rng, m, n), _random(rng, m, n)] for m, n in SHAPES]
    return _grade("hadamard", fn, cases, lambda X, Y: [matrix.hadamard(X, Y)], ["hadamard"],
                  symbolic_case=[symbolic_matrix("x", 2, 3), symbolic_matrix("y", 2, 3)])


# --- softmax (spec §5.1) ------------------------------------------------------------------

def check_softmax(fn):
    """fn(X) must return softmax(X) of a batch X (N×D), the softmax of every row, and stay finite
    for inputs of magnitude 1000 (the exercise asks for the stable softmax)."""
    rng = np.random.default_rng(2024)
    cases = [[_random(rng, m, n)] for m, n in SHAPES]
    verdict = _grade("softmax", fn, cases, lambda X: [softmax_batch(X)], ["softmax"],
                     symbolic_case=[symbolic_matrix("z", 2, 3)])
    X = cases[0][0]
    if not verdict.passed:
        if _agrees(fn, X, softmax_batch(X.T).T):
            verdict.problems = [f"softmax for {_describe([X])} normalizes the columns; the spec's "
                                "softmax(X) normalizes every row (one example per row), so each row sums to 1."]
        return verdict
    if _agrees(fn, 1000 * X, softmax_batch(1000 * X - X.max(axis=1, keepdims=True) * 1000)):
        verdict.notes.append("stable for large inputs")
    else:
        verdict.problems.append(f"softmax is right for ordinary inputs but overflows (inf or nan) for "
                                f"{_describe([X])} scaled by 1000, and it must stay finite for large inputs: "
                                "subtract each row's maximum first (the stable softmax), which changes nothing "
                                "mathematically.")
    return verdict


# --- a vector-Jacobian product (chapter 12) ---------------------------------------------------

def _vjp_cases(rng):
    """(J, DY, N, D) with J the (N·K)×(N·D) Jacobian of a row-major flattened N×K output with respect
    to a row-major flattened N×D input; K ≠ D, so that J·vec(DY) cannot be formed."""
    return [[_random(rng, N * K, N * D), _random(rng, N, K), N, D] for N, D, K in [(2, 3, 4), (3, 2, 1), (1, 4, 2)]]


def _vjp(J, DY, N, D):
    return [(DY.reshape(1, -1) @ J).reshape(N, D)]


def check_vjp_from_jacobian(fn):
    """fn(J, DY, N, D) must return DX (N×D): the row vec(DY)·J reshaped row by row, where vec flattens row by
    row and J is the Jacobian of vec(Y) with respect to vec(X) (what jax.vjp and torch autograd compute)."""
    mistakes = [
        ("DY is flattened column by column (order 'F'), but J flattens Y row by row, as NumPy's reshape does.",
         lambda J, DY, N, D: {"DX": (DY.T.reshape(1, -1) @ J).reshape(N, D)}),
        ("the product vec(DY)·J is reshaped column by column; vec(X) runs along the rows of X.",
         lambda J, DY, N, D: {"DX": (DY.reshape(1, -1) @ J).reshape(D, N).T}),
    ]
    return _grade("vjp from a Jacobian", fn, _vjp_cases(np.random.default_rng(2024)), _vjp, ["DX"],
                  mistakes=mistakes)


# --- the linear layer (spec §4) -----------------------------------------------------------

def _linear_cases(rng):
    """(X, W, b) for batches of N examples with D inputs and K outputs: first with N, D, K
    all different (a transposed result shows in its shape), last with a square W."""
    return [[_random(rng, N, D), _random(rng, K, D), _random(rng, 1, K)] for N, D, K in
            [(2, 3, 4), (5, 2, 3), (1, 4, 2), (3, 1, 2), (2, 3, 3)]]


def check_linear_feedforward(fn):
    """fn(X, W, b) must return Y = X·Wᵀ + 1_N·b for X (N×D), W (K×D), b (1×K)."""
    rng = np.random.default_rng(2024)
    symbols = [symbolic_matrix("x", 2, 3), symbolic_matrix("w", 2, 3), symbolic_matrix("b", 1, 2)]
    return _grade("linear feedforward", fn, _linear_cases(rng),
                  lambda X, W, b: [Linear(W, b).feedforward(X)], ["Y"], symbolic_case=symbols)


def _layer_gradients(build, names):
    """reference(*inputs, DY) for a layer checker: the gradients ``names`` ("DX" and D<parameter>)
    of the layer ``build(*inputs) -> (layer, X, feedforward options)`` for the loss
    L = elements_sum(Y ⊙ DY), whose gradient with respect to Y is DY. For numbers: torch autograd
    (float64) on the library's feedforward, every parameter made a leaf tensor; for symbols: the
    library's backpropagation, proven in nerva_edu.validation.layers."""
    def reference(*arguments):
        *inputs, DY = arguments
        if isinstance(DY, sp.MatrixBase):
            layer, X, options = build(*inputs)
            gradients = {"DX": layer.backpropagate(layer.feedforward(X, **options), DY)}
            gradients.update({"D" + name: getattr(layer, "D" + name) for name in layer.parameter_names})
            return [gradients[name] for name in names]
        import torch
        layer, X, options = build(*[as_torch(a) if isinstance(a, np.ndarray) else a for a in inputs])
        leaves = {"DX": X.requires_grad_()}
        for name in layer.parameter_names:
            value = getattr(layer, name)
            value = value if torch.is_tensor(value) else torch.tensor(float(value), dtype=torch.float64)
            setattr(layer, name, value.requires_grad_())
            leaves["D" + name] = value
        (layer.feedforward(X, **options) * as_torch(as_numpy(DY))).sum().backward()
        return [leaves[name].grad for name in names]
    return reference


def _linear_layer(X, W):
    return Linear(W, matrix.zeros(1, matrix.shape(W)[0], like=W)), X, {}


def check_linear_backward(fn):
    """fn(X, W, DY) must return (DW, Db, DX): DW = DYᵀ·X, Db = 1_Nᵀ·DY, DX = DY·W.

    The expected gradients come from torch autograd (float64) on the library's feedforward,
    and, on SymPy matrices, from the library's backpropagation proven in its validations.
    """
    rng = np.random.default_rng(2024)
    cases = [[X, W, _random(rng, X.shape[0], W.shape[0])] for X, W, _ in _linear_cases(rng)]
    symbols = [symbolic_matrix("x", 2, 3), symbolic_matrix("w", 2, 3), symbolic_matrix("dy", 2, 2)]
    return _grade("linear backward", fn, cases, _layer_gradients(_linear_layer, ["DW", "Db", "DX"]),
                  ["DW", "Db", "DX"], symbolic_case=symbols)


# --- the other layers of §4 ----------------------------------------------------------------
#
# Each checker grades fn(*inputs, DY) -> (the gradients of the layer's parameters in the order
# of its parameter_names, then DX) against autograd, and recognizes typical mistakes. A mistake
# is the wrong result it produces, computed in NumPy from the parts of the failing case: X, W,
# the mask R (or None), the activation act, the pre-activation Z and DY.

def _mask(rng, D, K):
    """A D×K inverted-dropout mask (entries 0 or 2, keep probability 1/2)."""
    return (rng.random((D, K)) < 0.5) * 2.0


def _parts(X, W, b, DY, R=None, act=None):
    WT = W.T if R is None else W.T * R
    return {"X": X, "W": W, "R": R, "act": act, "Z": X @ WT + b, "DY": DY}


def _linear_part(DZ, p):
    """DW, Db, DX of the (masked) linear part of a layer, for the gradient DZ of its output."""
    R = p["R"]
    DW = DZ.T @ p["X"]
    return {"DW": DW if R is None else DW * R.T, "Db": DZ.sum(axis=0, keepdims=True),
            "DX": DZ @ (p["W"] if R is None else p["W"] * R.T)}


def _mistakes(parts, *mistakes):
    """Mistakes written on the parts of a case, as _grade takes them (on the arguments)."""
    return [(explanation, lambda *arguments, wrong=wrong: wrong(parts(*arguments)))
            for explanation, wrong in mistakes]


def _only(name, DZ):
    """The output ``name`` computed through the linear part from a wrong DZ(p)."""
    return lambda p: {name: _linear_part(DZ(p), p)[name]}


_ACTIVATION_MISTAKES = [
    ("the factor act'(Z) of the chain rule is missing: DZ = DY ⊙ act'(Z), and DW, Db, DX are computed from DZ, "
     "not from DY.", lambda p: _linear_part(p["DY"], p)),
    ("act' is evaluated at the output Y = act(Z); it belongs at the pre-activation Z: DZ = DY ⊙ act'(Z).",
     lambda p: _linear_part(p["DY"] * p["act"].gradient(p["act"](p["Z"])), p)),
    ("DW is computed from DY; it must use DZ = DY ⊙ act'(Z).", _only("DW", lambda p: p["DY"])),
    ("DX is computed from DY; it must use DZ = DY ⊙ act'(Z).", _only("DX", lambda p: p["DY"])),
]


def _dropout_mistakes(DZ, DZ_name="DZ"):
    """The mask forgotten or not transposed, for a layer whose pre-activation has the gradient
    DZ(p) (named ``DZ_name`` in the explanations)."""
    return [
        (f"the mask is missing in DW: DW = ({DZ_name}ᵀ·X) ⊙ Rᵀ, and a dropped weight gets no gradient.",
         lambda p: {"DW": DZ(p).T @ p["X"]}),
        (f"the mask is missing in DX: DX = {DZ_name}·(W ⊙ Rᵀ), and the input only sees the weights that were "
         "kept.",
         lambda p: {"DX": DZ(p) @ p["W"]}),
        (f"the mask is not transposed in DW: R is D×K like Wᵀ, so DW = ({DZ_name}ᵀ·X) ⊙ Rᵀ.",
         lambda p: {"DW": (DZ(p).T @ p["X"]) * p["R"]}),
        (f"the mask is not transposed in DX: R is D×K like Wᵀ, so DX = {DZ_name}·(W ⊙ Rᵀ).",
         lambda p: {"DX": DZ(p) @ (p["W"] * p["R"])}),
    ]


def _activation_DZ(p):
    return p["DY"] * p["act"].gradient(p["Z"])


def _layer_cases(rng, extra):
    """(X, W, b, *extra(rng, N, D, K), DY) for the shapes of the linear layer's cases."""
    return [[X, W, b, *extra(rng, X.shape[1], W.shape[0]), _random(rng, X.shape[0], W.shape[0])]
            for X, W, b in _linear_cases(rng)]


def _symbols(*extra):
    """(X, W, b, *extra, DY) of symbols for N, D, K = 2, 3, 2."""
    return [symbolic_matrix("x", 2, 3), symbolic_matrix("w", 2, 3), symbolic_matrix("b", 1, 2), *extra,
            symbolic_matrix("dy", 2, 2)]


_ACTIVATIONS = (Tanh(), Sigmoid())
_THREE = ["DW", "Db", "DX"]


def check_activation_backward(fn):
    """fn(X, W, b, act, DY) must return (DW, Db, DX) of the activation layer Y = act(X·Wᵀ + 1_N·b):
    DZ = DY ⊙ act'(Z), DW = DZᵀ·X, Db = 1_Nᵀ·DZ, DX = DZ·W (``act.gradient(Z)`` is act'(Z))."""
    cases = _layer_cases(np.random.default_rng(2024), lambda rng, D, K: [_ACTIVATIONS[(D + K) % 2]])
    return _grade("activation backward", fn, cases,
                  _layer_gradients(lambda X, W, b, act: (Activation(W, b, act), X, {}), _THREE), _THREE,
                  symbolic_case=_symbols(Tanh()),
                  mistakes=_mistakes(lambda X, W, b, act, DY: _parts(X, W, b, DY, act=act), *_ACTIVATION_MISTAKES))


def check_activation_dropout_backward(fn):
    """fn(X, W, b, R, act, DY) must return (DW, Db, DX) of the activation dropout layer
    Y = act(X(Wᵀ ⊙ R) + 1_N·b): DZ = DY ⊙ act'(Z), DW = (DZᵀ·X) ⊙ Rᵀ, Db = 1_Nᵀ·DZ, DX = DZ(W ⊙ Rᵀ)."""
    cases = _layer_cases(np.random.default_rng(2024),
                         lambda rng, D, K: [_mask(rng, D, K), _ACTIVATIONS[(D + K) % 2]])

    def build(X, W, b, R, act):
        return ActivationDropout(W, b, act, keep_probability=0.5), X, {"R": R}
    return _grade("activation dropout backward", fn, cases, _layer_gradients(build, _THREE), _THREE,
                  symbolic_case=_symbols(symbolic_matrix("r", 3, 2), Tanh()),
                  mistakes=_mistakes(lambda X, W, b, R, act, DY: _parts(X, W, b, DY, R, act),
                                     *_ACTIVATION_MISTAKES, *_dropout_mistakes(_activation_DZ)))


def check_linear_dropout_backward(fn):
    """fn(X, W, R, DY) must return (DW, Db, DX) of the linear dropout layer Y = X(Wᵀ ⊙ R) + 1_N·b:
    DW = (DYᵀ·X) ⊙ Rᵀ, Db = 1_Nᵀ·DY, DX = DY(W ⊙ Rᵀ)."""
    cases = [[X, W, R, DY] for X, W, b, R, DY in _layer_cases(np.random.default_rng(2024),
                                                              lambda rng, D, K: [_mask(rng, D, K)])]

    def build(X, W, R):
        return LinearDropout(W, matrix.zeros(1, matrix.shape(W)[0], like=W), keep_probability=0.5), X, {"R": R}
    symbols = _symbols(symbolic_matrix("r", 3, 2))
    return _grade("linear dropout backward", fn, cases, _layer_gradients(build, _THREE), _THREE,
                  symbolic_case=symbols[:2] + symbols[3:],
                  mistakes=_mistakes(lambda X, W, R, DY: _parts(X, W, 0, DY, R),
                                     *_dropout_mistakes(lambda p: p["DY"], "DY")))


_SRELU_GRADIENTS = ["DW", "Db", "Dal", "Dtl", "Dar", "Dtr", "DX"]
_SRELU_DERIVATIVES = {"Dal": "Al", "Dtl": "Tl", "Dar": "Ar", "Dtr": "Tr"}    # D<parameter>: its matrix


def _srelu_mistakes():
    def printed_condition(name, derivative):
        return (f"{name} also counts the entries z ≤ t_l that are ≥ t_r: when the thresholds overlap (t_l ≥ t_r) "
                "the first piece wins, so A^r and T^r are 0 there (the spec's printed condition z ≥ t_r misses "
                "this; see the errata appendix)."), \
            lambda p: {name: np.sum(p["DY"] * np.where(p["Z"] >= p["act"].tr, derivative(p["act"], p["Z"]),
                                                       0))}

    def unweighted(name, matrix_name):
        symbol = f"{matrix_name[0]}^{matrix_name[1].lower()}"
        return (f"{name} sums {symbol} (the derivative of srelu in the parameter) without weighting it by DY: "
                f"{name} = 1_Nᵀ·(DY ⊙ {symbol})·1_K."), \
            lambda p: {name: np.sum(getattr(p["act"], matrix_name)(p["Z"]))}
    return [printed_condition("Dar", lambda act, Z: Z - act.tr),
            printed_condition("Dtr", lambda act, Z: 1 - act.ar)] \
        + [unweighted(name, matrix_name) for name, matrix_name in _SRELU_DERIVATIVES.items()]


def check_srelu_backward(fn):
    """fn(X, W, b, al, tl, ar, tr, DY) must return (DW, Db, Dal, Dtl, Dar, Dtr, DX) of the SReLU
    layer Y = srelu(X·Wᵀ + 1_N·b): DW, Db, DX as in the activation layer with srelu'(Z), and the
    scalars Da_l = 1_Nᵀ·(DY ⊙ A^l)·1_K, Dt_l, Da_r, Dt_r likewise with T^l, A^r, T^r.

    Three of the five cases have overlapping thresholds (t_l ≥ t_r), where the first piece wins.
    """
    thresholds = [(0.1, -0.3, 0.2, 0.4), (0.3, 0.5, 0.6, -0.2)]     # separate, overlapping
    cases = _layer_cases(np.random.default_rng(2024), lambda rng, D, K: thresholds[(D + K) % 2])

    def build(X, W, b, al, tl, ar, tr):
        return SReLULayer(W, b, al, tl, ar, tr), X, {}

    def parts(X, W, b, al, tl, ar, tr, DY):
        return _parts(X, W, b, DY, act=SReLU(al, tl, ar, tr))
    return _grade("SReLU backward", fn, cases, _layer_gradients(build, _SRELU_GRADIENTS), _SRELU_GRADIENTS,
                  mistakes=_mistakes(parts, *_ACTIVATION_MISTAKES, *_srelu_mistakes()))


def _softmax_family(exercise, layer_class, fn, *mistakes):
    """Grade a softmax-type layer fn(X, W, b, DY) -> (DW, Db, DX); ``mistakes`` are pairs
    (explanation, wrong DZ(Y, Z, DY)) with Y = softmax(Z) (not the layer's output)."""
    cases = _layer_cases(np.random.default_rng(2024), lambda rng, D, K: [])
    reference = _layer_gradients(lambda X, W, b: (layer_class(W, b), X, {}), _THREE)
    return _grade(exercise, fn, cases, reference, _THREE, symbolic_case=_symbols(),
                  mistakes=_mistakes(_parts, *[(explanation, lambda p, DZ=DZ: _linear_part(
                      DZ(stable_softmax_batch(p["Z"]), p["Z"], p["DY"]), p)) for explanation, DZ in mistakes]))


def _rows(A):
    return A.sum(axis=1, keepdims=True)


def _columns(A):
    return A.sum(axis=0, keepdims=True)


def check_softmax_backward(fn):
    """fn(X, W, b, DY) must return (DW, Db, DX) of the softmax layer Y = softmax(X·Wᵀ + 1_N·b):
    DZ = Y ⊙ (DY − diag(DY·Yᵀ)·1_Kᵀ), DW = DZᵀ·X, Db = 1_Nᵀ·DZ, DX = DZ·W."""
    return _softmax_family(
        "softmax backward", Softmax, fn,
        ("DZ uses only the diagonal of the softmax Jacobian, y_j(1 − y_j), as if softmax acted entry by entry; "
         "its off-diagonal entries −y_i·y_j couple the entries of a row: DZ = Y ⊙ (DY − diag(DY·Yᵀ)·1_Kᵀ).",
         lambda Y, Z, DY: DY * Y * (1 - Y)),
        ("DZ = Y ⊙ DY keeps only the Diag(y) part of the Jacobian Diag(y) − yᵀy: the term "
         "−Y ⊙ (diag(DY·Yᵀ)·1_Kᵀ) is missing.", lambda Y, Z, DY: Y * DY),
        ("the Jacobian of softmax is missing: DZ = DY is the linear layer's; DZ = Y ⊙ (DY − diag(DY·Yᵀ)·1_Kᵀ).",
         lambda Y, Z, DY: DY),
        ("the correction sums over the columns (the examples of the batch); softmax couples the entries of a row, "
         "so it is the row sum diag(DY·Yᵀ) = (DY ⊙ Y)·1_K.", lambda Y, Z, DY: Y * (DY - _columns(DY * Y))))


def check_log_softmax_backward(fn):
    """fn(X, W, b, DY) must return (DW, Db, DX) of the log-softmax layer Y = log-softmax(X·Wᵀ + 1_N·b):
    DZ = DY − softmax(Z) ⊙ (DY·1_K·1_Kᵀ) (eq. (17)), DW = DZᵀ·X, Db = 1_Nᵀ·DZ, DX = DZ·W."""
    return _softmax_family(
        "log-softmax backward", LogSoftmax, fn,
        ("the Jacobian of log-softmax is missing: DZ = DY is the linear layer's; "
         "DZ = DY − softmax(Z) ⊙ (DY·1_K·1_Kᵀ).",
         lambda Y, Z, DY: DY),
        ("the correction multiplies by the layer's output log-softmax(Z); it is softmax(Z) = e^Y: "
         "DZ = DY − softmax(Z) ⊙ (DY·1_K·1_Kᵀ).", lambda Y, Z, DY: DY - np.log(Y) * _rows(DY)),
        ("the correction softmax(Z) ⊙ DY misses the row sum: it is softmax(Z) ⊙ (DY·1_K·1_Kᵀ), every entry of a "
         "row times the sum of that row of DY.", lambda Y, Z, DY: DY - Y * DY),
        ("the correction sums DY over the columns (the examples of the batch); it is the row sum DY·1_K, "
         "repeated over the K columns.", lambda Y, Z, DY: DY - Y * _columns(DY)))


def _batch_norm_gradients(X, gamma, epsilon, DY, ddof=0, constant_statistics=False, mean_term=True):
    """Dbeta, Dgamma, DX of batch normalization in NumPy, with the variance divided by N − ddof,
    if ``constant_statistics`` the mean and variance treated as constants, and without the term
    1_N·1_Nᵀ·DZ of (25) unless ``mean_term``; for the mistakes of check_batch_norm_backward."""
    N = X.shape[0]
    R = X - X.mean(axis=0, keepdims=True)
    scale = 1 / np.sqrt(_columns(R * R) / (N - ddof) + epsilon)
    Z, DZ = scale * R, gamma * DY
    DX = scale * DZ if constant_statistics else \
        scale / N * (N * DZ - mean_term * _columns(DZ) - Z * _columns(Z * DZ))
    return {"Dbeta": _columns(DY), "Dgamma": _columns(Z * DY), "DX": DX}


def check_batch_norm_backward(fn):
    """fn(X, gamma, epsilon, DY) must return (Dbeta, Dgamma, DX) of batch normalization in training
    mode, Z = (1_N·(Σ + ε)^(−1/2)) ⊙ R, Y = (1_N·γ) ⊙ Z + 1_N·β: Dβ = 1_Nᵀ·DY, Dγ = 1_Nᵀ·(Z ⊙ DY)
    and DX of (25) with DZ = (1_N·γ) ⊙ DY."""
    rng = np.random.default_rng(2024)
    cases = [[_random(rng, N, K), rng.uniform(0.5, 2.0, (1, K)), 0.01, _random(rng, N, K)]
             for N, K in [(4, 3), (5, 2), (2, 3), (3, 1)]]

    def build(X, gamma, epsilon):
        return BatchNormalization(matrix.zeros(*matrix.shape(gamma), like=gamma), gamma, epsilon=epsilon), X, {}

    def changed(explanation, names=("DX",), wrong_epsilon=None, **variant):
        def wrong(X, gamma, epsilon, DY):
            gradients = _batch_norm_gradients(X, gamma, epsilon if wrong_epsilon is None else wrong_epsilon, DY,
                                              **variant)
            return {name: gradients[name] for name in names}
        return explanation, wrong
    mistakes = [
        ("DX is N times too large: the factor 1/N of (25) is missing.",
         lambda X, gamma, epsilon, DY: {"DX": X.shape[0] * _batch_norm_gradients(X, gamma, epsilon, DY)["DX"]}),
        changed("the variance is divided by N − 1 (the unbiased estimate); the layer normalizes with the batch "
                "variance Σ = (1/N)·diag(RᵀR)ᵀ.", ("Dgamma", "DX"), ddof=1),
        changed("DX = (1_N·(Σ + ε)^(−1/2)) ⊙ DZ treats the batch mean and variance as constants (that is the "
                "evaluation-mode gradient); in training they depend on X, which gives the other terms of (25).",
                constant_statistics=True),
        changed("the term −1_N·1_Nᵀ·DZ of (25) is missing: it comes from the batch mean, which depends on "
                "every row of X.", mean_term=False),
        changed("ε is missing: the layer normalizes with (Σ + ε)^(−1/2).", ("Dgamma", "DX"), wrong_epsilon=0),
        ("the scale γ is missing: DZ = (1_N·γ) ⊙ DY.",
         lambda X, gamma, epsilon, DY: {"DX": _batch_norm_gradients(X, 1.0, epsilon, DY)["DX"]}),
        ("Dγ = 1_Nᵀ·(Z ⊙ DY): the normalized Z is missing.",
         lambda X, gamma, epsilon, DY: {"Dgamma": _columns(DY)}),
        ("Dγ uses X where the normalized Z belongs: Dγ = 1_Nᵀ·(Z ⊙ DY).",
         lambda X, gamma, epsilon, DY: {"Dgamma": _columns(X * DY)}),
    ]
    symbols = [symbolic_matrix("x", 3, 2), symbolic_matrix("gamma", 1, 2), sp.Symbol("epsilon", positive=True),
               symbolic_matrix("dy", 3, 2)]
    return _grade("batch normalization backward", fn, cases, _layer_gradients(build, ["Dbeta", "Dgamma", "DX"]),
                  ["Dbeta", "Dgamma", "DX"], symbolic_case=symbols, mistakes=mistakes)


# --- loss gradients (spec §6) ----------------------------------------------------------------

_LOG_OF_OUTPUTS = ("cross_entropy", "negative_log_likelihood")  # log(Y): outputs must be positive


def _loss_gradient(loss):
    """DY = ∇_Y L(Y, T): torch autograd of the library's loss value for numbers, the library's
    gradient (proven in nerva_edu.validation.losses) for symbols."""
    def reference(Y, T):
        if isinstance(Y, sp.MatrixBase):
            return [LOSSES[loss].gradient(Y, T)]
        Y = as_torch(as_numpy(Y)).requires_grad_()
        LOSSES[loss](Y, as_torch(as_numpy(T))).backward()
        return [Y.grad]
    return reference


def check_loss_gradient(fn, loss):
    """fn(Y, T) must return DY = ∇_Y L(Y, T) of the batch loss named ``loss``, a key of
    ``nerva_edu.losses.LOSSES`` (e.g. "mean_squared_error", "softmax_cross_entropy").

    The targets T are general (their rows do not sum to 1), so the one-hot simplification of
    softmax cross-entropy is recognized and explained. For softmax and logistic cross-entropy
    the verdict notes whether fn stays finite for outputs of magnitude 1e4.
    """
    if loss not in LOSSES:
        raise ValueError(f"check_loss_gradient: unknown loss {loss!r}; accepted: {', '.join(LOSSES)}")
    rng = np.random.default_rng(2024)
    positive = loss in _LOG_OF_OUTPUTS
    cases = [[rng.uniform(0.1, 1.0, (N, K)) if positive else _random(rng, N, K), rng.uniform(0.1, 1.0, (N, K))]
             for N, K in [(2, 3), (4, 2), (1, 5), (3, 3)]]
    symbols = [symbolic_matrix("y", 2, 3, positive=True) if positive else symbolic_matrix("y", 2, 3),
               symbolic_matrix("t", 2, 3)]
    reference = _loss_gradient(loss)
    verdict = _grade(f"{loss} gradient", fn, cases, reference, ["DY"], symbolic_case=symbols)
    Y, T = cases[0]
    if not verdict.passed:
        if loss == "softmax_cross_entropy" and _agrees(lambda Y: fn(Y, T), Y, softmax_batch(Y) - T):
            verdict.problems = ["DY is softmax(Y) − T, the one-hot simplification: it holds only when every row "
                                "of T sums to 1, and these targets do not. For general targets "
                                "DY = softmax(Y) ⊙ (T·1_K·1_Kᵀ) − T (spec eq. (31))."]
        return verdict
    if loss in ("softmax_cross_entropy", "logistic_cross_entropy"):
        stable = _agrees(lambda Y: fn(Y, T), 1e4 * Y, _as_array(reference(1e4 * Y, T)[0]))
        verdict.notes.append("stable for outputs of magnitude 1e4" if stable else
                             "it overflows (inf or nan) for outputs of magnitude 1e4: use the stable softmax "
                             "or a sigmoid that never computes e^x for large x")
    return verdict


# === training: initializers, optimizer steps, schedulers, training steps (spec §7–§10) =========
#
# These answers are functions whose result is random (an initializer), a state to thread through
# several calls (an optimizer step), a sequence (a scheduler) or a changed network (a training
# step). Each checker compares the submission with the library and, when they differ, with the
# typical wrong versions, and names the one that matches.

def _all_close(values, expected):
    """Whether every value (a tuple of results) is close to the corresponding expected one."""
    return all(np.shape(a) == np.shape(e) and np.allclose(a, e, rtol=1e-10, atol=1e-14) for a, e in zip(values, expected))


def _first_match(actual, mistakes, close):
    """The explanation of the first (explanation, value) in ``mistakes`` that ``close(actual, value)``."""
    return next((explanation for explanation, value in mistakes if close(actual, value)), None)


# --- weight initializers (spec §7) ---------------------------------------------------------------

INIT_SHAPES = [(150, 400), (400, 150)]   # K×D with K ≠ D, so that fan-in and fan-out differ; 60000 entries
_KURTOSIS = {"uniform": 1.8, "normal": 3.0}                    # E[(w − μ)⁴] / Var(w)² of each shape
TOLERANCE_Z = 6                                                # tolerance in standard errors


def _variance_tolerance(variance, kind, n):
    """TOLERANCE_Z standard errors of the sample variance of n entries: σ²·√((κ − 1)/n)."""
    return TOLERANCE_Z * variance * math.sqrt((_KURTOSIS[kind] - 1) / n)


def _initializer_mistakes(name, K, D):
    """(explanation, variance) of the typical wrong versions of the initializer ``name`` for K×D."""
    kind, text, variance = init.DISTRIBUTIONS[name]
    v, swapped = variance(K, D), variance(D, K)
    mistakes = []
    if not math.isclose(v, swapped):
        mistakes.append(("it uses K, the fan-out (number of outputs, the rows of W), where the spec has the fan-in "
                         "D (number of inputs, the columns of W): the variances of D and K are swapped", swapped))
    if "K" in text:
        mistakes += [("it uses the fan-in D alone; this initializer averages fan-in and fan-out, 2/(D+K)", 1 / D),
                     ("it uses the fan-out K alone; this initializer averages fan-in and fan-out, 2/(D+K)", 1 / K)]
    if kind == "normal":
        mistakes.append((f"it passes the variance {text} where NumPy's normal(loc, scale) takes the standard "
                         f"deviation σ = √({text})", v * v))
    else:
        mistakes += [(f"its bound is √({text}), but U(−a, a) has variance a²/3: a = √(3·{text})", v / 3),
                     (f"its bound is the variance {text} itself; U(−a, a) has variance a²/3: a = √(3·{text})",
                      v * v / 3)]
    return mistakes


def _check_matrix(W, K, D):
    """A sentence on a result that is not a finite float64 K×D NumPy matrix, or None."""
    if W is None:
        return "the result is None: does the function end with `return`?"
    if not isinstance(W, np.ndarray):
        return f"the result is a {type(W).__name__}, expected a NumPy array."
    if W.shape != (K, D):
        if W.shape == (D, K):
            return (f"W has shape {W.shape} for K = {K} outputs and D = {D} inputs: it is transposed; the spec's "
                    f"W is K×D (one row per output, as torch's nn.Linear stores it).")
        return f"W has shape {W.shape}, expected (K, D) = {(K, D)}."
    if W.dtype != np.float64:
        return f"W has dtype {W.dtype}, expected float64 (draw in float64; convert only when asked)."
    if not np.all(np.isfinite(W)):
        return "W contains inf or nan."
    return None


def check_initializer(fn, name):
    """fn(rng, K, D) must return a K×D float64 matrix W drawn from the generator ``rng`` with the
    distribution of the initializer ``name`` (a key of ``nerva_edu.init.DISTRIBUTIONS``: Xavier,
    NormalizedXavier, He, XavierNormal, HeUniform).

    The draw is random, so the checker tests statistics of 60000 entries against tolerances of six
    standard errors computed from the sample size: mean 0, the variance of the table, the shape of
    the distribution (uniform with its bound, or normal), on a K×D and a D×K matrix so that fan-in
    and fan-out differ; and that the same seed gives the same matrix. Over random seeds a correct
    answer would fail with a probability of about 10⁻⁸; the checker's seed is fixed, so a verdict
    is reproducible.
    """
    if name not in init.DISTRIBUTIONS:
        raise ValueError(f"check_initializer: unknown initializer {name!r}; accepted: {', '.join(init.DISTRIBUTIONS)}")
    kind, text, variance = init.DISTRIBUTIONS[name]
    exercise = f"{name} initializer"
    for K, D in INIT_SHAPES:
        try:
            W = fn(np.random.default_rng(2024), K, D)
            again = fn(np.random.default_rng(2024), K, D)
        except Exception as error:
            return Verdict(exercise, [f"raised {type(error).__name__}: {error} (for K = {K}, D = {D})."])
        problem = _check_matrix(W, K, D)
        if problem:
            return Verdict(exercise, [problem])
        if not np.array_equal(W, again):
            return Verdict(exercise, ["two calls with generators of the same seed gave different matrices: draw from "
                                      "the generator rng it is given, not from np.random or a new generator."])
        n, v = W.size, variance(K, D)
        where = f"for K×D = {K}×{D}"
        if abs(W.mean()) > TOLERANCE_Z * math.sqrt(v / n):
            return Verdict(exercise, [f"the mean of W {where} is {W.mean():.4g}; the entries must have mean 0 "
                                      f"(tolerance ±{TOLERANCE_Z * math.sqrt(v / n):.2g})."])
        sample = W.var()
        if abs(sample - v) > _variance_tolerance(v, kind, n):
            mistake = _first_match(sample, _initializer_mistakes(name, K, D),
                                   lambda s, m: abs(s - m) <= _variance_tolerance(m, kind, n))
            return Verdict(exercise, [f"the variance of W {where} is {sample:.4g}, expected {text} = {v:.4g} "
                                      f"(±{_variance_tolerance(v, kind, n):.2g})" + (f": {mistake}." if mistake
                                                                                    else ".")])
        kurtosis = float(np.mean((W - W.mean()) ** 4) / sample ** 2)
        drawn = "uniform" if kurtosis < 2.4 else "normal"
        if drawn != kind:
            return Verdict(exercise, [f"W {where} has the right variance, but its entries look {drawn} (kurtosis "
                                      f"{kurtosis:.2f}; uniform 1.8, normal 3): {name} draws from a {kind} "
                                      f"distribution."])
        if kind == "uniform" and not 0.99 <= np.abs(W).max() / math.sqrt(3 * v) <= 1:
            return Verdict(exercise, [f"the largest |entry| of W {where} is {np.abs(W).max():.4g}, but U(−a, a) with "
                                      f"variance {text} has the bound a = {math.sqrt(3 * v):.4g}."])
    same = np.array_equal(W, init.weight_initializer(name)(np.random.default_rng(2024), K, D))
    return Verdict(exercise, [], [f"{len(INIT_SHAPES)} shapes ({', '.join(f'{K}×{D}' for K, D in INIT_SHAPES)}): "
                                  f"mean 0, variance {text}, {kind}, reproducible from the seed"],
                   ["it draws exactly the library's numbers" if same else
                    "its numbers differ from the library's (another way of drawing), the distribution is the same"])


# --- optimizer steps (spec §8) ---------------------------------------------------------------------

def _momentum_mistakes(rule, theta, g, eta, Delta, mu):
    """(explanation, (θ', Δ')) of the typical wrong momentum or Nesterov steps on the same inputs."""
    def update(new_Delta, sign=1):
        """The rule's θ' from the velocity new_Delta (sign: of Nesterov's final −η·Dθ)."""
        return theta + new_Delta if rule == "Momentum" else theta + mu * new_Delta - sign * eta * g

    right, uphill, both = mu * Delta - eta * g, mu * Delta + eta * g, mu * (Delta - eta * g)
    velocity = mu * Delta + g                              # torch's v' = μ·v + Dθ, with Δ read as v
    torch_theta = theta - eta * (velocity if rule == "Momentum" else g + mu * velocity)
    mistakes = [
        ("wrong sign: it adds η·Dθ; the update goes against the gradient, Δ' = μ·Δ − η·Dθ", (update(uphill, -1), uphill)),
        ("θ is updated with the old Δ: compute Δ' = μ·Δ − η·Dθ first, then θ' from Δ'", (update(Delta), right)),
        ("μ multiplies η·Dθ too (Δ' = μ·(Δ − η·Dθ)); only the old Δ is multiplied by μ", (update(both), both)),
        ("it keeps torch's velocity v' = μ·v + Dθ (θ' = θ − η·v') instead of the spec's Δ' = μ·Δ − η·Dθ; "
         "it reads the Δ it is given as v, so it goes wrong at the first step, and even with the state converted "
         "(Δ = −η·v) the two part ways as soon as η changes", (torch_theta, velocity)),
    ]
    if rule == "Momentum":
        confused = [("this is Nesterov's update θ' = θ + μ·Δ' − η·Dθ; momentum is θ' = θ + Δ'",
                     (theta + mu * right - eta * g, right))]
    else:       # plain momentum is also Nesterov's formula with the old Δ: θ + μ·Δ − η·Dθ = θ + Δ'
        confused = [("this is plain momentum θ' = θ + Δ' (or Nesterov's formula with the old Δ); Nesterov's is "
                     "θ' = θ + μ·Δ' − η·Dθ with the new Δ'", (theta + right, right)),
                    ("the final −η·Dθ is missing: Nesterov's is θ' = θ + μ·Δ' − η·Dθ", (theta + mu * right, right))]
    return confused + mistakes


def check_optimizer_step(fn, rule="Momentum", mu=0.7):
    """fn(theta, Dtheta, eta, Delta, mu) must return (θ', Δ'), one step of ``rule``
    ("Momentum" or "Nesterov", spec §8, ``nerva_edu.optimizers``):

        momentum:  Δ' = μ·Δ − η·Dθ,  θ' = θ + Δ'
        Nesterov:  Δ' = μ·Δ − η·Dθ,  θ' = θ + μ·Δ' − η·Dθ

    It runs four steps on a 3×2 NumPy parameter with changing η, each from the library's state
    (starting from a nonzero Δ), one on a scalar parameter (a Python float, like SReLU's a_l) and
    one on SymPy symbols. Updating θ and Δ in place is allowed (the library does, to avoid copies) but the
    values must be returned; changing Dθ is not allowed.
    """
    from nerva_edu.optimizers import OPTIMIZERS
    if rule not in ("Momentum", "Nesterov"):
        raise ValueError(f"check_optimizer_step: rule must be 'Momentum' or 'Nesterov', got {rule!r}")
    library, exercise = OPTIMIZERS[rule][0](mu), f"{rule} step"
    rng = np.random.default_rng(2024)
    theta, Delta, in_place = rng.standard_normal((3, 2)), 0.1 * rng.standard_normal((3, 2)), []   # Δ ≠ 0: a state
    for step, eta in enumerate((0.1, 0.05, 0.2, 0.1), start=1):
        g = rng.standard_normal((3, 2))
        given_theta, given_g, given_Delta = theta.copy(), g.copy(), Delta.copy()
        expected = library.step(theta.copy(), g, eta, Delta.copy())
        try:
            result = fn(given_theta, given_g, eta, given_Delta, mu)
        except Exception as error:
            return Verdict(exercise, [f"raised {type(error).__name__}: {error} (step {step})."])
        where = f"in step {step}, η = {eta}, μ = {mu}"
        if not np.array_equal(given_g, g):
            return Verdict(exercise, [f"it changes the gradient Dθ in place {where}; only θ and Δ may change."])
        if result is None:
            changed = not np.array_equal(given_theta, theta)
            return Verdict(exercise, ["it returns None" + (" (it changed θ in place)" if changed else "") +
                                      ": return (θ', Δ'); a scalar parameter or a SymPy value cannot change in place."])
        try:
            got = [_as_array(value) for value in _outputs(result, ["θ'", "Δ'"])]
        except (_Wrong, TypeError, ValueError) as wrong:
            return Verdict(exercise, [str(wrong)])
        problems = [_compare(a, e, name, "a 3×2 θ " + where) for a, e, name in zip(got, expected, ["θ'", "Δ'"])]
        if any(problems):
            mistake = _first_match(got, _momentum_mistakes(rule, theta, g, eta, Delta, mu), _all_close)
            return Verdict(exercise, [f"{mistake} ({where})." if mistake else next(p for p in problems if p)])
        in_place.append(result[0] is given_theta and np.array_equal(given_theta, expected[0]))
        theta, Delta = expected
    verdict = Verdict(exercise, [], ["4 NumPy steps with changing η"])
    expected = library.step(0.5, 0.25, 0.1, -0.02)
    try:
        scalar = _outputs(fn(0.5, 0.25, 0.1, -0.02, mu), ["θ'", "Δ'"])
        right = np.allclose([float(value) for value in scalar], expected, rtol=1e-12)
    except Exception:                # arrays only (e.g. theta[...] = ...), or no values returned
        scalar, right = None, False
    if not right:
        verdict.problems.append(f"on a scalar parameter (θ = 0.5, Dθ = 0.25, η = 0.1, Δ = −0.02) it returns {scalar}, "
                                f"expected {tuple(round(v, 6) for v in expected)}.")
        return verdict
    verdict.correct_on.append("a scalar parameter")
    symbols = [symbolic_matrix("theta", 2, 1), symbolic_matrix("g", 2, 1), sp.Symbol("eta", positive=True),
               symbolic_matrix("Delta", 2, 1)]
    mu_symbol = sp.Symbol("mu", positive=True)
    symbolic_rule = OPTIMIZERS[rule][0](mu_symbol)
    _symbolic(verdict, lambda theta, g, eta, Delta: fn(theta.copy(), g, eta, Delta.copy(), mu_symbol), symbols,
              lambda theta, g, eta, Delta: symbolic_rule.step(theta.copy(), g, eta, Delta.copy()), ["θ'", "Δ'"])
    verdict.notes.append("it updates θ in place, as the library does" if all(in_place) else
                         "it returns new arrays; the library updates θ and Δ in place, so that training never copies "
                         "a weight matrix")
    return verdict


# --- learning-rate schedulers (spec §9) -------------------------------------------------------------

SCHEDULER_CASES = {       # constructor arguments of nerva_edu.schedulers.SCHEDULERS, several per scheduler
    "Constant": [(0.1,), (0.5,)],
    "TimeBased": [(0.1, 0.1), (0.5, 0.02)],
    "StepBased": [(0.1, 0.5, 4), (1.0, 0.9, 3), (0.2, 0.5, 1)],
    "Exponential": [(0.1, 0.05), (1.0, 0.2)],
    "MultiStep": [(0.1, 0.5, (5, 12)), (1.0, 0.1, (3, 4, 20))],
}
SCHEDULER_STEPS = 40


def _scheduler_mistakes(name, scheduler, arguments):
    """(explanation, rates η_0..η_39) of the typical wrong versions of the scheduler ``name``."""
    steps = range(SCHEDULER_STEPS)
    eta0 = arguments[0]
    mistakes = [("one step early: its η_i is the library's η_{i+1}, as if i counted the steps from 1 (the "
                 "printed convention); the library counts from i = 0, where η_0 = η₀",
                 [scheduler(i + 1) for i in steps]),
                ("one step late: its η_i is the library's η_{i−1} (a strict i > m, or i − 1 where i belongs)",
                 [eta0] + [scheduler(i - 1) for i in steps][1:])]
    if name == "TimeBased":
        printed = [eta0]
        for i in steps[:-1]:
            printed.append(printed[-1] / (1 + arguments[1] * i))
        mistakes.append(("it is the printed recursion η_{i+1} = η_i/(1 + d·i), which compounds the decay; "
                         "time-based decay is η_i = η₀/(1 + d·i)", printed))
    if name == "StepBased":
        mistakes.append(("it decays continuously, η₀·d^(i/r): the floor ⌊i/r⌋ is missing",
                         [eta0 * arguments[1] ** (i / arguments[2]) for i in steps]))
    if name == "MultiStep":
        milestones = arguments[2]
        mistakes.append(("it is the printed exponent Σ_j ⌊i/m_j⌋, which decays again at every multiple of a "
                         "milestone; a milestone decays the rate once: Σ_j [i ≥ m_j]",
                         [eta0 * arguments[1] ** sum(i // m for m in milestones) for i in steps]))
    return mistakes


def check_scheduler(make, name):
    """``make(*arguments)`` must build the scheduler ``name`` of ``nerva_edu.schedulers`` (Constant,
    TimeBased, StepBased, Exponential, MultiStep) from the same arguments, for instance
    ``make(0.1, 0.5, 4)`` for StepBased(η₀ = 0.1, d = 0.5, r = 4): a function (or object) that
    returns η_i when called with the step i = 0, 1, 2, ...

    The rates η_0..η_39 are compared with the library's for several arguments; an off-by-one
    (one step early or late) and the printed forms of §9 are recognized and explained.
    """
    from nerva_edu.schedulers import SCHEDULERS
    if name not in SCHEDULER_CASES:
        raise ValueError(f"check_scheduler: unknown scheduler {name!r}; accepted: {', '.join(SCHEDULER_CASES)}")
    exercise = f"{name} scheduler"
    for arguments in SCHEDULER_CASES[name]:
        library = SCHEDULERS[name][0](*arguments)
        described = f"{name}{arguments}".replace(",)", ")")
        try:
            scheduler = make(*arguments)
            rates = [scheduler(i) for i in range(SCHEDULER_STEPS)]
        except Exception as error:
            return Verdict(exercise, [f"raised {type(error).__name__}: {error} (for {described})."])
        if any(rate is None for rate in rates):
            return Verdict(exercise, [f"a rate of {described} is None: does the function end with `return`?"])
        try:
            rates = [float(rate) for rate in rates]
        except (TypeError, ValueError):
            return Verdict(exercise, [f"the rates of {described} are not numbers (got {type(rates[0]).__name__})."])
        expected = [library(i) for i in range(SCHEDULER_STEPS)]
        if np.allclose(rates, expected, rtol=1e-12, atol=0):
            continue
        close = lambda a, b: np.allclose(a, b, rtol=1e-12, atol=0)   # noqa: E731
        mistake = _first_match(rates, _scheduler_mistakes(name, library, arguments), close)
        i = next(i for i in range(SCHEDULER_STEPS) if not close(rates[i], expected[i]))
        return Verdict(exercise, [f"for {described}, η_{i} is {rates[i]:.6g}, expected {expected[i]:.6g}" +
                                  (f": {mistake}." if mistake else " (the first step where they differ).")])
    return Verdict(exercise, [], [f"{len(SCHEDULER_CASES[name])} sets of arguments, steps 0–{SCHEDULER_STEPS - 1} (equal to "
                                  f"nerva_edu.schedulers.{name})"])


# --- a training step (spec §10: feedforward, loss gradient, backpropagation, update) -------------------

TRAINING_LOSSES = ("softmax_cross_entropy", "mean_squared_error")
TRAINING_BATCH = 6          # N: a factor N or 1/N shows clearly


def _parameters(mlp):
    """{(layer number, name): a copy of the value} of every parameter of the network."""
    return {(i, name): np.array(getattr(layer, name), dtype=np.float64)
            for i, layer in enumerate(mlp.layers, start=1) for name in layer.parameter_names}


def _gradients(mlp):
    return {(i, name): np.array(getattr(layer, "D" + name), dtype=np.float64)
            for i, layer in enumerate(mlp.layers, start=1) for name in layer.parameter_names}


def _training_mistakes(gradient, previous, accumulated, N):
    """(explanation, effective gradient) of the typical wrong steps; the effective gradient of a step
    with plain gradient descent is (θ − θ')/η."""
    scaled = lambda c: {key: c * value for key, value in gradient.items()}   # noqa: E731
    return [
        (f"the update is N = {N} times too large: DY was not divided by N, which is the gradient of the summed "
         "loss rather than of the mean over the batch", scaled(N)),
        (f"the update is 1/N = 1/{N} of the right one: the gradient was divided by N twice (mean_squared_error "
         "is already a mean, over the K·N entries; see nerva_edu.mlp.batch_mean_scale)", scaled(1 / N)),
        ("wrong sign: the parameters moved up the gradient (a DY of the wrong sign, or θ + η·Dθ)", scaled(-1)),
        ("the parameters did not change: mlp.optimize(eta) was not called, or the step ran on a copy", scaled(0)),
        ("the update used the gradients of the previous batch: mlp.backpropagate must assign this batch's "
         "gradients before mlp.optimize", previous),
        ("the update used the sum of this and the earlier batches' gradients: the gradients were accumulated "
         "instead of assigned anew (zeroed) for each batch", accumulated),
    ]


def _loss_mistakes(expected, after, N):
    return [(f"it is N = {N} times the mean loss (not divided by N: the summed loss)", N * expected),
            (f"it is 1/N = 1/{N} of the mean loss (divided by N twice; mean_squared_error is already a mean)",
             expected / N),
            ("it is the loss after the update; train_step returns the loss of the outputs it differentiated", after)]


def check_training_step(fn, losses=TRAINING_LOSSES, eta=0.1):
    """fn(mlp, X, T, loss, eta) must do what ``nerva_edu.mlp.train_step`` does: one step of
    mini-batch gradient descent on the mean loss per example of the batch, L̄ (the batch
    convention of ``nerva_edu.mlp``), returning L̄ before the update.

    It is run for three batches of N = 6 examples on a small network (ReLU, SReLU and linear
    layers, float64, gradient descent) for each loss in ``losses``; before every batch the
    library computes the right step from the same network. A wrong update is explained by the
    gradient it used (a factor N or 1/N, the sign, no update, the previous batch's gradients,
    accumulated gradients); a wrong value by its factor. A last run with momentum checks that
    the step uses the network's own optimizers.
    """
    from nerva_edu.mlp import batch_mean_scale, build_mlp, train_step
    rng = np.random.default_rng(2024)
    N, exercise = TRAINING_BATCH, "training step"

    def batch():
        X = rng.standard_normal((N, 4))
        return X, np.eye(3)[rng.integers(0, 3, N)]

    for name in losses:
        loss = LOSSES[name]
        mlp = build_mlp("ReLU;SReLU;Linear", "4;6;5;3", "GradientDescent", "He", np.random.default_rng(7))
        train_step(mlp, *batch(), loss, eta)                    # so that there are gradients of a previous batch
        previous = _gradients(mlp)
        accumulated = {key: 0 * value for key, value in previous.items()}   # since the submission's first step
        for number in range(1, 4):
            X, T = batch()
            reference = copy.deepcopy(mlp)
            expected_loss = train_step(reference, X, T, loss, eta)
            gradient, expected = _gradients(reference), _parameters(reference)
            after_loss = batch_mean_scale(loss, N) * float(loss(reference.feedforward(X), T))
            accumulated = {key: accumulated[key] + gradient[key] for key in gradient}
            before = _parameters(mlp)
            where = f"batch {number} with {name}"
            try:
                returned = fn(mlp, X, T, loss, eta)
            except Exception as error:
                return Verdict(exercise, [f"raised {type(error).__name__}: {error} ({where})."])
            after = _parameters(mlp)
            if not all(np.allclose(after[key], expected[key], rtol=1e-9, atol=1e-12) for key in expected):
                used = {key: (before[key] - after[key]) / eta for key in before}
                mistake = _first_match(list(used.values()), [(e, list(g.values())) for e, g in
                                                             _training_mistakes(gradient, previous, accumulated, N)],
                                       _all_close)
                if mistake is None:
                    wrong = [f"{p} of layer {i}" for (i, p) in expected
                             if not np.allclose(after[i, p], expected[i, p], rtol=1e-9, atol=1e-12)]
                    mistake = ("every parameter differs from the library's step (θ' = θ − η·Dθ with the gradient of "
                               "the mean loss)" if len(wrong) == len(expected) else
                               f"{', '.join(wrong)} differ from the library's step (not updated, or updated with "
                               f"another gradient); mlp.optimize updates every parameter of every layer")
                return Verdict(exercise, [f"{where}: {mistake}."])
            if returned is None:
                return Verdict(exercise, ["the step returns None: return the mean loss of the batch (before the "
                                          "update), as train_step does."])
            try:
                value = float(returned)
            except (TypeError, ValueError):
                return Verdict(exercise, [f"it returns a {type(returned).__name__}, expected the mean loss (a number)."])
            if not math.isclose(value, expected_loss, rel_tol=1e-9):
                mistake = _first_match(value, _loss_mistakes(expected_loss, after_loss, N),
                                       lambda a, b: math.isclose(a, b, rel_tol=1e-9))
                return Verdict(exercise, [f"{where}: the parameters are right, but the returned loss is {value:.6g}, "
                                          f"expected {expected_loss:.6g}" + (f": {mistake}." if mistake else ".")])
            previous = gradient
    momentum = build_mlp("ReLU;SReLU;Linear", "4;6;5;3", "Momentum(0.9)", "He", np.random.default_rng(7))
    reference = copy.deepcopy(momentum)
    for _ in range(3):
        X, T = batch()
        try:
            fn(momentum, X, T, LOSSES[losses[0]], eta)
        except Exception as error:
            return Verdict(exercise, [f"raised {type(error).__name__}: {error} (on a network with Momentum(0.9))."])
        train_step(reference, X, T, LOSSES[losses[0]], eta)
    expected = _parameters(reference)
    if not all(np.allclose(value, expected[key], rtol=1e-9, atol=1e-12) for key, value in _parameters(momentum).items()):
        return Verdict(exercise, ["right with gradient descent, but not with Momentum(0.9) layers: the step must "
                                  "update through the network's own optimizers (mlp.optimize), not with its own "
                                  "θ − η·Dθ."])
    return Verdict(exercise, [], [f"3 batches each with {' and '.join(losses)} (gradient descent), and with momentum"],
                   ["its update and its loss equal train_step's"])


__all__ += ["check_initializer", "check_optimizer_step", "check_scheduler", "check_training_step"]
# --- backpropagation through a network (the chapter on backpropagation) ------------------------

# (layers, sizes, N): widths all different (a transposed result shows in its shape), then equal
# (a transposed result shows in its values)
_NETWORKS = [("ReLU;Sigmoid;Linear", "3;4;2;5", 2), ("Tanh;Linear", "2;5;3", 4), ("Sigmoid;Tanh;Linear", "3;3;3;3", 3),
             ("Linear", "4;2", 3)]
_SYMBOLIC_NETWORK = ("Tanh;Linear", "2;2;2", 2)


class _RecordsReads:
    """Mixed into a layer's class: records the position of the layer whenever its input, weights
    or activation are read, so that the order in which a submission visits the layers shows."""

    def __getattribute__(self, name):
        if name in ("X", "Z", "W", "act"):
            record = object.__getattribute__(self, "__dict__").get("_record")
            if record is not None:
                record[0].append(record[1])
        return super().__getattribute__(name)


def _prepare(mlp):
    """Set every gradient of mlp to zero (as torch's .grad starts) and record from now on the
    order in which the layers are read (see _RecordsReads); returns that record, a list of
    layer positions."""
    record = []
    for position, layer in enumerate(mlp.layers, start=1):
        for name in layer.parameter_names:
            setattr(layer, "D" + name, 0 * getattr(layer, name))
        layer.__class__ = type(type(layer).__name__, (_RecordsReads, type(layer)), {})
        layer._record = (record, position)
    return record


def _network_case(layers, sizes, N, seed, kind):
    """(mlp, X, DY) with random parameters, input and output gradient, of ``kind`` numpy or torch."""
    rng = np.random.default_rng(seed)
    convert = (lambda A: A) if kind == "numpy" else (lambda A: as_torch(A).requires_grad_())
    mlp = network(layers, sizes, lambda key, value: convert(rng.standard_normal(np.shape(value))))
    X = convert(rng.standard_normal((N, mlp.layers[0].input_size)))
    DY = rng.standard_normal((N, mlp.layers[-1].output_size))
    return mlp, X, (DY if kind == "numpy" else as_torch(DY))


def _gradient_names(mlp):
    """DW_L, Db_L, ..., DW1, Db1, DX0: the order in which backpropagation computes them."""
    return [f"D{name}{position}" for position in range(len(mlp.layers), 0, -1)
            for name in mlp.layers[position - 1].parameter_names] + ["DX0"]


def _autograd_network_gradients(layers, sizes, N, seed):
    """The gradients of elements_sum(Y ⊙ DY) by torch autograd on the library's feedforward."""
    import torch
    mlp, X, DY = _network_case(layers, sizes, N, seed, "torch")
    Y = mlp.feedforward(X)
    values = {"D" + key: getattr(layer, name) for key, layer, name in parameters(mlp)}
    values["DX0"] = X
    grads = torch.autograd.grad(matrix.elements_sum(matrix.hadamard(Y, DY)), list(values.values()))
    return dict(zip(values, (g.numpy() for g in grads)))


def _without_activation_derivative(layers, sizes, N, seed):
    """The gradients when every activation layer skips DZ = DY ⊙ act'(Z) (DZ = DY)."""
    mlp, X, DY = _network_case(layers, sizes, N, seed, "numpy")
    Y = mlp.feedforward(X)
    for layer in reversed(mlp.layers):
        DY, Y = Linear.backpropagate(layer, Y, DY), layer.X
    return backpropagated_gradients(mlp, DY)


def _run_backward(fn, mlp, Y, DY, where):
    """fn's gradients {name: value} after one call, or a Verdict problem (a sentence)."""
    try:
        DX = fn(mlp, Y, DY)
    except Exception as error:  # the reader's code may raise anything: report it
        return None, (f"raised {type(error).__name__}: {error} (for {where}). Check the shapes: DZ is N×K "
                      f"like the layer's output, DW = DZᵀ·X is K×D like W, Db = 1_Nᵀ·DZ is 1×K like b, "
                      f"DX = DZ·W is N×D.")
    return backpropagated_gradients(mlp, DX), None


_SHAPE_HINTS = {"Db": " The bias gradient Db = 1_Nᵀ·DZ is a 1×K row vector, the shape of b.",
                "DW": " DW = DZᵀ·X has the shape of W (K×D)."}


def _network_problem(actual, expected, names, where):
    """The first gradient of ``actual`` (names in the order backpropagation computes them) that
    differs from ``expected`` (NumPy), explained; None when all agree."""
    for name in names:
        problem = _compare(actual[name], expected[name], name, where)
        if not problem:
            continue
        if name != "DX0" and _equal(actual[name], 0 * expected[name]):
            return (f"{name} is still zero (for {where}): every layer's gradients must be set "
                    f"(layer.DW = …, layer.Db = …).")
        if np.shape(actual[name]) not in ((), expected[name].shape):
            problem += _SHAPE_HINTS.get(name[:2], "")
        return problem
    return None


def _grade_network_case(fn, layers, sizes, N, seed):
    """The first problem of fn on one NumPy network (None when it is right), calling it twice."""
    mlp, X, DY = _network_case(layers, sizes, N, seed, "numpy")
    Y = mlp.feedforward(X)
    record = _prepare(mlp)
    where = f"the network {layers} with sizes {sizes} and N = {N}"
    names = _gradient_names(mlp)
    first, problem = _run_backward(fn, mlp, Y, DY, where)
    if not problem:
        problem = _network_problem(first, _autograd_network_gradients(layers, sizes, N, seed), names, where)
    if problem:
        if len(mlp.layers) > 1 and record and record[0] != len(mlp.layers):
            return (f"the layers are in the wrong order: layer {record[0]} was visited first, for {where}; "
                    f"backpropagation starts at the last layer (DY is the gradient of its output) and goes back "
                    f"to the first.")
        wrong = _without_activation_derivative(layers, sizes, N, seed)
        if first is not None and all(_equal(first[name], wrong[name]) for name in names):
            return (f"the activation's derivative is missing, for {where}: an activation layer needs "
                    f"DZ = DY ⊙ act'(Z) (act.gradient(Z)) before DW = DZᵀ·X, Db = 1_Nᵀ·DZ and DX = DZ·W.")
        return problem
    first = {name: _as_array(value).copy() for name, value in first.items()}
    second, problem = _run_backward(fn, mlp, Y, DY, where + ", called a second time")
    if problem:
        return problem
    for name in names:
        if _equal(second[name], 2 * first[name]):
            return (f"the gradients are accumulated instead of assigned: called a second time with the same Y and "
                    f"DY, {name} doubles (for {where}). Assign layer.D… = …; do not add to the previous value.")
        problem = _compare(second[name], first[name], name, where + ", called a second time with the same Y and DY")
        if problem:
            return problem
    return None


def check_mlp_backward(fn):
    """fn(mlp, Y, DY) must backpropagate DY = DX_L through ``mlp`` (a ``nerva_edu.mlp.MLP`` whose
    layers are ``Linear`` and ``Activation`` layers, after ``Y = mlp.feedforward(X)``): set
    ``layer.DW`` and ``layer.Db`` on every layer and return DX_0, the gradient of the input.

    Each layer keeps its input ``layer.X`` and its weights ``layer.W``; an activation layer also
    its ``Z`` and its ``act`` (``act.gradient(Z)`` is act'(Z)). The gradients are those of
    L = elements_sum(Y ⊙ DY), compared with torch autograd (float64) on NumPy networks of
    several widths; then fn runs on a torch network and on a network of SymPy symbols (compared
    with ``sp.diff``: a proof for all values). fn is called twice on each network: gradients
    must be assigned, not accumulated (they start at zero, as torch's ``.grad``). Mistakes
    explained: the layers in the wrong order, the activation's derivative forgotten, a missing
    transpose, accumulated gradients, a bias gradient of the wrong shape.
    """
    for seed, (layers, sizes, N) in enumerate(_NETWORKS):
        problem = _grade_network_case(fn, layers, sizes, N, seed)
        if problem:
            return Verdict("MLP backward", [problem])
    verdict = Verdict("MLP backward", [], [f"{len(_NETWORKS)} NumPy networks"])
    _torch_network(verdict, fn)
    if verdict.passed:
        _symbolic_network(verdict, fn)
    return verdict


def _torch_network(verdict, fn):
    layers, sizes, N = _NETWORKS[0]
    mlp, X, DY = _network_case(layers, sizes, N, 0, "torch")
    Y = mlp.feedforward(X).detach()
    _prepare(mlp)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            actual = backpropagated_gradients(mlp, fn(mlp, Y, DY))
    except Exception:
        verdict.notes.append("it does not run on torch tensors (write it with nerva_edu.matrix to run on every kind)")
        return
    problem = _network_problem(actual, _autograd_network_gradients(layers, sizes, N, 0), _gradient_names(mlp),
                               f"the torch network {layers}")
    if problem:
        verdict.problems.append(problem)
    else:
        verdict.correct_on.append("torch float64")


def _symbolic_network(verdict, fn):
    net = symbolic_network(*_SYMBOLIC_NETWORK)
    _prepare(net.mlp)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            actual = backpropagated_gradients(net.mlp, fn(net.mlp, net.Y, net.DY))
    except Exception:
        actual = None
    if actual is None or not all(isinstance(value, sp.MatrixBase) for value in actual.values()):
        verdict.notes.append("it does not run on SymPy matrices, so it is not proven for all values")
        return
    for name, expected in symbolic_gradients(net).items():
        got = actual[name]
        if got.shape != expected.shape:
            verdict.problems.append(f"{name} on SymPy matrices has shape {got.shape}, expected {expected.shape}.")
        elif any(entry != 0 for entry in gradient_differences({name: expected}, {name: got})[name]):
            verdict.problems.append(f"{name} on SymPy matrices differs from sp.diff of the loss.")
    if verdict.passed:
        verdict.correct_on.append("SymPy symbols (equal to sp.diff of the loss for all values)")
