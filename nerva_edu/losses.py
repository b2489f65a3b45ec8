"""Loss functions and their gradients (spec §6, equations (29)–(33)).

For each loss there is a single-example version, on a row y ∈ ℝ^(1×K) with target t, and a
batch version (suffix ``_batch``) on Y, T ∈ ℝ^(N×K); each comes with its gradient ∇_y or ∇_Y.
The batch versions are bundled, per loss, into a :class:`Loss` in ``LOSSES`` for training:
``loss(Y, T)`` is the value and ``loss.gradient(Y, T)`` is DY.

Softmax and logistic cross-entropy are computed stably, with the stable log-softmax and
``log_sigmoid``: they stay finite and exact for outputs of magnitude 1e4.

Cross-entropy and negative log-likelihood take probabilities Y, and an exact 0 is a
probability (a saturated softmax gives one). They follow the convention 0·log 0 = 0, the
limit of t·log t as t → 0: an entry whose target is 0 contributes 0 to the value and 0 to the
gradient, whatever the output there (the formulas as printed give 0·(−∞) = NaN). A target
entry t > 0 whose output is 0 still gives the true values: a loss of +∞, a gradient of −∞.
"""

from dataclasses import dataclass
from typing import Callable

from nerva_edu.activations import _elementwise, sigmoid
from nerva_edu.matrix import (apply, column_repeat, elements_sum, hadamard, log, log_sigmoid, ones,
                              reciprocal, rows_sum, shape)
from nerva_edu.softmax import (stable_log_softmax, stable_log_softmax_batch, stable_softmax,
                               stable_softmax_batch)


def _check(op, Y, T, row=False):
    """Y and T must have the same shape, and be rows (1×K) for the single-example versions."""
    if shape(Y) != shape(T):
        raise ValueError(f"{op}: output and target must have the same shape, got {shape(Y)} and {shape(T)}")
    if row and shape(Y)[0] != 1:
        raise ValueError(f"{op}: expected a single example, a row vector of shape (1, K), got shape {shape(Y)}")


# [t = 0], element-wise: 1 where a target entry is the number 0, else 0 (a symbol is not 0).
_IS_ZERO = _elementwise("[t = 0]", lambda xp, t: xp.where(t == 0, 1, 0))


def _one_where_target_is_zero(T, A):
    """A with the entries where T is 0 replaced by 1: then T ⊙ log(·) and T ⊙ 1/(·) are 0 there,
    which is the convention 0·log 0 = 0 for the value and for the gradient. A must be finite
    (it is a probability or a sum of them). On symbols this is A itself."""
    M = apply(_IS_ZERO, T)
    return hadamard(A, ones(*shape(T), like=T) - M) + M


# --- squared error (29) and mean squared error ---------------------------------------------

def squared_error(y, t):
    """L_SE(y, t) = (y − t)(y − t)ᵀ."""
    _check("squared_error", y, t, row=True)
    return elements_sum(hadamard(y - t, y - t))


def squared_error_gradient(y, t):
    """∇_y L_SE(y, t) = 2(y − t)."""
    _check("squared_error_gradient", y, t, row=True)
    return 2 * (y - t)


def squared_error_batch(Y, T):
    """L_SE(Y, T) = 1_Nᵀ · ((Y − T) ⊙ (Y − T)) · 1_K."""
    _check("squared_error_batch", Y, T)
    return elements_sum(hadamard(Y - T, Y - T))


def squared_error_batch_gradient(Y, T):
    """∇_Y L_SE(Y, T) = 2(Y − T)."""
    _check("squared_error_batch_gradient", Y, T)
    return 2 * (Y - T)


def mean_squared_error_batch(Y, T):
    """L_MSE(Y, T) = L_SE(Y, T) / (K · N)."""
    _check("mean_squared_error_batch", Y, T)
    N, K = shape(Y)
    return squared_error_batch(Y, T) / (K * N)


def mean_squared_error_batch_gradient(Y, T):
    """∇_Y L_MSE(Y, T) = 2(Y − T) / (K · N) (not printed in the spec; follows from (29))."""
    _check("mean_squared_error_batch_gradient", Y, T)
    N, K = shape(Y)
    return squared_error_batch_gradient(Y, T) / (K * N)


# --- cross-entropy (30) --------------------------------------------------------------------

def cross_entropy(y, t):
    """L_CE(y, t) = −t · log(y)ᵀ, with 0·log 0 = 0."""
    _check("cross_entropy", y, t, row=True)
    return -elements_sum(hadamard(t, log(_one_where_target_is_zero(t, y))))


def cross_entropy_gradient(y, t):
    """∇_y L_CE(y, t) = −t ⊙ 1/y, with 0 where t is 0."""
    _check("cross_entropy_gradient", y, t, row=True)
    return -hadamard(t, reciprocal(_one_where_target_is_zero(t, y)))


def cross_entropy_batch(Y, T):
    """L_CE(Y, T) = −1_Nᵀ · (T ⊙ log(Y)) · 1_K, with 0·log 0 = 0."""
    _check("cross_entropy_batch", Y, T)
    return -elements_sum(hadamard(T, log(_one_where_target_is_zero(T, Y))))


def cross_entropy_batch_gradient(Y, T):
    """∇_Y L_CE(Y, T) = −T ⊙ 1/Y, with 0 where T is 0."""
    _check("cross_entropy_batch_gradient", Y, T)
    return -hadamard(T, reciprocal(_one_where_target_is_zero(T, Y)))


# --- softmax cross-entropy (31) --------------------------------------------------------------

def softmax_cross_entropy(y, t):
    """L_SCE(y, t) = −t · log-softmax(y)ᵀ (with the stable log-softmax)."""
    _check("softmax_cross_entropy", y, t, row=True)
    return -elements_sum(hadamard(t, stable_log_softmax(y)))


