"""The auto-checkers of nerva_edu.exercises: they pass right answers and explain wrong ones."""

import functools

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


def test_a_result_turned_into_numpy_on_torch_gets_a_note():
    def preallocated_feedforward(X, W, b):           # writes into a NumPy array, whatever came in
        Y = np.zeros((X.shape[0], W.shape[0]))
        for i in range(X.shape[0]):
            Y[i, :] = X[i, :] @ W.T + b[0, :]
        return Y
    verdict = exercises.check_linear_feedforward(preallocated_feedforward)
    assert verdict.passed, str(verdict)
    assert "torch float64" not in verdict.correct_on
    assert "returns Y as a NumPy array, not a tensor" in str(verdict)
    right = exercises.check_linear_feedforward(lambda X, W, b: X @ W.T + matrix.row_repeat(b, matrix.shape(X)[0]))
    assert "torch float64" in right.correct_on and "NumPy array" not in str(right)


def test_wrong_on_symbols_only_is_caught():
    def numpy_and_torch_right_sympy_wrong(X):
        return matrix.rows_sum(X) if matrix.kind(X) != "sympy" else matrix.rows_sum(X) + matrix.ones(2, 1, like=X)
    _failing(exercises.check_rows_sum, numpy_and_torch_right_sympy_wrong, "SymPy", "differs")


# --- the other layers of §4 ------------------------------------------------------------------

def _linear_part(DZ, X, W, R=None):
    WR = W if R is None else matrix.hadamard(W, R.T)
    DW = DZ.T @ X
    return (DW if R is None else matrix.hadamard(DW, R.T)), matrix.columns_sum(DZ), DZ @ WR


def _Z(X, W, b, R=None):
    WT = W.T if R is None else matrix.hadamard(W.T, R)
    return X @ WT + matrix.row_repeat(b, matrix.shape(X)[0])


def activation_backward(X, W, b, act, DY):
    return _linear_part(matrix.hadamard(DY, act.gradient(_Z(X, W, b))), X, W)


def activation_dropout_backward(X, W, b, R, act, DY):
    return _linear_part(matrix.hadamard(DY, act.gradient(_Z(X, W, b, R))), X, W, R)


def linear_dropout_backward(X, W, R, DY):
    return _linear_part(DY, X, W, R)


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def softmax_backward(X, W, b, DY):
    Y = _softmax(_Z(X, W, b))
    return _linear_part(Y * (DY - (DY * Y).sum(axis=1, keepdims=True)), X, W)


def log_softmax_backward(X, W, b, DY):
    return _linear_part(DY - _softmax(_Z(X, W, b)) * DY.sum(axis=1, keepdims=True), X, W)


def srelu_backward(X, W, b, al, tl, ar, tr, DY, right=None):
    Z = _Z(X, W, b)
    left = Z <= tl
    right = (~left & (Z >= tr)) if right is None else right(Z)
    DW, Db, DX = _linear_part(DY * np.where(left, al, np.where(right, ar, 1)), X, W)
    return (DW, Db, np.sum(DY * np.where(left, Z - tl, 0)), np.sum(DY * np.where(left, 1 - al, 0)),
            np.sum(DY * np.where(right, Z - tr, 0)), np.sum(DY * np.where(right, 1 - ar, 0)), DX)


def batch_norm_backward(X, gamma, epsilon, DY, N_variance=None, keep_mean_term=True, one_over_N=True):
    N = X.shape[0]
    R = X - X.mean(axis=0, keepdims=True)
    scale = 1 / np.sqrt((R ** 2).sum(axis=0, keepdims=True) / (N_variance or N) + epsilon)
    Z, DZ = scale * R, gamma * DY
    DX = N * DZ - (DZ.sum(axis=0, keepdims=True) if keep_mean_term else 0) - Z * (Z * DZ).sum(axis=0, keepdims=True)
    return DY.sum(axis=0, keepdims=True), (Z * DY).sum(axis=0, keepdims=True), (scale / N if one_over_N else scale) * DX


