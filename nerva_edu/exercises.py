"""Auto-checkers for the exercises: grade a reader's function and explain what is wrong.

Each ``check_...(my_fn)`` calls ``my_fn`` on random NumPy inputs of several (non-square)
shapes, then on float64 torch tensors, then on small SymPy matrices of symbols, and compares
with the library's own code (``nerva_edu.matrix``, ``nerva_edu.layers``, ``nerva_edu.softmax``,
``nerva_edu.losses``) and, for gradients, with torch autograd. A wrong answer is explained: a wrong shape, a 1-D
result where the spec has a row or column vector, a transposed result, a wrong sign, a
constant factor (a mean where a sum was meant), rows and columns swapped.

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
from nerva_edu.layers import Linear
from nerva_edu.losses import LOSSES
from nerva_edu.softmax import softmax_batch
from nerva_edu.symbolic import is_zero, symbolic_matrix
from nerva_edu.validation import as_numpy, as_sympy, as_torch
from nerva_edu.validation.network import (gradient_differences, network, parameters, symbolic_gradients,
                                          symbolic_network)

__all__ = ["Verdict", "check_columns_sum", "check_rows_sum", "check_columns_mean", "check_rows_mean",
           "check_row_repeat", "check_column_repeat", "check_hadamard", "check_softmax",
           "check_linear_feedforward", "check_linear_backward", "check_loss_gradient", "check_mlp_backward"]

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
    if actual.shape[0] == actual.shape[1] and np.allclose(actual, expected.T, rtol=1e-9, atol=1e-12):
        return f"{what} for {inputs} is transposed (rows and columns swapped)."
    scale = float(np.vdot(actual, expected) / np.vdot(expected, expected)) if np.any(expected) else 0.0
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
    return "inputs of shape " + ", ".join("×".join(map(str, np.shape(a))) for a in arguments)


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


def _grade(exercise, fn, cases, reference, names, symbolic_case=None):
    """Grade fn on NumPy cases (lists of arguments), on torch, and on one SymPy case.

    ``reference(*arguments)`` returns the expected outputs (NumPy, torch or SymPy values).
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
                return Verdict(exercise, [problem])
    verdict = Verdict(exercise, [], [f"{len(cases)} NumPy cases"])
    _torch(verdict, fn, cases[0], reference, names)
    if symbolic_case is not None and verdict.passed:
        _symbolic(verdict, fn, symbolic_case, reference, names)
    return verdict


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


def _linear_gradients(X, W, DY):
    """(DW, Db, DX) of the linear layer: torch autograd for numbers, the library for symbols."""
    if isinstance(X, sp.MatrixBase):
        layer = Linear(W, matrix.zeros(1, W.rows, like=W))
        DX = layer.backpropagate(layer.feedforward(X), DY)
        return [layer.DW, layer.Db, DX]
    import torch
    X, W, DY = (as_torch(as_numpy(value)).requires_grad_() for value in (X, W, DY))
    b = torch.zeros((1, W.shape[0]), dtype=torch.float64, requires_grad=True)
    Y = Linear(W, b).feedforward(X)
    (Y * DY.detach()).sum().backward()  # ∂L/∂Y = DY for L = elements_sum(Y ⊙ DY)
    return [W.grad, b.grad, X.grad]


def check_linear_backward(fn):
    """fn(X, W, DY) must return (DW, Db, DX): DW = DYᵀ·X, Db = 1_Nᵀ·DY, DX = DY·W.

    The expected gradients come from torch autograd (float64) on the library's feedforward,
    and, on SymPy matrices, from the library's backpropagation proven in its validations.
    """
    rng = np.random.default_rng(2024)
    cases = [[X, W, _random(rng, X.shape[0], W.shape[0])] for X, W, _ in _linear_cases(rng)]
    symbols = [symbolic_matrix("x", 2, 3), symbolic_matrix("w", 2, 3), symbolic_matrix("dy", 2, 2)]
    return _grade("linear backward", fn, cases, _linear_gradients, ["DW", "Db", "DX"], symbolic_case=symbols)


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


def _network_gradients(mlp, DX):
    gradients = {f"D{name}{position}": getattr(layer, "D" + name)
                 for position, layer in enumerate(mlp.layers, start=1) for name in layer.parameter_names}
    return dict(gradients, DX0=DX)


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
    return _network_gradients(mlp, DY)


def _run_backward(fn, mlp, Y, DY, where):
    """fn's gradients {name: value} after one call, or a Verdict problem (a sentence)."""
    try:
        DX = fn(mlp, Y, DY)
    except Exception as error:  # the reader's code may raise anything: report it
        return None, (f"raised {type(error).__name__}: {error} (for {where}). Check the shapes: DZ is N×K "
                      f"like the layer's output, DW = DZᵀ·X is K×D like W, Db = 1_Nᵀ·DZ is 1×K like b, "
                      f"DX = DZ·W is N×D.")
    return _network_gradients(mlp, DX), None


_SHAPE_HINTS = {"Db": " The bias gradient Db = 1_Nᵀ·DZ is a 1×K row vector, the shape of b.",
                "DW": " DW = DZᵀ·X has the shape of W (K×D)."}


def _network_problem(actual, expected, names, where):
    """The first gradient of ``actual`` (names in the order backpropagation computes them) that
    differs from ``expected`` (NumPy), explained; None when all agree."""
    for name in names:
        problem = _compare(actual[name], expected[name], name, where)
        if not problem:
            continue
        if name != "DX0" and _matches(actual[name], 0 * expected[name]):
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
        if first is not None and all(_matches(first[name], wrong[name]) for name in names):
            return (f"the activation's derivative is missing, for {where}: an activation layer needs "
                    f"DZ = DY ⊙ act'(Z) (act.gradient(Z)) before DW = DZᵀ·X, Db = 1_Nᵀ·DZ and DX = DZ·W.")
        return problem
    first = {name: _as_array(value).copy() for name, value in first.items()}
    second, problem = _run_backward(fn, mlp, Y, DY, where + ", called a second time")
    if problem:
        return problem
    for name in names:
        if _matches(second[name], 2 * first[name]):
            return (f"the gradients are accumulated instead of assigned: called a second time with the same Y and "
                    f"DY, {name} doubles (for {where}). Assign layer.D… = …; do not add to the previous value.")
        problem = _compare(second[name], first[name], name, where + ", called a second time with the same Y and DY")
        if problem:
            return problem
    return None


def _matches(value, expected):
    """Whether value (any kind) has the shape and the values of the NumPy array expected."""
    try:
        value = _as_array(value)
    except (TypeError, ValueError):
        return False
    return value.shape == expected.shape and bool(np.allclose(value, expected, rtol=1e-9, atol=1e-12))


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
            actual = _network_gradients(mlp, fn(mlp, Y, DY))
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
            actual = _network_gradients(net.mlp, fn(net.mlp, net.Y, net.DY))
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
