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

import warnings

import numpy as np
import sympy as sp

from nerva_edu import matrix
from nerva_edu.activations import Sigmoid, SReLU, Tanh
from nerva_edu.layers import (Activation, ActivationDropout, BatchNormalization, Linear, LinearDropout, LogSoftmax,
                              Softmax, SReLULayer)
from nerva_edu.losses import LOSSES
from nerva_edu.softmax import softmax_batch, stable_softmax_batch
from nerva_edu.symbolic import is_zero, symbolic_matrix
from nerva_edu.validation import as_numpy, as_sympy, as_torch

__all__ = ["Verdict", "check_columns_sum", "check_rows_sum", "check_columns_mean", "check_rows_mean",
           "check_row_repeat", "check_column_repeat", "check_hadamard", "check_softmax",
           "check_linear_feedforward", "check_linear_backward", "check_activation_backward",
           "check_srelu_backward", "check_softmax_backward", "check_log_softmax_backward",
           "check_batch_norm_backward", "check_linear_dropout_backward", "check_activation_dropout_backward",
           "check_loss_gradient"]

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
    """Run fn on float64 torch tensors: a wrong value is a problem, a function that does
    not accept tensors only a note."""
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
    if verdict.passed:
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
    """fn(X) must return softmax(X) of a batch X (N×D): the softmax of every row."""
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
    stable = _agrees(fn, 1000 * X, softmax_batch(1000 * X - X.max(axis=1, keepdims=True) * 1000))
    verdict.notes.append("stable for large inputs" if stable else
                         "it overflows (inf or nan) for inputs near 1000: subtract each row's maximum "
                         "first (stable softmax)")
    return verdict


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

    Half of the cases have overlapping thresholds (t_l ≥ t_r), where the first piece wins.
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