def batch_norm_backward_symbolic(X, gamma, epsilon, DY):
    N = matrix.shape(X)[0]
    R = X - matrix.row_repeat(matrix.columns_mean(X), N)
    scale = matrix.row_repeat(matrix.inv_sqrt(matrix.columns_mean(matrix.hadamard(R, R)), epsilon), N)
    Z, DZ = matrix.hadamard(scale, R), matrix.hadamard(matrix.row_repeat(gamma, N), DY)
    DX = N * DZ - matrix.row_repeat(matrix.columns_sum(DZ), N) \
        - matrix.hadamard(Z, matrix.row_repeat(matrix.columns_sum(matrix.hadamard(Z, DZ)), N))
    return matrix.columns_sum(DY), matrix.columns_sum(matrix.hadamard(Z, DY)), matrix.hadamard(scale / N, DX)


@pytest.mark.parametrize("check, submission, proven", [
    (exercises.check_activation_backward, activation_backward, True),
    (exercises.check_activation_dropout_backward, activation_dropout_backward, True),
    (exercises.check_linear_dropout_backward, linear_dropout_backward, True),
    (exercises.check_softmax_backward, softmax_backward, False),
    (exercises.check_log_softmax_backward, log_softmax_backward, False),
    (exercises.check_srelu_backward, srelu_backward, False),
    (exercises.check_batch_norm_backward, batch_norm_backward, False),
    (exercises.check_batch_norm_backward, batch_norm_backward_symbolic, True),
])
def test_correct_layer_gradients_pass(check, submission, proven):
    verdict = check(submission)
    assert verdict.passed, str(verdict)
    assert ("SymPy symbols" in str(verdict)) == proven, str(verdict)


def test_activation_mistakes_are_explained():
    check = exercises.check_activation_backward

    def forgot_derivative(X, W, b, act, DY):
        return _linear_part(DY, X, W)

    def derivative_at_Y(X, W, b, act, DY):
        return _linear_part(DY * act.gradient(act(_Z(X, W, b))), X, W)

    def transposed_DW(X, W, b, act, DY):
        DW, Db, DX = activation_backward(X, W, b, act, DY)
        return DW.T, Db, DX

    def rows_sum_Db(X, W, b, act, DY):
        DW, Db, DX = activation_backward(X, W, b, act, DY)
        return DW, (DY * act.gradient(_Z(X, W, b))).sum(axis=1, keepdims=True), DX

    _failing(check, forgot_derivative, "factor act'(Z) of the chain rule is missing")
    _failing(check, derivative_at_Y, "evaluated at the output Y = act(Z)")
    _failing(check, transposed_DW, "DW", "transpose of the expected result")
    _failing(check, rows_sum_Db, "Db", "expected (1, 4)")
    def DX_from_DY(X, W, b, act, DY):
        return (activation_backward(X, W, b, act, DY)[0], activation_backward(X, W, b, act, DY)[1], DY @ W)
    _failing(check, DX_from_DY, "DX is computed from DY")


def test_dropout_mistakes_are_explained():
    check = exercises.check_linear_dropout_backward
    _failing(check, lambda X, W, R, DY: (DY.T @ X, *linear_dropout_backward(X, W, R, DY)[1:]), "mask is missing in DW")
    _failing(check, lambda X, W, R, DY: (*linear_dropout_backward(X, W, R, DY)[:2], DY @ W), "mask is missing in DX")

    def untransposed(X, W, R, DY):          # runs only where the mask is square (D = K)
        DW, Db, DX = linear_dropout_backward(X, W, R, DY)
        return ((DY.T @ X) * R if R.shape[0] == R.shape[1] else DW), Db, DX
    _failing(check, untransposed, "mask is not transposed in DW")
    check = exercises.check_activation_dropout_backward
    _failing(check, lambda X, W, b, R, act, DY: _linear_part(DY, X, W, R), "factor act'(Z) of the chain rule")

    def forgot_mask_in_DX(X, W, b, R, act, DY):
        DW, Db, _ = activation_dropout_backward(X, W, b, R, act, DY)
        return DW, Db, (DY * act.gradient(_Z(X, W, b, R))) @ W
    _failing(check, forgot_mask_in_DX, "mask is missing in DX")


