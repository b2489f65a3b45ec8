"""Validation of the softmax functions and their Jacobians (spec §5.1, equations (26)–(28)).

SymPy (D = 3, N = 2): the batch versions equal the row versions on every row; the stable
versions equal the plain ones (the maximum cancels); log-softmax(X) equals log(softmax(X));
the Jacobians (26) and (27) equal ``jacobian`` of the row functions, and the corrected steps
of derivation (28) hold. Logarithms are expanded with ``expand_log(force=True)``, which is
valid here because every argument is positive.
Numeric (float64, with the torch and the JAX oracle): the functions agree with the
framework's softmax and log-softmax (``torch.softmax``, ``jax.nn.softmax``, ...), the stable
ones also for inputs of magnitude 1e4, and the Jacobians agree with the oracle's automatic
Jacobian (``torch.autograd.functional.jacobian``, ``jax.jacrev``).
"""

import numpy as np
import sympy as sp

from nerva_edu import matrix as M
from nerva_edu import softmax as S
from nerva_edu.registry import register
from nerva_edu.symbolic import assert_equal, jacobian, row_vector, symbolic_matrix
from nerva_edu.validation import as_numpy, assert_close

CHAPTER = "book/05-activation-functions"
N, D = 2, 3
x = row_vector("x", D)
X = symbolic_matrix("x", N, D)


def _expand_logs(A):
    return A.applyfunc(lambda a: sp.expand_log(a, force=True))


def _rows(function, X):
    """function applied to every row of X, stacked."""
    return sp.Matrix.vstack(*[function(X.row(i)) for i in range(X.rows)])


def _inputs(oracle):
    """Random inputs, and inputs of magnitude 1e4 (on which the plain versions overflow)."""
    rng = np.random.default_rng(7)
    return {"ordinary": oracle.array(rng.standard_normal((N, D))),
            "magnitude 1e4": oracle.array(np.array([[1e4, -1e4, 0.5e4], [-1e4, -1e4 + 3, -1e4 + 1]]))}


def _sympy_softmax():
    assert_equal(_rows(S.softmax, X), S.softmax_batch(X), "softmax(X) row by row = softmax(x_i)")
    assert_equal(S.softmax(x), sp.Matrix(1, D, lambda i, j: sp.exp(x[j]) / sum(sp.exp(v) for v in x)),
                 "softmax(x) = e^x / (e^x · 1_D)")


def _sympy_stable_softmax():
    assert_equal(S.stable_softmax(x), S.softmax(x), "stable-softmax(x) = softmax(x)")
    assert_equal(S.stable_softmax_batch(X), S.softmax_batch(X), "stable-softmax(X) = softmax(X)")


def _sympy_log_softmax():
    assert_equal(_expand_logs(S.log_softmax_batch(X) - M.log(S.softmax_batch(X))), sp.zeros(N, D),
                 "log-softmax(X) = log(softmax(X))")
    assert_equal(_rows(S.log_softmax, X), _expand_logs(S.log_softmax_batch(X)), "log-softmax(X) row by row")


def _sympy_stable_log_softmax():
    assert_equal(_expand_logs(S.stable_log_softmax_batch(X)), _expand_logs(S.log_softmax_batch(X)),
                 "stable-log-softmax(X) = log-softmax(X)")
    assert_equal(_expand_logs(S.stable_log_softmax(x)), _expand_logs(S.log_softmax(x)),
                 "stable-log-softmax(x) = log-softmax(x)")


def _sympy_softmax_jacobian():
    assert_equal(S.softmax_jacobian(x), jacobian(S.softmax(x), x), "(26): ∂softmax(x)/∂x")


def _sympy_log_softmax_jacobian():
    assert_equal(S.log_softmax_jacobian(x), _expand_logs(jacobian(_expand_logs(S.log_softmax(x)), x)),
                 "(27): ∂log-softmax(x)/∂x")


