"""The matrix-operation table (spec Table 2, column "NumPy") for NumPy arrays.

Shapes are checked by ``nerva_edu.matrix``; these functions only compute. Reductions keep
their axis (``keepdims=True``) so that row and column vectors stay 2-D.
"""

import numpy as np

from nerva_edu.backends import Elementwise

NAME = "numpy"


def ndim(X):
    return X.ndim


def raw_shape(X):
    return X.shape


def shape(X):
    return X.shape


def _dtype(like):
    return np.float64 if like is None else like.dtype


def zeros(m, n, like):
    return np.zeros((m, n), dtype=_dtype(like))


def ones(m, n, like):
    return np.ones((m, n), dtype=_dtype(like))


def identity(n, like):
    return np.eye(n, dtype=_dtype(like))


def from_numpy(R, like):
    return R.astype(like.dtype)


def hadamard(X, Y):
    return X * Y


def diag(X):
    return np.diag(X).reshape(-1, 1)


def Diag(x):
    return np.diag(x.reshape(-1))


def elements_sum(X):
    return X.sum()


def column_repeat(x, n):
    return np.tile(x, (1, n))


def row_repeat(x, m):
    return np.tile(x, (m, 1))


def columns_sum(X):
    return X.sum(axis=0, keepdims=True)


def rows_sum(X):
    return X.sum(axis=1, keepdims=True)


def columns_max(X):
    return X.max(axis=0, keepdims=True)


def rows_max(X):
    return X.max(axis=1, keepdims=True)


def apply(f, X):
    return f.numpy(X) if isinstance(f, Elementwise) else f(X)


def exp(X):
    return np.exp(X)


def log(X):
    return np.log(X)


def reciprocal(X):
    return 1 / X


def sqrt(X):
    return np.sqrt(X)


def log_sigmoid(X):
    return -np.logaddexp(0, -X)


def constant(X):
    return X