def test_softmax_mistakes_are_explained():
    check = exercises.check_softmax_backward

    def diagonal_only(X, W, b, DY):
        Y = _softmax(_Z(X, W, b))
        return _linear_part(DY * Y * (1 - Y), X, W)

    def columns_correction(X, W, b, DY):
        Y = _softmax(_Z(X, W, b))
        return _linear_part(Y * (DY - (DY * Y).sum(axis=0, keepdims=True)), X, W)
    _failing(check, diagonal_only, "only the diagonal of the softmax Jacobian", "−y_i·y_j")
    _failing(check, columns_correction, "sums over the columns")
    _failing(check, lambda X, W, b, DY: _linear_part(_softmax(_Z(X, W, b)) * DY, X, W), "keeps only the Diag(y) part")
    _failing(check, lambda X, W, b, DY: _linear_part(DY, X, W), "the Jacobian of softmax is missing")


def test_log_softmax_mistakes_are_explained():
    check = exercises.check_log_softmax_backward

    def with_output(X, W, b, DY):
        Z = _Z(X, W, b)
        Y = Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
        return _linear_part(DY - Y * DY.sum(axis=1, keepdims=True), X, W)
    _failing(check, with_output, "the layer's output log-softmax(Z)", "e^Y")
    _failing(check, lambda X, W, b, DY: _linear_part(DY - _softmax(_Z(X, W, b)) * DY, X, W), "misses the row sum")
    _failing(check, lambda X, W, b, DY: _linear_part(DY - _softmax(_Z(X, W, b)) * DY.sum(axis=0, keepdims=True), X, W),
             "sums DY over the columns")
    _failing(check, lambda X, W, b, DY: _linear_part(DY, X, W), "the Jacobian of log-softmax is missing")


def test_srelu_mistakes_are_explained():
    check = exercises.check_srelu_backward
    def printed_condition(X, W, b, al, tl, ar, tr, DY):      # the spec's printed condition z ≥ t_r
        return srelu_backward(X, W, b, al, tl, ar, tr, DY, right=lambda Z: Z >= tr)

    def unweighted_Dal(X, W, b, al, tl, ar, tr, DY):
        gradients = list(srelu_backward(X, W, b, al, tl, ar, tr, DY))
        Z = _Z(X, W, b)
        gradients[2] = np.sum(np.where(Z <= tl, Z - tl, 0))
        return tuple(gradients)

    def columns_Dtl(X, W, b, al, tl, ar, tr, DY):
        gradients = list(srelu_backward(X, W, b, al, tl, ar, tr, DY))
        gradients[3] = (DY * np.where(_Z(X, W, b) <= tl, 1 - al, 0)).sum(axis=0, keepdims=True)
        return tuple(gradients)

    def forgot_derivative(X, W, b, al, tl, ar, tr, DY):
        return (*_linear_part(DY, X, W)[:2], *srelu_backward(X, W, b, al, tl, ar, tr, DY)[2:6], DY @ W)
    _failing(check, printed_condition, "Dar also counts the entries z ≤ t_l", "errata")
    _failing(check, unweighted_Dal, "Dal sums A^l", "without weighting it by DY")
    _failing(check, columns_Dtl, "Dtl", "expected a scalar", "elements_sum")
    _failing(check, forgot_derivative, "factor act'(Z) of the chain rule is missing")


