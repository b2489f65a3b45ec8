"""Validation of the matrix-operation table (spec §3, Table 1).

SymPy check: on matrices of symbols, each operation equals its definition in Table 1's
matrix-calculus column (for instance ``columns_sum(X) = 1_mᵀ · X``).
Numeric check (with the torch and the JAX oracle of ``nerva_edu.validation.oracles``): on
random numbers, the NumPy, SymPy and oracle executions of the operation agree, and agree
with the framework call listed in Table 2.
"""

import numpy as np
import sympy as sp

from nerva_edu import matrix as M
from nerva_edu.registry import register
from nerva_edu.symbolic import assert_equal, column_vector, row_vector, symbolic_matrix
from nerva_edu.validation import as_sympy, assert_close

CHAPTER = "book/03-matrix-operations"
m, n = 3, 2


def _random(shape, seed, positive=False):
    values = np.random.default_rng(seed).standard_normal(shape)
    return np.abs(values) + 0.1 if positive else values


def _agree(name, make_args, positive=False):
    """A check that ``M.<name>`` gives the same values on NumPy, SymPy and the oracle's values."""
    operation = getattr(M, name)

    def check(oracle):
        for seed in range(3):
            args = make_args(seed)
            expected = operation(*args)
            for kind, convert in ((oracle.name, oracle.array), ("sympy", as_sympy)):
                converted = [convert(a) if isinstance(a, np.ndarray) else a for a in args]
                assert_close(operation(*converted), expected, f"{name} on {kind}")
    return check


def _matrix_arg(positive=False):
    return lambda seed: [_random((m, n), seed, positive)]


X = symbolic_matrix("x", m, n)
Y = symbolic_matrix("y", m, n)
x_col = column_vector("x", m)
x_row = row_vector("x", n)
ones_m, ones_n = sp.ones(m, 1), sp.ones(n, 1)


def _symbolic(actual, expected, what):
    return lambda: assert_equal(actual(), expected(), what)


def _elementwise(name, f, positive=False):
    """SymPy check for an element-wise operation: entry (i, j) is f(x_ij)."""
    Xp = symbolic_matrix("x", m, n, positive=True) if positive else X
    return _symbolic(lambda: getattr(M, name)(Xp), lambda: Xp.applyfunc(f), f"{name}(X)")


SYMBOLIC = {
    "zeros": _symbolic(lambda: M.zeros(m, n, like=X), lambda: sp.Matrix(m, n, [0] * (m * n)), "zeros(m, n)"),
    "ones": _symbolic(lambda: M.ones(m, like=X), lambda: sp.Matrix([1] * m), "ones(m)"),
    "identity": _symbolic(lambda: M.identity(m, like=X), lambda: sp.Matrix(m, m, lambda i, j: int(i == j)),
                          "identity(m)"),
    "dot": _symbolic(lambda: M.dot(x_col, x_col), lambda: (x_col.T * x_col)[0, 0], "dot(x, x)"),
    "hadamard": _symbolic(lambda: M.hadamard(X, Y), lambda: sp.Matrix(m, n, lambda i, j: X[i, j] * Y[i, j]),
                          "hadamard(X, Y)"),
    "diag": _symbolic(lambda: M.diag(X * X.T), lambda: sp.Matrix([(X * X.T)[i, i] for i in range(m)]),
                      "diag(X Xᵀ)"),
    "Diag": _symbolic(lambda: M.Diag(x_row), lambda: sp.Matrix(n, n, lambda i, j: x_row[j] if i == j else 0),
                      "Diag(x)"),
    "elements_sum": _symbolic(lambda: M.elements_sum(X), lambda: (ones_m.T * X * ones_n)[0, 0],
                              "elements_sum(X) = 1_mᵀ X 1_n"),
    "column_repeat": _symbolic(lambda: M.column_repeat(x_col, n), lambda: x_col * ones_n.T,
                               "column_repeat(x, n) = x 1_nᵀ"),
    "row_repeat": _symbolic(lambda: M.row_repeat(x_row, m), lambda: ones_m * x_row, "row_repeat(x, m) = 1_m x"),
    "columns_sum": _symbolic(lambda: M.columns_sum(X), lambda: ones_m.T * X, "columns_sum(X) = 1_mᵀ X"),
    "rows_sum": _symbolic(lambda: M.rows_sum(X), lambda: X * ones_n, "rows_sum(X) = X 1_n"),
    "columns_max": _symbolic(lambda: M.columns_max(X),
                             lambda: sp.Matrix(1, n, lambda i, j: sp.Max(*[X[k, j] for k in range(m)])),
                             "columns_max(X)"),
    "rows_max": _symbolic(lambda: M.rows_max(X), lambda: sp.Matrix(m, 1, lambda i, j: sp.Max(*X.row(i))),
                          "rows_max(X)"),
    "columns_mean": _symbolic(lambda: M.columns_mean(X), lambda: ones_m.T * X / m,
                              "columns_mean(X) = 1_mᵀ X / m (corrected)"),
    "rows_mean": _symbolic(lambda: M.rows_mean(X), lambda: X * ones_n / n, "rows_mean(X) = X 1_n / n (corrected)"),
    "apply": _elementwise("exp", sp.exp),
    "exp": _elementwise("exp", sp.exp),
    "log": _elementwise("log", sp.log, positive=True),
    "reciprocal": _elementwise("reciprocal", lambda x: 1 / x, positive=True),
    "sqrt": _elementwise("sqrt", sp.sqrt, positive=True),
    "inv_sqrt": _elementwise("inv_sqrt", lambda x: x ** sp.Rational(-1, 2), positive=True),
    "log_sigmoid": _elementwise("log_sigmoid", lambda x: sp.log(1 / (1 + sp.exp(-x)))),
}
SYMBOLIC["apply"] = _symbolic(lambda: M.apply(lambda x: x ** 2 + 1, X), lambda: X.applyfunc(lambda x: x ** 2 + 1),
                              "apply(f, X)")


