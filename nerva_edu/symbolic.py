"""Helpers for the symbolic execution: matrices of symbols and exact equality."""

import sympy as sp


def symbolic_matrix(name, m, n, **assumptions):
    """An m×n SymPy matrix whose entries are the real symbols name_ij (1-based)."""
    assumptions.setdefault("real", True)
    return sp.Matrix(m, n, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", **assumptions))


def row_vector(name, n, **assumptions):
    """A 1×n SymPy row vector of real symbols name_j."""
    assumptions.setdefault("real", True)
    return sp.Matrix(1, n, lambda i, j: sp.Symbol(f"{name}_{j + 1}", **assumptions))


def column_vector(name, m, **assumptions):
    """An m×1 SymPy column vector of real symbols name_i."""
    assumptions.setdefault("real", True)
    return sp.Matrix(m, 1, lambda i, j: sp.Symbol(f"{name}_{i + 1}", **assumptions))


def is_zero(A):
    """True when every entry of A (a matrix or a scalar) simplifies to 0."""
    entries = A if isinstance(A, sp.MatrixBase) else [A]
    return all(sp.simplify(a) == 0 for a in entries)


def assert_equal(A, B, what):
    """Raise AssertionError, showing the difference, unless A − B simplifies to zero."""
    if isinstance(A, sp.MatrixBase) and isinstance(B, sp.MatrixBase) and A.shape != B.shape:
        raise AssertionError(f"{what}: shapes differ, {A.shape} vs {B.shape}")
    difference = (A - B).applyfunc(sp.simplify) if isinstance(A, sp.MatrixBase) else sp.simplify(A - B)
    if not is_zero(difference):
        raise AssertionError(f"{what}: difference does not vanish:\n{difference}")


def gradient(f, X):
    """∇_X f (spec Definition 1, eq. 1): the matrix of ∂f/∂x_ij, shaped like X."""
    return sp.Matrix(X.rows, X.cols, lambda i, j: sp.diff(f, X[i, j]))


def jacobian(f, x):
    """∂f/∂x (spec Definition 3, eq. 4): the m×n matrix of ∂f_i/∂x_j for a vector f with m
    entries and a vector x with n entries, whether they are rows or columns (footnote 1)."""
    f_entries, x_entries = list(f), list(x)
    return sp.Matrix(len(f_entries), len(x_entries), lambda i, j: sp.diff(f_entries[i], x_entries[j]))