def test_batch_norm_mistakes_are_explained():
    check = exercises.check_batch_norm_backward
    _failing(check, functools.partial(batch_norm_backward, one_over_N=False), "factor 1/N of (25) is missing")
    _failing(check, lambda X, gamma, epsilon, DY: batch_norm_backward(X, gamma, epsilon, DY, N_variance=X.shape[0] - 1),
             "divided by N − 1")
    _failing(check, lambda X, gamma, epsilon, DY: batch_norm_backward(X, gamma, 0, DY), "ε is missing")
    _failing(check, lambda X, gamma, epsilon, DY: batch_norm_backward(X, 1.0, epsilon, DY), "the scale γ is missing")

    def constant_statistics(X, gamma, epsilon, DY):
        R = X - X.mean(axis=0, keepdims=True)
        scale = 1 / np.sqrt((R ** 2).mean(axis=0, keepdims=True) + epsilon)
        Dbeta, Dgamma, _ = batch_norm_backward(X, gamma, epsilon, DY)
        return Dbeta, Dgamma, scale * gamma * DY
    _failing(check, constant_statistics, "treats the batch mean and variance as constants")

    def Dgamma_without_Z(X, gamma, epsilon, DY):
        Dbeta, _, DX = batch_norm_backward(X, gamma, epsilon, DY)
        return Dbeta, DY.sum(axis=0, keepdims=True), DX
    _failing(check, Dgamma_without_Z, "the normalized Z is missing")
    _failing(check, lambda X, gamma, epsilon, DY: (DY.sum(axis=0, keepdims=True), (X * DY).sum(axis=0, keepdims=True),
                                                   batch_norm_backward(X, gamma, epsilon, DY)[2]),
             "Dγ uses X where the normalized Z belongs")
    _failing(check, lambda X, gamma, epsilon, DY: batch_norm_backward(X, gamma, epsilon, DY, keep_mean_term=False),
             "the term −1_N·1_Nᵀ·DZ of (25) is missing")


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


# --- weight initializers ---------------------------------------------------------------------

def _he(rng, K, D):
    return rng.normal(0, np.sqrt(2 / D), (K, D))


@pytest.mark.parametrize("name, submission", [
    ("He", _he),
    ("Xavier", lambda rng, K, D: rng.uniform(-1 / np.sqrt(D), 1 / np.sqrt(D), (K, D))),
    ("NormalizedXavier", lambda rng, K, D: rng.uniform(-np.sqrt(6 / (D + K)), np.sqrt(6 / (D + K)), (K, D))),
    ("XavierNormal", lambda rng, K, D: np.sqrt(2 / (D + K)) * rng.standard_normal((K, D))),
    ("HeUniform", lambda rng, K, D: rng.uniform(-np.sqrt(6 / D), np.sqrt(6 / D), (K, D))),
])
def test_correct_initializers_pass(name, submission):
    verdict = exercises.check_initializer(submission, name)
    assert verdict.passed, str(verdict)
    assert "variance" in str(verdict) and "reproducible" in str(verdict)


def test_the_library_initializers_pass_and_are_recognized():
    from nerva_edu import init
    for name in init.DISTRIBUTIONS:
        verdict = exercises.check_initializer(init.weight_initializer(name), name)
        assert verdict.passed and "exactly the library's numbers" in str(verdict), str(verdict)


def test_initializer_mistakes_are_explained():
    check = lambda fn: exercises.check_initializer(fn, "He")   # noqa: E731
    _failing(check, lambda rng, K, D: rng.normal(0, np.sqrt(2 / K), (K, D)), "fan-out", "fan-in D")
    _failing(check, lambda rng, K, D: rng.normal(0, 2 / D, (K, D)), "variance 2/D where NumPy's normal",
             "standard deviation")
    _failing(check, lambda rng, K, D: _he(rng, D, K), "transposed", "K×D")
    _failing(check, lambda rng, K, D: _he(rng, K, D).astype(np.float32), "dtype float32")
    _failing(check, lambda rng, K, D: _he(np.random.default_rng(), K, D), "same seed gave different matrices")
    _failing(check, lambda rng, K, D: _he(rng, K, D) + 0.01, "mean")
    _failing(check, lambda rng, K, D: rng.uniform(-np.sqrt(6 / D), np.sqrt(6 / D), (K, D)), "look uniform",
             "normal distribution")
    _failing(check, lambda rng, K, D: None, "None", "return")
    _failing(lambda fn: exercises.check_initializer(fn, "HeUniform"),
             lambda rng, K, D: rng.uniform(-np.sqrt(2 / D), np.sqrt(2 / D), (K, D)), "a²/3", "√(3·2/D)")
    _failing(lambda fn: exercises.check_initializer(fn, "NormalizedXavier"),
             lambda rng, K, D: rng.uniform(-np.sqrt(3 / D), np.sqrt(3 / D), (K, D)), "fan-in D alone")
    _failing(lambda fn: exercises.check_initializer(fn, "Xavier"), _he, "variance", "1/(3D)")


