"""The auto-checkers of nerva_edu.exercises: they pass right answers and explain wrong ones."""

import numpy as np
import pytest

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


def test_unstable_softmax_is_rejected():
    _failing(exercises.check_softmax, lambda X: np.exp(X) / np.exp(X).sum(axis=1, keepdims=True),
             "right for ordinary inputs", "overflows", "stay finite", "stable softmax")


def test_stable_softmax_is_noted_stable():
    assert "stable for large inputs" in str(exercises.check_softmax(stable_softmax_batch))


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
