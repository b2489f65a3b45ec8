"""The matrix-operation table for SymPy matrices: the exact, symbolic execution.

Shapes are checked by ``nerva_edu.matrix``; these functions only compute. Element-wise
functions are mapped over the entries with ``applyfunc``.
"""

import sympy as sp

from nerva_edu.backends import Elementwise

NAME = "sympy"


def ndim(X):
    return 2


def raw_shape(X):
    return X.shape


def shape(X):
    return X.shape


def zeros(m, n, like):
    return sp.zeros(m, n)


def ones(m, n, like):
    return sp.ones(m, n)


def identity(n, like):
    return sp.eye(n)


def from_numpy(R, like):
    return sp.Matrix(R)


def hadamard(X, Y):
    return X.multiply_elementwise(Y)


def diag(X):
    return sp.Matrix([X[i, i] for i in range(X.rows)])


def Diag(x):
    return sp.diag(*x)


def elements_sum(X):
    return sum(X, sp.Integer(0))


def column_repeat(x, n):
    return sp.Matrix.hstack(*[x] * n)


def row_repeat(x, m):
    return sp.Matrix.vstack(*[x] * m)


def columns_sum(X):
    return sp.ones(1, X.rows) * X


def rows_sum(X):
    return X * sp.ones(X.cols, 1)


def columns_max(X):
    return sp.Matrix([[sp.Max(*X.col(j)) for j in range(X.cols)]])


def rows_max(X):
    return sp.Matrix([sp.Max(*X.row(i)) for i in range(X.rows)])


def apply(f, X):
    return X.applyfunc(f.sympy if isinstance(f, Elementwise) else f)


def exp(X):
    return X.applyfunc(sp.exp)


def log(X):
    return X.applyfunc(sp.log)


def reciprocal(X):
    return X.applyfunc(lambda x: 1 / x)


def sqrt(X):
    return X.applyfunc(sp.sqrt)


def log_sigmoid(X):
    return X.applyfunc(lambda x: -sp.log(1 + sp.exp(-x)))


def constant(X):
    return X