def _sympy_derivation_28():
    """The steps of (28) with y = softmax(x), corrected: Diag(1/y)·(Diag(y) − yᵀy) = 𝕀 − Diag(1/y)·yᵀ·y
    and Diag(1/y)·yᵀ = 1_D, so the result is 𝕀_D − 1_D·y."""
    y = row_vector("y", D, positive=True)
    step1 = M.Diag(M.reciprocal(y)) @ (M.Diag(y) - y.T @ y)
    step2 = M.identity(D, like=y) - M.Diag(M.reciprocal(y)) @ y.T @ y
    assert_equal(step1, step2, "(28) step 2")
    assert_equal(M.Diag(M.reciprocal(y)) @ y.T, M.ones(D, like=y), "(28): Diag(1/y)·yᵀ = 1_D")
    assert_equal(step2, M.identity(D, like=y) - M.ones(D, like=y) @ y, "(28) step 3")
    s = S.softmax(x)
    chain = jacobian(M.log(y), y).subs(dict(zip(y, s))) @ jacobian(s, x)          # (9)
    assert_equal(chain, S.log_softmax_jacobian(x), "(28): ∂log(y)/∂y · ∂softmax(x)/∂x")


def _function(ours, reference, stable):
    """Numeric check: ``ours`` agrees with the oracle's function named ``reference``."""
    def check(oracle):
        for what, Xt in _inputs(oracle).items():
            if what != "ordinary" and not stable:
                continue
            expected = getattr(oracle, reference)(Xt)
            assert_close(ours(Xt), expected, f"{ours.__name__} vs {oracle.name} ({what})")
            assert_close(ours(as_numpy(Xt)), expected, f"{ours.__name__} on NumPy vs {oracle.name} ({what})")
            if ours.__name__.endswith("_batch"):
                row_version = getattr(S, ours.__name__[:-len("_batch")])
                assert_close(row_version(Xt[:1]), expected[:1], f"{row_version.__name__} vs {oracle.name} ({what})")
    return check


def _jacobian(ours, functions):
    """Numeric check: ``ours`` equals the oracle's Jacobian of each of ``functions``."""
    def check(oracle):
        for what, Xt in _inputs(oracle).items():
            for f in functions:
                if what != "ordinary" and not f.__name__.startswith("stable"):
                    continue
                for i in range(N):
                    row = Xt[i:i + 1]
                    assert_close(ours(row), oracle.jacobian(f, row),
                                 f"{ours.__name__} vs {oracle.name} autodiff of {f.__name__} ({what})")
    return check


register("softmax.function", "§5.1 softmax", CHAPTER, S.softmax_batch, sympy=_sympy_softmax,
         numeric=_function(S.softmax_batch, "softmax", stable=False))
register("stable_softmax.function", "§5.1 stable-softmax", CHAPTER, S.stable_softmax_batch,
         sympy=_sympy_stable_softmax, numeric=_function(S.stable_softmax_batch, "softmax", stable=True))
register("log_softmax.function", "§5.1 log-softmax", CHAPTER, S.log_softmax_batch, sympy=_sympy_log_softmax,
         numeric=_function(S.log_softmax_batch, "log_softmax", stable=False))
register("stable_log_softmax.function", "§5.1 stable-log-softmax", CHAPTER, S.stable_log_softmax_batch,
         sympy=_sympy_stable_log_softmax, numeric=_function(S.stable_log_softmax_batch, "log_softmax", stable=True))
register("softmax.jacobian", "eq. (26)", CHAPTER, S.softmax_jacobian, sympy=_sympy_softmax_jacobian,
         numeric=_jacobian(S.softmax_jacobian, [S.softmax, S.stable_softmax]))
register("log_softmax.jacobian", "eq. (27)", CHAPTER, S.log_softmax_jacobian, sympy=_sympy_log_softmax_jacobian,
         numeric=_jacobian(S.log_softmax_jacobian, [S.log_softmax, S.stable_log_softmax]))
register("log_softmax.derivation", "eq. (28)", CHAPTER, S.log_softmax_jacobian, sympy=_sympy_derivation_28)