def softmax_cross_entropy_gradient(y, t):
    """∇_y L_SCE(y, t) = t · 1_K · softmax(y) − t."""
    _check("softmax_cross_entropy_gradient", y, t, row=True)
    return elements_sum(t) * stable_softmax(y) - t


def softmax_cross_entropy_one_hot_gradient(y, t):
    """∇_y L_SCE(y, t) = softmax(y) − t, valid whenever t · 1_K = 1 (one-hot or label-smoothed targets)."""
    _check("softmax_cross_entropy_one_hot_gradient", y, t, row=True)
    return stable_softmax(y) - t


def softmax_cross_entropy_batch(Y, T):
    """L_SCE(Y, T) = −1_Nᵀ · (T ⊙ log-softmax(Y)) · 1_K (with the stable log-softmax)."""
    _check("softmax_cross_entropy_batch", Y, T)
    return -elements_sum(hadamard(T, stable_log_softmax_batch(Y)))


def softmax_cross_entropy_batch_gradient(Y, T):
    """∇_Y L_SCE(Y, T) = softmax(Y) ⊙ (T · 1_K · 1_Kᵀ) − T."""
    _check("softmax_cross_entropy_batch_gradient", Y, T)
    return hadamard(stable_softmax_batch(Y), column_repeat(rows_sum(T), shape(T)[1])) - T


def softmax_cross_entropy_one_hot_batch_gradient(Y, T):
    """∇_Y L_SCE(Y, T) = softmax(Y) − T, valid whenever every row of T sums to 1 (one-hot or label-smoothed)."""
    _check("softmax_cross_entropy_one_hot_batch_gradient", Y, T)
    return stable_softmax_batch(Y) - T


# --- logistic cross-entropy (32) -------------------------------------------------------------

def logistic_cross_entropy(y, t):
    """L_LCE(y, t) = −t · log(σ(y))ᵀ (with log_sigmoid, which never overflows)."""
    _check("logistic_cross_entropy", y, t, row=True)
    return -elements_sum(hadamard(t, log_sigmoid(y)))


def logistic_cross_entropy_gradient(y, t):
    """∇_y L_LCE(y, t) = t ⊙ σ(y) − t."""
    _check("logistic_cross_entropy_gradient", y, t, row=True)
    return hadamard(t, sigmoid(y)) - t


def logistic_cross_entropy_batch(Y, T):
    """L_LCE(Y, T) = −1_Nᵀ · (T ⊙ log(σ(Y))) · 1_K."""
    _check("logistic_cross_entropy_batch", Y, T)
    return -elements_sum(hadamard(T, log_sigmoid(Y)))


def logistic_cross_entropy_batch_gradient(Y, T):
    """∇_Y L_LCE(Y, T) = T ⊙ σ(Y) − T."""
    _check("logistic_cross_entropy_batch_gradient", Y, T)
    return hadamard(T, sigmoid(Y)) - T


# --- negative log-likelihood (33) ------------------------------------------------------------

def negative_log_likelihood(y, t):
    """L_NLL(y, t) = −log(y · tᵀ) (+∞ when y · tᵀ = 0: the target has probability 0)."""
    _check("negative_log_likelihood", y, t, row=True)
    return -elements_sum(log(y @ t.T))


def negative_log_likelihood_gradient(y, t):
    """∇_y L_NLL(y, t) = −(1 / (y · tᵀ)) · t, with 0 where t is 0 (also when y · tᵀ = 0)."""
    _check("negative_log_likelihood_gradient", y, t, row=True)
    return -hadamard(t, reciprocal(_one_where_target_is_zero(t, column_repeat(y @ t.T, shape(t)[1]))))


def negative_log_likelihood_batch(Y, T):
    """L_NLL(Y, T) = −1_Nᵀ · log((Y ⊙ T) · 1_K).

    The spec prints a trailing "· 1_K", which is ill-typed (1×1 times K×1); see the errata.
    """
    _check("negative_log_likelihood_batch", Y, T)
    return -elements_sum(log(rows_sum(hadamard(Y, T))))


def negative_log_likelihood_batch_gradient(Y, T):
    """∇_Y L_NLL(Y, T) = −(1/((Y ⊙ T) · 1_K) · 1_Kᵀ) ⊙ T, with 0 where T is 0 (also in a row
    whose (Y ⊙ T) · 1_K is 0)."""
    _check("negative_log_likelihood_batch_gradient", Y, T)
    likelihoods = column_repeat(rows_sum(hadamard(Y, T)), shape(T)[1])
    return -hadamard(reciprocal(_one_where_target_is_zero(T, likelihoods)), T)


# --- the batch losses, for training -------------------------------------------------------------

@dataclass(frozen=True)
class Loss:
    """A batch loss: ``loss(Y, T)`` is the value and ``loss.gradient(Y, T)`` is DY = ∇_Y L."""
    name: str
    value: Callable
    gradient: Callable

    def __call__(self, Y, T):
        return self.value(Y, T)


LOSSES = {loss.name: loss for loss in [
    Loss("squared_error", squared_error_batch, squared_error_batch_gradient),
    Loss("mean_squared_error", mean_squared_error_batch, mean_squared_error_batch_gradient),
    Loss("cross_entropy", cross_entropy_batch, cross_entropy_batch_gradient),
    Loss("softmax_cross_entropy", softmax_cross_entropy_batch, softmax_cross_entropy_batch_gradient),
    Loss("logistic_cross_entropy", logistic_cross_entropy_batch, logistic_cross_entropy_batch_gradient),
    Loss("negative_log_likelihood", negative_log_likelihood_batch, negative_log_likelihood_batch_gradient),
]}
