"""The auto-checkers of nerva_edu.exercises: they pass right answers and explain wrong ones."""

import numpy as np
import pytest
import sympy as sp

from nerva_edu import exercises, matrix
from nerva_edu.softmax import stable_softmax_batch


def numpy_columns_sum(X):
    return X.sum(axis=0, keepdims=True)


@pytest.mark.parametrize("check, submission, proven", [
    (exercises.check_columns_sum, matrix.columns_sum, True),
    (exercises.check_columns_sum, numpy_columns_sum, False),
    (exercises.check_rows_sum, matrix.rows_sum, True),
    (exercises.check_columns_mean, matrix.columns_mean, True),
    (exercises.check_rows_mean, lambda X: X.mean(axis=1, keepdims=True), False),
    (exercises.check_row_repeat, lambda x, m: np.tile(x, (m, 1)), False),
    (exercises.check_column_repeat, matrix.column_repeat, True),
    (exercises.check_hadamard, matrix.hadamard, True),
    (exercises.check_softmax, stable_softmax_batch, True),
    (exercises.check_linear_feedforward, lambda X, W, b: X @ W.T + matrix.row_repeat(b, matrix.shape(X)[0]), True),
    (exercises.check_linear_backward, lambda X, W, DY: (DY.T @ X, matrix.columns_sum(DY), DY @ W), True),
])
def test_correct_submissions_pass(check, submission, proven):
    verdict = check(submission)
    assert verdict.passed and bool(verdict), str(verdict)
    assert str(verdict).startswith("✔")
    assert ("SymPy symbols" in str(verdict)) == proven, str(verdict)
    verdict.assert_passed()


def _failing(check, submission, *phrases):
    verdict = check(submission)
    assert not verdict.passed and not bool(verdict), str(verdict)
    assert str(verdict).startswith("✘")
    for phrase in phrases:
        assert phrase in str(verdict), f"{phrase!r} not in {verdict}"
    with pytest.raises(AssertionError, match="✘"):
        verdict.assert_passed()
    return str(verdict)


def test_transposed_result():
    _failing(exercises.check_columns_sum, lambda X: X.sum(axis=0, keepdims=True).T,
             "columns_sum", "shape (3, 1), expected (1, 3)", "transpose of the expected result")
    _failing(exercises.check_linear_backward, lambda X, W, DY: (X.T @ DY, matrix.columns_sum(DY), DY @ W),
             "DW", "transpose of the expected result")


def test_transposed_square_result():
    # the checker sees through a transpose even where the shapes agree (a square DW)
    def square_cases_only(X, W, DY):
        DW = DY.T @ X
        return (DW.T if DW.shape[0] == DW.shape[1] else DW), matrix.columns_sum(DY), DY @ W
    _failing(exercises.check_linear_backward, square_cases_only, "DW", "transposed")


def test_wrong_sign():
    _failing(exercises.check_rows_sum, lambda X: -matrix.rows_sum(X), "rows_sum", "wrong sign")
    _failing(exercises.check_linear_backward, lambda X, W, DY: (DY.T @ X, matrix.columns_sum(DY), -(DY @ W)),
             "DX", "wrong sign")


def test_scaled_result():
    _failing(exercises.check_columns_sum, lambda X: X.mean(axis=0, keepdims=True),
             "constant factor", "0.5 times", "a mean where a sum was meant")
    _failing(exercises.check_columns_mean, lambda X: X.sum(axis=0, keepdims=True),
             "constant factor", "2 times")
    _failing(exercises.check_linear_backward, lambda X, W, DY: (DY.T @ X, 2 * matrix.columns_sum(DY), DY @ W),
             "Db", "2 times")


def test_wrong_shape():
    _failing(exercises.check_columns_sum, lambda X: X.sum(axis=0), "shape (3,), expected (1, 3)", "keepdims")
    _failing(exercises.check_columns_sum, lambda X: X.sum(axis=1, keepdims=True), "shape (2, 1), expected (1, 3)")
    _failing(exercises.check_linear_backward, lambda X, W, DY: (DY.T @ X, DY.sum(axis=1, keepdims=True), DY @ W),
             "Db", "expected (1, 4)")


def test_missing_term_and_wrong_values():
    _failing(exercises.check_linear_feedforward, lambda X, W, b: X @ W.T,
             "Y", "same row vector", "bias")
    _failing(exercises.check_hadamard, lambda X, Y: X + Y, "hadamard", "wrong values", "entry")


