"""The matrix-operation table of the spec (§3, Table 1), for four kinds of values.

Every layer, activation, softmax function and loss in ``nerva_edu`` is written with the
functions below and the native operators ``+``, ``-``, ``c * X``, ``X @ Z`` and ``X.T``.
Each function accepts a NumPy array, a SymPy matrix, a torch tensor or a JAX array and
returns a value of the same kind, so one implementation runs on numbers (to train), on
symbols (to prove), and on torch tensors and JAX arrays (to compare with two independent
automatic differentiations, and to compile a training step with ``jax.jit``).

The semantics are strictly two-dimensional, as in the spec: a row vector is 1×n, a column
vector is m×1, and nothing is broadcast silently. A shape that does not fit raises
``ValueError`` naming the operation and the shapes; a value of another kind raises
``TypeError``. The checks live here, once; the backends in ``nerva_edu.backends`` only
compute.
"""

from nerva_edu.backends import backend_of, backend_named

__all__ = [
    "zeros", "ones", "identity", "dot", "hadamard", "diag", "Diag", "elements_sum",
    "column_repeat", "row_repeat", "columns_sum", "rows_sum", "columns_max", "rows_max",
    "columns_mean", "rows_mean", "apply", "exp", "log", "reciprocal", "sqrt", "inv_sqrt",
    "log_sigmoid", "shape", "kind",
]


def shape(X):
    """The (rows, columns) of a two-dimensional value of any supported kind."""
    return backend_of(X).shape(X)


def kind(X):
    """The name of the value kind of X: ``"numpy"``, ``"sympy"``, ``"torch"`` or ``"jax"``."""
    return backend_of(X).NAME


def _matrix(op, X):
    """Check that X is a two-dimensional value of a supported kind; return its backend."""
    backend = backend_of(X)
    if backend.ndim(X) != 2:
        raise ValueError(f"{op}: expected a 2-D matrix, got shape {backend.raw_shape(X)}")
    return backend


def _same_kind(op, X, Y):
    backend, other = _matrix(op, X), _matrix(op, Y)
    if backend is not other:
        raise TypeError(f"{op}: both operands must be of one kind, got {backend.NAME} and {other.NAME}")
    return backend


def _like(like):
    return backend_named("numpy") if like is None else backend_of(like)


# --- construction -------------------------------------------------------------------------

def zeros(m, n=1, like=None):
    """0_m (m×1) or 0_mn (m×n): zeros, of the kind and dtype of ``like`` (default NumPy)."""
    return _like(like).zeros(m, n, like)


def ones(m, n=1, like=None):
    """1_m (m×1) or 1_mn (m×n): ones, of the kind and dtype of ``like`` (default NumPy)."""
    return _like(like).ones(m, n, like)


def identity(n, like=None):
    """𝕀_n: the n×n identity matrix, of the kind and dtype of ``like`` (default NumPy)."""
    return _like(like).identity(n, like)


# --- products -----------------------------------------------------------------------------

def dot(x, y):
    """xᵀy for column vectors or xyᵀ for row vectors (Table 1): a scalar."""
    backend = _same_kind("dot", x, y)
    m, n = backend.shape(x)
    if backend.shape(y) != (m, n) or (m != 1 and n != 1):
        raise ValueError(f"dot: expected two row vectors or two column vectors of equal length, "
                         f"got shapes {(m, n)} and {backend.shape(y)}")
    return backend.elements_sum(backend.hadamard(x, y))


def hadamard(X, Y):
    """X ⊙ Y: the element-wise product of two matrices of equal shape."""
    backend = _same_kind("hadamard", X, Y)
    if backend.shape(X) != backend.shape(Y):
        raise ValueError(f"hadamard: shapes must be equal, got {backend.shape(X)} and {backend.shape(Y)}")
    return backend.hadamard(X, Y)


# --- diagonals ----------------------------------------------------------------------------

def diag(X):
    """diag(X): the column vector (n×1) holding the diagonal of the square matrix X."""
    backend = _matrix("diag", X)
    m, n = backend.shape(X)
    if m != n:
        raise ValueError(f"diag: expected a square matrix, got shape {(m, n)}")
    return backend.diag(X)


