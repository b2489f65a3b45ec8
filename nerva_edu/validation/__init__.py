"""Validations of the spec's equations, run on the code that implements them.

Importing a module of this package registers its checks in ``nerva_edu.registry``.
The helpers below move one matrix between the three value kinds, so that a check can run
the same function on NumPy, torch (float64) and SymPy values and compare the results.
"""

import numpy as np


def as_torch(X):
    """A float64 torch tensor with the entries of a NumPy array."""
    import torch
    return torch.tensor(np.asarray(X, dtype=np.float64))


def as_sympy(X):
    """A SymPy matrix with the (floating-point) entries of a NumPy array."""
    import sympy as sp
    return sp.Matrix(np.asarray(X, dtype=np.float64))


def as_numpy(X):
    """A float64 NumPy array from a NumPy array, a torch tensor or a numeric SymPy matrix
    (scalars become 1×1)."""
    import sympy as sp
    if hasattr(X, "detach"):
        X = X.detach().numpy()
    elif isinstance(X, sp.MatrixBase):
        X = np.array(X.evalf(), dtype=np.float64)
    elif isinstance(X, sp.Basic):
        X = float(X)
    return np.atleast_2d(np.asarray(X, dtype=np.float64))


def assert_close(actual, expected, what, rtol=1e-10, atol=1e-12):
    """Raise AssertionError with the largest deviation unless the values agree."""
    actual, expected = as_numpy(actual), as_numpy(expected)
    if actual.shape != expected.shape:
        raise AssertionError(f"{what}: shapes differ, {actual.shape} vs {expected.shape}")
    if not np.allclose(actual, expected, rtol=rtol, atol=atol):
        deviation = np.max(np.abs(actual - expected))
        raise AssertionError(f"{what}: values differ, largest deviation {deviation:.3e}")