def test_softmax_over_columns():
    _failing(exercises.check_softmax, lambda X: np.exp(X) / np.exp(X).sum(axis=0, keepdims=True),
             "normalizes the columns", "every row")


def test_unstable_softmax_is_a_note_not_an_error():
    verdict = exercises.check_softmax(lambda X: np.exp(X) / np.exp(X).sum(axis=1, keepdims=True))
    assert verdict.passed, str(verdict)
    assert "overflows" in str(verdict) and "stable softmax" in str(verdict)


def test_unusable_results_are_explained():
    _failing(exercises.check_linear_backward, lambda X, W, DY: (DY.T @ X, DY @ W), "expected a tuple", "2 values")
    _failing(exercises.check_rows_sum, lambda X: None, "rows_sum", "is None", "return")
    _failing(exercises.check_rows_sum, lambda X: "a string", "rows_sum", "str", "expected a matrix")
    _failing(exercises.check_rows_sum, lambda X: X.no_such_method(), "raised AttributeError", "2×3")


def test_wrong_on_torch_only_is_caught():
    def numpy_right_torch_wrong(X):
        return matrix.rows_sum(X) if isinstance(X, np.ndarray) else 2 * matrix.rows_sum(X)
    _failing(exercises.check_rows_sum, numpy_right_torch_wrong, "torch", "2 times")


def test_wrong_on_symbols_only_is_caught():
    def numpy_and_torch_right_sympy_wrong(X):
        return matrix.rows_sum(X) if matrix.kind(X) != "sympy" else matrix.rows_sum(X) + matrix.ones(2, 1, like=X)
    _failing(exercises.check_rows_sum, numpy_and_torch_right_sympy_wrong, "SymPy", "differs")


# --- loss gradients --------------------------------------------------------------------------

def _naive_sigmoid(Y):
    return 1 / (1 + np.exp(-Y))


@pytest.mark.parametrize("loss, submission, proven", [
    ("squared_error", lambda Y, T: 2 * (Y - T), True),
    ("mean_squared_error", lambda Y, T: 2 * (Y - T) / (Y.shape[0] * Y.shape[1]), True),
    ("cross_entropy", lambda Y, T: -matrix.hadamard(T, matrix.reciprocal(Y)), True),
    ("softmax_cross_entropy", lambda Y, T: matrix.hadamard(stable_softmax_batch(Y),
                                                           matrix.column_repeat(matrix.rows_sum(T), matrix.shape(T)[1])) - T,
     True),
    ("logistic_cross_entropy", lambda Y, T: matrix.hadamard(T, matrix.reciprocal(matrix.ones(*matrix.shape(Y), like=Y)
                                                                                   + matrix.exp(-Y))) - T, True),
    ("negative_log_likelihood", lambda Y, T: -T / (Y * T).sum(axis=1, keepdims=True), False),
])
def test_correct_loss_gradients_pass(loss, submission, proven):
    verdict = exercises.check_loss_gradient(submission, loss)
    assert verdict.passed, str(verdict)
    assert ("SymPy symbols" in str(verdict)) == proven, str(verdict)
    if loss == "softmax_cross_entropy":
        assert "stable for outputs of magnitude 1e4" in str(verdict)


def test_loss_gradient_mistakes_are_explained():
    _failing(lambda fn: exercises.check_loss_gradient(fn, "softmax_cross_entropy"),
             lambda Y, T: stable_softmax_batch(Y) - T, "one-hot simplification", "T·1_K·1_Kᵀ")
    _failing(lambda fn: exercises.check_loss_gradient(fn, "mean_squared_error"), lambda Y, T: 2 * (Y - T),
             "constant factor", "6 times")
    _failing(lambda fn: exercises.check_loss_gradient(fn, "squared_error"), lambda Y, T: 2 * (T - Y), "wrong sign")
    _failing(lambda fn: exercises.check_loss_gradient(fn, "cross_entropy"), lambda Y, T: (-T / Y).sum(axis=0),
             "DY", "shape (3,), expected (2, 3)")


def test_unstable_loss_gradient_gets_a_note():
    with np.errstate(all="ignore"):
        verdict = exercises.check_loss_gradient(lambda Y, T: T * _naive_sigmoid(Y) - T, "logistic_cross_entropy")
    assert verdict.passed, str(verdict)
    naive_softmax = lambda Y: np.exp(Y) / np.exp(Y).sum(axis=1, keepdims=True)  # noqa: E731
    with np.errstate(all="ignore"):
        verdict = exercises.check_loss_gradient(lambda Y, T: naive_softmax(Y) * T.sum(axis=1, keepdims=True) - T,
                                                "softmax_cross_entropy")
    assert verdict.passed and "overflows" in str(verdict), str(verdict)