def test_unknown_initializer_is_rejected():
    with pytest.raises(ValueError, match="accepted: Xavier, NormalizedXavier, He"):
        exercises.check_initializer(_he, "Kaiming")


# --- optimizer steps --------------------------------------------------------------------------

def momentum_in_place(theta, Dtheta, eta, Delta, mu):
    Delta *= mu
    Delta -= eta * Dtheta
    theta += Delta
    return theta, Delta


def nesterov_returning(theta, Dtheta, eta, Delta, mu):
    Delta = mu * Delta - eta * Dtheta
    return theta + mu * Delta - eta * Dtheta, Delta


@pytest.mark.parametrize("rule, submission, note", [
    ("Momentum", momentum_in_place, "in place, as the library does"),
    ("Momentum", lambda theta, g, eta, Delta, mu: (theta + (mu * Delta - eta * g), mu * Delta - eta * g),
     "returns new arrays"),
    ("Nesterov", nesterov_returning, "returns new arrays"),
])
def test_correct_optimizer_steps_pass(rule, submission, note):
    verdict = exercises.check_optimizer_step(submission, rule)
    assert verdict.passed, str(verdict)
    assert "SymPy symbols" in str(verdict) and "a scalar parameter" in str(verdict) and note in str(verdict)


def test_optimizer_step_mistakes_are_explained():
    momentum = lambda fn: exercises.check_optimizer_step(fn, "Momentum")   # noqa: E731
    nesterov = lambda fn: exercises.check_optimizer_step(fn, "Nesterov")   # noqa: E731
    _failing(momentum, lambda th, g, eta, D, mu: (th + (mu * D + eta * g), mu * D + eta * g), "wrong sign")
    _failing(momentum, lambda th, g, eta, D, mu: (th + D, mu * D - eta * g), "old Δ")
    _failing(momentum, lambda th, g, eta, D, mu: (th + mu * (D - eta * g), mu * (D - eta * g)), "μ multiplies η·Dθ")
    _failing(momentum, lambda th, g, eta, v, mu: (th - eta * (mu * v + g), mu * v + g), "torch's velocity")
    _failing(momentum, nesterov_returning, "Nesterov's update")
    _failing(nesterov, momentum_in_place, "plain momentum")
    _failing(nesterov, lambda th, g, eta, D, mu: (th + mu * (mu * D - eta * g), mu * D - eta * g), "−η·Dθ is missing")
    _failing(nesterov, lambda th, g, eta, D, mu: (th + mu * (mu * D + eta * g) + eta * g, mu * D + eta * g),
             "wrong sign")

    def in_place_without_return(theta, Dtheta, eta, Delta, mu):
        momentum_in_place(theta, Dtheta, eta, Delta, mu)
    _failing(momentum, in_place_without_return, "returns None", "changed θ in place")

    def changes_the_gradient(theta, Dtheta, eta, Delta, mu):
        Dtheta *= eta
        return momentum_in_place(theta, Dtheta / eta, eta, Delta, mu)
    _failing(momentum, changes_the_gradient, "changes the gradient Dθ")


def test_an_optimizer_step_for_arrays_only_fails_on_a_scalar():
    def arrays_only(theta, Dtheta, eta, Delta, mu):
        Delta[...] = mu * Delta - eta * Dtheta
        theta[...] = theta + Delta
        return theta, Delta
    _failing(lambda fn: exercises.check_optimizer_step(fn, "Momentum"), arrays_only, "on a scalar parameter")


# --- schedulers -------------------------------------------------------------------------------

