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


# --- a layer's gradients, derived by SymPy and compared with its backpropagation -------------

class Derivation:
    """One gradient of a layer: ``computed`` by its ``backpropagate``, ``derived`` by ``sp.diff``
    of the loss, and their ``difference`` simplified (a zero matrix, or 0, when they agree)."""

    def __init__(self, name, computed, derived):
        self.name, self.computed, self.derived = name, computed, derived
        self.difference = (computed - derived).applyfunc(sp.simplify) if isinstance(derived, sp.MatrixBase) \
            else sp.simplify(computed - derived)

    @property
    def proved(self):
        return is_zero(self.difference)


def free_maxima(loss, outputs):
    """Replace every Max(...) in the loss and the outputs by a free symbol m_0, m_1, ..., after
    proving that the loss does not depend on it (the row maximum that the stable softmax
    subtracts cancels). Returns the new loss, the new outputs and the free symbols."""
    maxima = sorted(sp.sympify(loss).atoms(sp.Max), key=sp.default_sort_key)
    free = {maximum: sp.Symbol(f"m_{i}", real=True) for i, maximum in enumerate(maxima)}
    loss = loss.subs(free)
    for m in free.values():
        assert_equal(sp.diff(loss, m), 0, f"∂L/∂{m} (the shift of the stable softmax)")
    return loss, [output.subs(free) for output in outputs], list(free.values())


def derive_gradients(layer, X, at=None, **options):
    """Prove a layer's backpropagation on its own code, for an input X of symbols.

    Runs ``Y = layer.feedforward(X, **options)``, takes the loss L = elements_sum(Y ⊙ C) with
    a matrix C of free symbols c_ij (so that DY = C, and L depends on every entry of Y), runs
    ``layer.backpropagate(Y, C)``, and differentiates L with ``sp.diff`` with respect to every
    entry of X and of each parameter. ``at(layer, X)``, if given, returns exact values for some
    symbols, substituted after differentiating (for piecewise layers such as SReLU). The row
    maxima of the stable softmax become free symbols m_0, m_1, ... once L is proved independent
    of them, so every gradient is proved for any value of the shift.

    Returns one ``Derivation`` per gradient: DX first, then D<parameter> in the order of
    ``layer.parameter_names``.
    """
    from nerva_edu.matrix import elements_sum, hadamard
    if not isinstance(X, sp.MatrixBase):
        raise TypeError(f"derive_gradients: X must be a SymPy matrix of symbols, got a {type(X).__name__}")
    Y = layer.feedforward(X, **options)
    C = symbolic_matrix("c", *Y.shape)
    loss = elements_sum(hadamard(Y, C))
    DX = layer.backpropagate(Y, C)
    names = ["X"] + list(layer.parameter_names)
    values = [X] + [getattr(layer, name) for name in layer.parameter_names]
    computed = [DX] + [getattr(layer, "D" + name) for name in layer.parameter_names]
    loss, computed, _ = free_maxima(loss, computed)
    point = at(layer, X) if at else {}
    derivations = []
    for name, value, D_ in zip(names, values, computed):
        derived = gradient(loss, value) if isinstance(value, sp.MatrixBase) else sp.diff(loss, value)
        derivations.append(Derivation(name, _at(D_, point), _at(derived, point)))
    return derivations


def _at(A, point):
    return A.subs(point) if point else A
