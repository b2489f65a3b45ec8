"""Softmax functions and their Jacobians (spec §5.1, equations (26)–(28)).

Row versions act on one input x ∈ ℝ^(1×D); batch versions (suffix ``_batch``) act on every
row of X ∈ ℝ^(N×D) at once and are the ones the layers and losses use. The "stable"
versions subtract the row maximum first, z = x − max(x)·1_Dᵀ, so that e^z never overflows:
they stay finite and exact for inputs of any magnitude (1e4 and beyond), while the plain
versions overflow once an input exceeds about 709 (float64).

The spec prints the stable batch softmax under the name log-softmax(X); the formula below
is the one it prints, under its right name (see the errata appendix).
"""

from nerva_edu.matrix import (Diag, column_repeat, elements_sum, exp, hadamard, identity, log,
                              reciprocal, row_repeat, rows_max, rows_sum, shape)

__all__ = ["softmax", "stable_softmax", "log_softmax", "stable_log_softmax",
           "softmax_batch", "stable_softmax_batch", "log_softmax_batch", "stable_log_softmax_batch",
           "softmax_jacobian", "log_softmax_jacobian"]


def _check_row(op, x):
    if shape(x)[0] != 1:
        raise ValueError(f"{op}: expected a row vector x of shape (1, D), got shape {shape(x)}")


def _shifted(X):
    """Z = X − max(X)_row · 1_Dᵀ: every row minus its maximum (largest entry becomes 0)."""
    return X - column_repeat(rows_max(X), shape(X)[1])


# --- batches: X ∈ ℝ^(N×D), one example per row ----------------------------------------------

def softmax_batch(X):
    """softmax(X) = e^X ⊙ (1/(e^X · 1_D) · 1_Dᵀ)."""
    E = exp(X)
    return hadamard(E, column_repeat(reciprocal(rows_sum(E)), shape(X)[1]))


def stable_softmax_batch(X):
    """stable-softmax(X) = e^Z ⊙ (1/(e^Z · 1_D) · 1_Dᵀ) with Z = X − max(X)_row · 1_Dᵀ."""
    return softmax_batch(_shifted(X))


def log_softmax_batch(X):
    """log-softmax(X) = X − log(e^X · 1_D) · 1_Dᵀ."""
    return X - column_repeat(log(rows_sum(exp(X))), shape(X)[1])


def stable_log_softmax_batch(X):
    """stable-log-softmax(X) = Z − log(e^Z · 1_D) · 1_Dᵀ with Z = X − max(X)_row · 1_Dᵀ."""
    return log_softmax_batch(_shifted(X))


# --- one row: x ∈ ℝ^(1×D) ------------------------------------------------------------------

def softmax(x):
    """softmax(x) = e^x / (e^x · 1_D) for a row vector x."""
    _check_row("softmax", x)
    E = exp(x)
    return E * (1 / elements_sum(E))


def stable_softmax(x):
    """stable-softmax(x) = e^z / (e^z · 1_D) with z = x − max(x) · 1_Dᵀ."""
    _check_row("stable_softmax", x)
    return softmax(_shifted(x))


def log_softmax(x):
    """log-softmax(x) = log(softmax(x)), the definition (overflows for large x; use the stable one)."""
    _check_row("log_softmax", x)
    return log(softmax(x))


def stable_log_softmax(x):
    """stable-log-softmax(x) = z − log(e^z · 1_D) · 1_Dᵀ: the batch formula with N = 1."""
    _check_row("stable_log_softmax", x)
    return stable_log_softmax_batch(x)


# --- Jacobians (convention of Definition 3: entry (i, j) is ∂y_i/∂x_j) -----------------------

def softmax_jacobian(x):
    """∂softmax(x)/∂x = Diag(softmax(x)) − softmax(x)ᵀ · softmax(x), equation (26)."""
    _check_row("softmax_jacobian", x)
    y = stable_softmax(x)
    return Diag(y) - y.T @ y


def log_softmax_jacobian(x):
    """∂log-softmax(x)/∂x = 𝕀_D − 1_D · softmax(x), equation (27)."""
    _check_row("log_softmax_jacobian", x)
    D = shape(x)[1]
    return identity(D, like=x) - row_repeat(stable_softmax(x), D)
