"""Validation of the loss functions and their gradients (spec §6, equations (29)–(35)).

SymPy (K = 3 for one example, N = 2, K = 3 for a batch): every gradient function equals
``gradient`` (∇, Definition 1) of its loss, and every batch loss is the sum of the
single-example losses of its rows. Softmax cross-entropy is computed with the stable
log-softmax, whose row maximum cancels: the check first proves that the stable value equals
the plain formula, then differentiates the plain formula. Logarithms are expanded and tanh
rewritten with exponentials so that ``simplify`` can decide.
Numeric (float64, with the torch and the JAX oracle): every gradient equals the oracle's
automatic gradient of the loss value; the stable losses agree with a reference written with
the framework's log-softmax and log-sigmoid also for outputs of magnitude 1e4. Torch only:
the mean squared error agrees with ``torch.nn.functional.mse_loss``.
"""

import numpy as np
import sympy as sp

from nerva_edu import losses as L
from nerva_edu import matrix as M
from nerva_edu.registry import register
from nerva_edu.softmax import log_softmax_batch
from nerva_edu.symbolic import assert_equal, gradient, row_vector, symbolic_matrix
from nerva_edu.validation import as_numpy, assert_close

CHAPTER = "book/06-loss-functions"
N, K = 2, 3


def _normal(e):
    """A form simplify can decide: logs expanded (arguments are positive), tanh as exponentials."""
    return sp.expand_log(sp.sympify(e).rewrite(sp.exp), force=True)


def _normal_matrix(A):
    return A.applyfunc(_normal)


def _symbols(positive):
    assumptions = {"positive": True} if positive else {}
    return (row_vector("y", K, **assumptions), row_vector("t", K, **assumptions),
            symbolic_matrix("y", N, K, **assumptions), symbolic_matrix("t", N, K, **assumptions))


def _differentiable(f, plain):
    """The value to differentiate: f itself, or its plain formula once proved equal to f."""
    def value(Y, T):
        if plain is None:
            return _normal(f(Y, T))
        assert_equal(_normal(f(Y, T)), _normal(plain(Y, T)), f"{f.__name__}: stable = plain formula")
        return _normal(plain(Y, T))
    return value


def _sympy(value, value_gradient, batch, batch_gradient, positive=False, plain_value=None, plain_batch=None):
    """Gradients by sp.diff, for one example and for a batch; the batch value row by row."""
    def check():
        y, t, Y, T = _symbols(positive)
        single_value = _differentiable(value, plain_value)(y, t)
        assert_equal(_normal_matrix(value_gradient(y, t)), gradient(single_value, y), f"∇_y {value.__name__}")
        batch_value = _differentiable(batch, plain_batch)(Y, T)
        assert_equal(_normal_matrix(batch_gradient(Y, T)), gradient(batch_value, Y), f"∇_Y {batch.__name__}")
        rows = sum(value(Y.row(i), T.row(i)) for i in range(N))
        assert_equal(batch_value, _normal(rows), f"{batch.__name__} = sum of {value.__name__} over the rows")
    return check


def _random_pair(oracle, positive, scale=1.0, one_hot=False, seed=8):
    rng = np.random.default_rng(seed)
    Y = rng.uniform(0.1, 1.0, (N, K)) if positive else scale * rng.standard_normal((N, K))
    T = np.eye(K)[rng.integers(0, K, N)] if one_hot else rng.uniform(0.1, 1.0, (N, K))
    return oracle.array(Y), oracle.array(T)


def _autodiff(value, value_gradient, batch, batch_gradient, positive=False, one_hot=False, reference=None):
    """Numeric check: gradients vs the oracle's, one example and batch; value vs a reference at 1e4."""
    def check(oracle):
        Y, T = _random_pair(oracle, positive, one_hot=one_hot)
        for f, f_gradient, Yv, Tv in ((value, value_gradient, Y[:1], T[:1]), (batch, batch_gradient, Y, T)):
            [expected] = oracle.grad(lambda Yv: f(Yv, Tv), [Yv])
            assert_close(f_gradient(Yv, Tv), expected, f"{f_gradient.__name__} vs {oracle.name} autodiff")
        if reference is not None:
            Y, T = _random_pair(oracle, positive, scale=1e4, one_hot=one_hot)
            expected = reference(oracle, Y, T)
            assert_close(batch(Y, T), expected, f"{batch.__name__} vs {oracle.name} at magnitude 1e4", rtol=1e-12)
            assert_close(batch(as_numpy(Y), as_numpy(T)), expected, f"{batch.__name__} (NumPy) at 1e4", rtol=1e-12)
    return check


def _softmax_ce_reference(oracle, Y, T):
    return -(T * oracle.log_softmax(Y)).sum()