def test_unknown_loss_is_rejected():
    with pytest.raises(ValueError, match="accepted: squared_error"):
        exercises.check_loss_gradient(lambda Y, T: Y, "hinge")


# --- the backward pass of a whole MLP -------------------------------------------------------------

def _mlp_backward(derivative=True, order=reversed, DW=lambda DZ, X: DZ.T @ X, Db=matrix.columns_sum,
                  DX=lambda DZ, W: DZ @ W, accumulate=False):
    """A backward pass of an MLP of Linear and Activation layers, right or with one mistake."""
    def backward(mlp, Y, DY):
        for layer in order(mlp.layers):
            previous = layer.DW, layer.Db
            DZ = matrix.hadamard(DY, layer.act.gradient(layer.Z)) if derivative and hasattr(layer, "act") else DY
            layer.DW, layer.Db = DW(DZ, layer.X), Db(DZ)
            if accumulate:
                layer.DW, layer.Db = layer.DW + previous[0], layer.Db + previous[1]
            DY = DX(DZ, layer.W)
        return DY
    return backward


def _weights_first(mlp, Y, DY):
    """Right, after reading the layers from the first to the last (not a wrong order)."""
    weights = [layer.W for layer in mlp.layers]
    for layer, W in zip(reversed(mlp.layers), reversed(weights)):
        DZ = matrix.hadamard(DY, layer.act.gradient(layer.Z)) if hasattr(layer, "act") else DY
        layer.DW, layer.Db = DZ.T @ layer.X, matrix.columns_sum(DZ)
        DY = DZ @ W
    return DY


def test_correct_mlp_backward_passes():
    for submission in (_mlp_backward(), lambda mlp, Y, DY: mlp.backpropagate(Y, DY), _weights_first):
        verdict = exercises.check_mlp_backward(submission)
        assert verdict.passed, str(verdict)
        assert "4 NumPy networks" in str(verdict) and "torch float64" in str(verdict)
        assert "SymPy symbols" in str(verdict)


def test_numpy_only_mlp_backward_is_graded_on_numpy():
    verdict = exercises.check_mlp_backward(_mlp_backward(Db=lambda DZ: DZ.sum(axis=0, keepdims=True)))
    assert verdict.passed, str(verdict)
    assert "SymPy symbols" not in str(verdict) and "not proven for all values" in str(verdict)


@pytest.mark.parametrize("submission, phrases", [
    (_mlp_backward(order=list), ["layers are in the wrong order", "starts at the last layer"]),
    (_mlp_backward(derivative=False), ["activation's derivative is missing", "DZ = DY ⊙ act'(Z)"]),
    (_mlp_backward(DW=lambda DZ, X: X.T @ DZ), ["DW3", "transpose", "DW = DZᵀ·X has the shape of W"]),
    (_mlp_backward(DX=lambda DZ, W: DZ @ W.T), ["raised ValueError", "DX = DZ·W is N×D"]),
    (_mlp_backward(accumulate=True), ["accumulated instead of assigned", "doubles"]),
    (_mlp_backward(Db=lambda DZ: DZ.sum(axis=0)), ["Db3", "shape (5,)", "Db = 1_Nᵀ·DZ is a 1×K row vector"]),
    (_mlp_backward(Db=lambda DZ: DZ.sum(axis=1, keepdims=True)), ["Db3", "shape (2, 1)", "1×K row vector"]),
    (lambda mlp, Y, DY: None, ["DW3 is still zero", "must be set"]),
    (lambda mlp, Y, DY: [mlp.backpropagate(Y, DY), None][1], ["DX0", "is None"]),
])
def test_mlp_backward_mistakes_are_explained(submission, phrases):
    _failing(exercises.check_mlp_backward, submission, *phrases)


def test_mlp_backward_wrong_on_symbols_only_is_caught():
    def backward(mlp, Y, DY):
        DX = mlp.backpropagate(Y, DY)
        if isinstance(DY, sp.MatrixBase):
            mlp.layers[0].DW = 2 * mlp.layers[0].DW
        return DX
    _failing(exercises.check_mlp_backward, backward, "DW1 on SymPy matrices differs from sp.diff")