def Diag(x):
    """Diag(x): the diagonal matrix with the row (1×n) or column (n×1) vector x on its diagonal."""
    backend = _matrix("Diag", x)
    m, n = backend.shape(x)
    if m != 1 and n != 1:
        raise ValueError(f"Diag: expected a row or column vector, got shape {(m, n)}")
    return backend.Diag(x)


# --- sums, repeats, reductions -------------------------------------------------------------

def elements_sum(X):
    """1_mᵀ · X · 1_n: the sum of all elements of X, a scalar."""
    return _matrix("elements_sum", X).elements_sum(X)


def column_repeat(x, n):
    """x · 1_nᵀ: n copies of the column vector x (m×1) side by side, an m×n matrix."""
    backend = _matrix("column_repeat", x)
    if backend.shape(x)[1] != 1:
        raise ValueError(f"column_repeat: expected a column vector (m×1), got shape {backend.shape(x)}")
    return backend.column_repeat(x, n)


def row_repeat(x, m):
    """1_m · x: m copies of the row vector x (1×n) stacked, an m×n matrix."""
    backend = _matrix("row_repeat", x)
    if backend.shape(x)[0] != 1:
        raise ValueError(f"row_repeat: expected a row vector (1×n), got shape {backend.shape(x)}")
    return backend.row_repeat(x, m)


def columns_sum(X):
    """1_mᵀ · X: the 1×n row vector of column sums."""
    return _matrix("columns_sum", X).columns_sum(X)


def rows_sum(X):
    """X · 1_n: the m×1 column vector of row sums."""
    return _matrix("rows_sum", X).rows_sum(X)


def columns_max(X):
    """max(X)_col: the 1×n row vector of column maxima."""
    return _matrix("columns_max", X).columns_max(X)


def rows_max(X):
    """max(X)_row: the m×1 column vector of row maxima."""
    return _matrix("rows_max", X).rows_max(X)


def columns_mean(X):
    """(1_mᵀ · X) / m: the 1×n row vector of column means.

    Table 1 prints the divisor as n; the mean of a column of m entries divides by m
    (see the errata appendix).
    """
    backend = _matrix("columns_mean", X)
    return backend.columns_sum(X) / backend.shape(X)[0]


def rows_mean(X):
    """(X · 1_n) / n: the m×1 column vector of row means.

    Table 1 prints the divisor as m; the mean of a row of n entries divides by n
    (see the errata appendix).
    """
    backend = _matrix("rows_mean", X)
    return backend.rows_sum(X) / backend.shape(X)[1]


# --- element-wise functions ---------------------------------------------------------------

def apply(f, X):
    """f(X): f applied to every element of X.

    ``f`` is either a function of one real number written with operations that every
    kind understands, or an :class:`~nerva_edu.backends.Elementwise` with one
    implementation per kind (as the activation functions are).
    """
    return _matrix("apply", X).apply(f, X)


def exp(X):
    """e^X, element-wise."""
    return _matrix("exp", X).exp(X)


def log(X):
    """log(X), the natural logarithm, element-wise."""
    return _matrix("log", X).log(X)


def reciprocal(X):
    """1/X, element-wise."""
    return _matrix("reciprocal", X).reciprocal(X)


def sqrt(X):
    """√X, element-wise."""
    return _matrix("sqrt", X).sqrt(X)


def inv_sqrt(X, epsilon=0):
    """X^(-1/2) element-wise, computed as 1/√(X + ε) (Table 2); ε = 0 gives the exact form."""
    backend = _matrix("inv_sqrt", X)
    if epsilon:
        X = X + epsilon * backend.ones(*backend.shape(X), X)
    return backend.reciprocal(backend.sqrt(X))


def log_sigmoid(X):
    """log(σ(X)) element-wise, computed as −log(1 + e^(−x)) without overflow."""
    return _matrix("log_sigmoid", X).log_sigmoid(X)
