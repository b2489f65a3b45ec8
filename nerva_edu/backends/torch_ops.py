"""The matrix-operation table (spec Table 2, column "PyTorch") for torch tensors.

Shapes are checked by ``nerva_edu.matrix``; these functions only compute. Every operation
is differentiable, so autograd can check the backpropagation equations.
"""

import torch

from nerva_edu.backends import Elementwise

NAME = "torch"


def ndim(X):
    return X.dim()


def raw_shape(X):
    return tuple(X.shape)


def shape(X):
    return tuple(X.shape)


def _options(like):
    return {"dtype": torch.float64} if like is None else {"dtype": like.dtype, "device": like.device}


def zeros(m, n, like):
    return torch.zeros(m, n, **_options(like))


def ones(m, n, like):
    return torch.ones(m, n, **_options(like))


def identity(n, like):
    return torch.eye(n, **_options(like))


def from_numpy(R, like):
    return torch.as_tensor(R, **_options(like))


def hadamard(X, Y):
    return X * Y


def diag(X):
    return torch.diagonal(X).reshape(-1, 1)


def Diag(x):
    return torch.diag(x.flatten())


def elements_sum(X):
    return X.sum()


def column_repeat(x, n):
    return x.repeat(1, n)


def row_repeat(x, m):
    return x.repeat(m, 1)


def columns_sum(X):
    return X.sum(dim=0, keepdim=True)


def rows_sum(X):
    return X.sum(dim=1, keepdim=True)


def columns_max(X):
    return X.max(dim=0, keepdim=True).values


def rows_max(X):
    return X.max(dim=1, keepdim=True).values


def apply(f, X):
    return f.torch(X) if isinstance(f, Elementwise) else f(X)


def exp(X):
    return torch.exp(X)


def log(X):
    return torch.log(X)


def reciprocal(X):
    return 1 / X


def sqrt(X):
    return torch.sqrt(X)


def log_sigmoid(X):
    return -torch.nn.functional.softplus(-X)


def constant(X):
    return X.detach()