def _table2_log_sigmoid(oracle):
    """log_sigmoid on the oracle's values agrees with the framework's own log-sigmoid, also at ±1e4."""
    Z = np.array([[-1e4, -20.0, 0.0], [3.0, 20.0, 1e4]])
    expected = oracle.log_sigmoid(oracle.array(Z))
    assert_close(M.log_sigmoid(oracle.array(Z)), expected, f"log_sigmoid vs {oracle.name}")
    assert_close(M.log_sigmoid(Z), expected, f"log_sigmoid (NumPy) vs {oracle.name}")


def _constructed(name, sizes, expected):
    """A check that ``M.<name>(*sizes, like=...)`` makes the expected matrix, of the oracle's kind
    and float64 dtype."""
    def check(oracle):
        like = oracle.array(np.eye(1))
        value = getattr(M, name)(*sizes, like=like)
        assert M.kind(value) == oracle.name and value.dtype == like.dtype, \
            f"{name}: a {M.kind(value)} value of dtype {value.dtype}, expected {oracle.name} {like.dtype}"
        assert_close(value, expected, name)
    return check


NUMERIC = {
    "zeros": _constructed("zeros", (m, n), np.zeros((m, n))),
    "ones": _constructed("ones", (m, n), np.ones((m, n))),
    "identity": _constructed("identity", (m,), np.eye(m)),
    "dot": _agree("dot", lambda s: [_random((m, 1), s), _random((m, 1), s + 7)]),
    "hadamard": _agree("hadamard", lambda s: [_random((m, n), s), _random((m, n), s + 7)]),
    "diag": _agree("diag", lambda s: [_random((m, m), s)]),
    "Diag": _agree("Diag", lambda s: [_random((1, n), s)]),
    "elements_sum": _agree("elements_sum", _matrix_arg()),
    "column_repeat": _agree("column_repeat", lambda s: [_random((m, 1), s), n]),
    "row_repeat": _agree("row_repeat", lambda s: [_random((1, n), s), m]),
    "columns_sum": _agree("columns_sum", _matrix_arg()),
    "rows_sum": _agree("rows_sum", _matrix_arg()),
    "columns_max": _agree("columns_max", _matrix_arg()),
    "rows_max": _agree("rows_max", _matrix_arg()),
    "columns_mean": _agree("columns_mean", _matrix_arg()),
    "rows_mean": _agree("rows_mean", _matrix_arg()),
    "apply": _agree("exp", _matrix_arg()),
    "exp": _agree("exp", _matrix_arg()),
    "log": _agree("log", _matrix_arg(positive=True)),
    "reciprocal": _agree("reciprocal", _matrix_arg(positive=True)),
    "sqrt": _agree("sqrt", _matrix_arg(positive=True)),
    "inv_sqrt": _agree("inv_sqrt", _matrix_arg(positive=True)),
    "log_sigmoid": lambda oracle: (_agree("log_sigmoid", _matrix_arg())(oracle), _table2_log_sigmoid(oracle)),
}

for _name, _sympy_check in SYMBOLIC.items():
    register(f"matrix.{_name}", "§3 Table 1", CHAPTER, getattr(M, _name), sympy=_sympy_check, numeric=NUMERIC[_name])
