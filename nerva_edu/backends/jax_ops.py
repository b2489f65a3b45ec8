"""The matrix-operation table (spec Table 2, column "JAX") for JAX arrays.

Shapes are checked by ``nerva_edu.matrix``; these functions only compute. Every operation
is a ``jax.numpy`` function, so the same code runs on concrete arrays, is differentiated by
``jax.grad``/``jax.vjp`` and is traced by ``jax.jit``. JAX arrays are immutable: nothing
here (or in the layers) updates a value in place.

JAX computes in float32 unless 64-bit mode is on (``jax.config.update("jax_enable_x64",
True)``); without it a float64 array is silently made float32. The library never changes
that setting: the validations in float64 switch it on (``nerva_edu.validation.oracles``),
and so does ``nerva-edu train --backend jax --dtype float64``.
"""

import jax
import jax.numpy as jnp

from nerva_edu.backends import Elementwise

NAME = "jax"


def ndim(X):
    return X.ndim


def raw_shape(X):
    return tuple(X.shape)


def shape(X):
    return tuple(X.shape)


def _dtype(like):
    return jnp.float64 if like is None else like.dtype


def zeros(m, n, like):
    return jnp.zeros((m, n), dtype=_dtype(like))


def ones(m, n, like):
    return jnp.ones((m, n), dtype=_dtype(like))


def identity(n, like):
    return jnp.eye(n, dtype=_dtype(like))


def from_numpy(R, like):
    return jnp.asarray(R, dtype=like.dtype)


def hadamard(X, Y):
    return X * Y


def diag(X):
    return jnp.diagonal(X).reshape(-1, 1)


def Diag(x):
    return jnp.diag(x.reshape(-1))


def elements_sum(X):
    return X.sum()


def column_repeat(x, n):
    return jnp.tile(x, (1, n))


def row_repeat(x, m):
    return jnp.tile(x, (m, 1))


def columns_sum(X):
    return X.sum(axis=0, keepdims=True)


def rows_sum(X):
    return X.sum(axis=1, keepdims=True)


def columns_max(X):
    return X.max(axis=0, keepdims=True)


def rows_max(X):
    return X.max(axis=1, keepdims=True)


def apply(f, X):
    return f.jax(X) if isinstance(f, Elementwise) else f(X)


def exp(X):
    return jnp.exp(X)


def log(X):
    return jnp.log(X)


def reciprocal(X):
    return 1 / X


def sqrt(X):
    return jnp.sqrt(X)


def log_sigmoid(X):
    return jax.nn.log_sigmoid(X)


def constant(X):
    return jax.lax.stop_gradient(X)