def _logistic_ce_reference(oracle, Y, T):
    return -(T * oracle.log_sigmoid(Y)).sum()


def _one_hot_sympy():
    """With one-hot targets (t·1_K = 1) the general gradient reduces to softmax(y) − t."""
    y, Y = row_vector("y", K), symbolic_matrix("y", N, K)
    t, T = sp.Matrix([[0, 1, 0]]), sp.Matrix([[0, 1, 0], [1, 0, 0]])
    assert_equal(L.softmax_cross_entropy_one_hot_gradient(y, t), L.softmax_cross_entropy_gradient(y, t), "one-hot ∇_y")
    assert_equal(L.softmax_cross_entropy_one_hot_batch_gradient(Y, T), L.softmax_cross_entropy_batch_gradient(Y, T),
                 "one-hot ∇_Y")


def _mse_sympy():
    _, _, Y, T = _symbols(False)
    assert_equal(L.mean_squared_error_batch(Y, T), L.squared_error_batch(Y, T) / (K * N), "L_MSE = L_SE / (K·N)")
    assert_equal(L.mean_squared_error_batch_gradient(Y, T), gradient(L.mean_squared_error_batch(Y, T), Y), "∇_Y L_MSE")


def _mse_numeric(oracle):
    Y, T = _random_pair(oracle, False)
    [expected] = oracle.grad(lambda Y: L.mean_squared_error_batch(Y, T), [Y])
    assert_close(L.mean_squared_error_batch_gradient(Y, T), expected, f"∇_Y L_MSE vs {oracle.name} autodiff")


def _mse_torch_loss():
    import torch
    from nerva_edu.registry import oracle
    Y, T = _random_pair(oracle("torch"), False)
    assert_close(L.mean_squared_error_batch(Y, T), torch.nn.functional.mse_loss(Y, T), "L_MSE vs torch mse_loss")


def _plain_softmax_cross_entropy_batch(Y, T):
    """−1_Nᵀ·(T ⊙ log-softmax(Y))·1_K with the plain (unshifted) log-softmax."""
    return -M.elements_sum(M.hadamard(T, log_softmax_batch(Y)))


LOSS_FUNCTIONS = {
    "squared_error": ("eq. (29)", (L.squared_error, L.squared_error_gradient, L.squared_error_batch,
                                   L.squared_error_batch_gradient), {}),
    "cross_entropy": ("eq. (30)", (L.cross_entropy, L.cross_entropy_gradient, L.cross_entropy_batch,
                                   L.cross_entropy_batch_gradient), {"positive": True}),
    "softmax_cross_entropy": ("eq. (31)", (L.softmax_cross_entropy, L.softmax_cross_entropy_gradient,
                                           L.softmax_cross_entropy_batch, L.softmax_cross_entropy_batch_gradient),
                              {"reference": _softmax_ce_reference}),
    "logistic_cross_entropy": ("eq. (32)", (L.logistic_cross_entropy, L.logistic_cross_entropy_gradient,
                                            L.logistic_cross_entropy_batch, L.logistic_cross_entropy_batch_gradient),
                               {"reference": _logistic_ce_reference}),
    "negative_log_likelihood": ("eq. (33)", (L.negative_log_likelihood, L.negative_log_likelihood_gradient,
                                             L.negative_log_likelihood_batch,
                                             L.negative_log_likelihood_batch_gradient), {"positive": True}),
}

for _name, (_ref, _functions, _options) in LOSS_FUNCTIONS.items():
    _sympy_options = {"positive": _options.get("positive", False)}
    if _name == "softmax_cross_entropy":
        _sympy_options.update(plain_value=_plain_softmax_cross_entropy_batch,
                              plain_batch=_plain_softmax_cross_entropy_batch)
    register(f"{_name}.gradient", _ref, CHAPTER, _functions[3], sympy=_sympy(*_functions, **_sympy_options),
             numeric=_autodiff(*_functions, **_options))

register("mean_squared_error.gradient", "§6 mean squared error", CHAPTER, L.mean_squared_error_batch_gradient,
         sympy=_mse_sympy, numeric=_mse_numeric, torch_only=_mse_torch_loss)
register("softmax_cross_entropy.one_hot_gradient", "eq. (31), one-hot", CHAPTER,
         L.softmax_cross_entropy_one_hot_batch_gradient, sympy=_one_hot_sympy,
         numeric=_autodiff(L.softmax_cross_entropy, L.softmax_cross_entropy_one_hot_gradient,
                         L.softmax_cross_entropy_batch, L.softmax_cross_entropy_one_hot_batch_gradient,
                         one_hot=True, reference=_softmax_ce_reference))
