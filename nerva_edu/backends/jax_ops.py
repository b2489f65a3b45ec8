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
# the operations written with array methods and operators only read the same for JAX arrays
from nerva_edu.backends.numpy_ops import (columns_max, columns_sum, elements_sum, hadamard, ndim,  # noqa: F401
                                          raw_shape, reciprocal, rows_max, rows_sum, shape)

NAME = "jax"


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


def diag(X):
    return jnp.diagonal(X).reshape(-1, 1)


def Diag(x):
    return jnp.diag(x.reshape(-1))


def column_repeat(x, n):
    return jnp.tile(x, (1, n))


def row_repeat(x, m):
    return jnp.tile(x, (m, 1))


def apply(f, X):
    return f.jax(X) if isinstance(f, Elementwise) else f(X)


def exp(X):
    return jnp.exp(X)


def log(X):
    return jnp.log(X)


def sqrt(X):
    return jnp.sqrt(X)


def log_sigmoid(X):
    return jax.nn.log_sigmoid(X)


def constant(X):
    return jax.lax.stop_gradient(X)