def step_based(eta0, d, r):
    return lambda i: eta0 * d ** (i // r)


@pytest.mark.parametrize("name, submission", [
    ("StepBased", step_based),
    ("TimeBased", lambda eta0, d: lambda i: eta0 / (1 + d * i)),
    ("MultiStep", lambda eta0, gamma, milestones: lambda i: eta0 * gamma ** sum(i >= m for m in milestones)),
    ("Exponential", lambda eta0, d: lambda i: eta0 * np.exp(-d * i)),
    ("Constant", lambda eta0: lambda i: eta0),
])
def test_correct_schedulers_pass(name, submission):
    verdict = exercises.check_scheduler(submission, name)
    assert verdict.passed, str(verdict)
    from nerva_edu.schedulers import SCHEDULERS
    assert exercises.check_scheduler(SCHEDULERS[name][0], name).passed   # the library's own class


def test_scheduler_mistakes_are_explained():
    step = lambda fn: exercises.check_scheduler(fn, "StepBased")   # noqa: E731
    _failing(step, lambda eta0, d, r: lambda i: eta0 * d ** ((1 + i) // r), "one step early", "printed convention")
    _failing(step, lambda eta0, d, r: lambda i: eta0 * d ** (max(i - 1, 0) // r), "one step late")
    _failing(step, lambda eta0, d, r: lambda i: eta0 * d ** (i / r), "floor")
    _failing(step, lambda eta0, d, r: lambda i: None, "None", "return")

    def printed_time_based(eta0, d):
        def rate(i):
            value = eta0
            for j in range(i):
                value /= 1 + d * j
            return value
        return rate
    _failing(lambda fn: exercises.check_scheduler(fn, "TimeBased"), printed_time_based, "compounds")
    _failing(lambda fn: exercises.check_scheduler(fn, "MultiStep"),
             lambda eta0, gamma, ms: lambda i: eta0 * gamma ** sum(i // m for m in ms), "every multiple")
    _failing(lambda fn: exercises.check_scheduler(fn, "MultiStep"),
             lambda eta0, gamma, ms: lambda i: eta0 * gamma ** sum(i > m for m in ms), "one step late")
    _failing(lambda fn: exercises.check_scheduler(fn, "Exponential"),
             lambda eta0, d: lambda i: eta0 * np.exp(-d * (i + 1)), "one step early")
    _failing(lambda fn: exercises.check_scheduler(fn, "TimeBased"), lambda eta0, d: lambda i: eta0 / (1 + d) ** i,
             "η_2", "first step where they differ")


def test_unknown_scheduler_is_rejected():
    with pytest.raises(ValueError, match="accepted: Constant, TimeBased"):
        exercises.check_scheduler(step_based, "Cosine")


# --- training steps ---------------------------------------------------------------------------

def right_step(mlp, X, T, loss, eta):
    from nerva_edu.mlp import batch_mean_scale
    s = batch_mean_scale(loss, len(X))
    Y = mlp.feedforward(X)
    mlp.backpropagate(Y, s * loss.gradient(Y, T))
    mlp.optimize(eta)
    return s * float(loss(Y, T))


def step_with(scale_of_gradient=lambda N, loss: 1 / N if loss.name != "mean_squared_error" else 1,
              scale_of_loss=None):
    """A step whose DY and returned loss use the given scales (the typical errors are scales)."""
    def step(mlp, X, T, loss, eta):
        N = len(X)
        Y = mlp.feedforward(X)
        mlp.backpropagate(Y, scale_of_gradient(N, loss) * loss.gradient(Y, T))
        mlp.optimize(eta)
        return (scale_of_loss or scale_of_gradient)(N, loss) * float(loss(Y, T))
    return step


def test_a_correct_training_step_passes():
    from nerva_edu.mlp import train_step
    for submission in (right_step, train_step, step_with()):
        verdict = exercises.check_training_step(submission)
        assert verdict.passed, str(verdict)
        assert "equal train_step's" in str(verdict) and "mean_squared_error" in str(verdict)


def test_training_step_mistakes_are_explained():
    check = exercises.check_training_step
    _failing(check, step_with(lambda N, loss: 1), "N = 6 times too large", "summed")
    _failing(check, step_with(lambda N, loss: 1 / N), "1/N = 1/6", "divided by N twice", "mean_squared_error")
    _failing(check, step_with(lambda N, loss: -1 / N if loss.name != "mean_squared_error" else -1), "wrong sign")
    _failing(check, step_with(scale_of_loss=lambda N, loss: 1), "returned loss", "N = 6 times the mean loss")

    def no_backpropagation(mlp, X, T, loss, eta):
        mlp.feedforward(X)
        mlp.optimize(eta)
        return 0.0
    _failing(check, no_backpropagation, "gradients of the previous batch")

    def no_update(mlp, X, T, loss, eta):
        Y = mlp.feedforward(X)
        mlp.backpropagate(Y, loss.gradient(Y, T) / len(X))
        return float(loss(Y, T)) / len(X)
    _failing(check, no_update, "did not change")

    totals = {}

    def accumulating(mlp, X, T, loss, eta):        # adds every batch's gradients to a running total
        s = 1 if loss.name == "mean_squared_error" else 1 / len(X)
        Y = mlp.feedforward(X)
        mlp.backpropagate(Y, s * loss.gradient(Y, T))
        for layer in mlp.layers:
            for name in layer.parameter_names:
                key = (id(layer), name)
                totals[key] = totals.get(key, 0) + getattr(layer, "D" + name)
                setattr(layer, "D" + name, totals[key])
        mlp.optimize(eta)
        return s * float(loss(Y, T))
    _failing(check, accumulating, "sum of this and the earlier batches")

    def weights_only(mlp, X, T, loss, eta):        # its own update, forgetting every parameter but W
        N = len(X)
        s = 1 if loss.name == "mean_squared_error" else 1 / N
        Y = mlp.feedforward(X)
        mlp.backpropagate(Y, s * loss.gradient(Y, T))
        for layer in mlp.layers:
            layer.W -= eta * layer.DW
        return s * float(loss(Y, T))
    _failing(check, weights_only, "b of layer 1", "every parameter")

    def own_gradient_descent(mlp, X, T, loss, eta):  # right with gradient descent, ignores the optimizers
        s = 1 if loss.name == "mean_squared_error" else 1 / len(X)
        Y = mlp.feedforward(X)
        mlp.backpropagate(Y, s * loss.gradient(Y, T))
        for layer in mlp.layers:
            for name in layer.parameter_names:
                setattr(layer, name, getattr(layer, name) - eta * getattr(layer, "D" + name))
        return s * float(loss(Y, T))
    _failing(check, own_gradient_descent, "Momentum(0.9)", "mlp.optimize")
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


def _vjp(J, DY, N, D):
    return (DY.reshape(1, -1) @ J).reshape(N, D)


def test_vjp_from_jacobian_accepts_the_row_vector_times_the_jacobian():
    assert exercises.check_vjp_from_jacobian(_vjp).passed
    assert exercises.check_vjp_from_jacobian(lambda J, DY, N, D: (J.T @ DY.reshape(-1, 1)).reshape(N, D)).passed


@pytest.mark.parametrize("submission, phrases", [
    (lambda J, DY, N, D: (DY.T.reshape(1, -1) @ J).reshape(N, D), ["flattened column by column", "order 'F'"]),
    (lambda J, DY, N, D: (DY.reshape(1, -1) @ J).reshape(D, N).T, ["reshaped column by column"]),
    (lambda J, DY, N, D: DY.reshape(1, -1) @ J, ["DX", "shape (1, 6)", "expected (2, 3)"]),
    (lambda J, DY, N, D: J @ DY.reshape(-1, 1), ["raised ValueError"]),
    (lambda J, DY, N, D: 2 * _vjp(J, DY, N, D), ["DX"]),
])
def test_vjp_from_jacobian_mistakes_are_explained(submission, phrases):
    _failing(exercises.check_vjp_from_jacobian, submission, *phrases)
