"""Validation of the lemmas and matrix properties of spec §4.1, equations (5)–(15).

Lemmas (5)–(9), product and chain rules for vector functions: SymPy, with undefined
functions f_i(x), g(x) of x ∈ ℝ^(2×1) (so the proof covers every differentiable f and g),
computes ∂h/∂x with ``jacobian`` and proves it equal to the right-hand side.

Properties (10)–(15), row- and column-wise definitions generalized to matrix form: SymPy
builds Z column by column (or row by row) from the definition and proves it equal to the
matrix form written with ``nerva_edu.matrix``; the numeric check (with the torch and the JAX
oracle) evaluates the matrix form on random float64 values of the oracle's kind and compares
it with the definition evaluated on the same numbers.
"""

import numpy as np
import sympy as sp

from nerva_edu import matrix as M
from nerva_edu.registry import register
from nerva_edu.symbolic import assert_equal, column_vector, jacobian, symbolic_matrix
from nerva_edu.validation import assert_close

CHAPTER = "book/04b-derivations"
p, m, n = 2, 3, 2
x = column_vector("x", p)


def _functions(name, rows, cols):
    """A rows×cols matrix of undefined functions name_ij(x_1, ..., x_p)."""
    return sp.Matrix(rows, cols, lambda i, j: sp.Function(f"{name}_{i + 1}{j + 1}")(*x))


def _product_rule_5():
    f, g = _functions("f", n, 1), sp.Function("g")(*x)
    assert_equal(jacobian(f * g, x), jacobian(f, x) * g + f * jacobian([g], x), "(5): f ∈ ℝ^(n×1), g ∈ ℝ")


def _product_rule_6():
    f, g = _functions("f", 1, n), sp.Function("g")(*x)
    assert_equal(jacobian(f * g, x), jacobian(f, x) * g + f.T * jacobian([g], x), "(6): f ∈ ℝ^(1×n), g ∈ ℝ")


def _product_rule_7():
    A, g = symbolic_matrix("a", m, n), _functions("g", n, 1)
    assert_equal(jacobian(A @ g, x), A @ jacobian(g, x), "(7): f = A, g ∈ ℝ^(n×1)")


def _product_rule_8():
    f, A = _functions("f", 1, m), symbolic_matrix("a", m, n)
    assert_equal(jacobian(f @ A, x), A.T @ jacobian(f, x), "(8): f ∈ ℝ^(1×m), g = A")


def _chain_rule_9():
    """h(x) = g(f(x)) with f: ℝ² → ℝ³ and g: ℝ³ → ℝ² undefined; ∂h/∂x = ∂g/∂y · ∂f/∂x."""
    y = column_vector("y", m)
    f = _functions("f", m, 1)
    g = sp.Matrix(2, 1, lambda i, j: sp.Function(f"g_{i + 1}")(*y))
    h = g.subs(dict(zip(y, f)))
    assert_equal(jacobian(h, x).doit(), (jacobian(g, y).subs(dict(zip(y, f))) @ jacobian(f, x)).doit(),
                 "(9): chain rule")


# --- properties (10)–(15): definition per column or row, and the matrix form -------------------

def _columns(definition, X, Y, stack):
    """Z whose column j is definition(x^j, y^j)."""
    return stack([definition(X[:, j:j + 1], Y[:, j:j + 1]) for j in range(X.shape[1])], axis=1)


def _rows(definition, X, Y, stack):
    """Z whose row i is definition(x_i, y_i)."""
    return stack([definition(X[i:i + 1, :], Y[i:i + 1, :]) for i in range(X.shape[0])], axis=0)


def _ones(k, like):
    return M.ones(k, like=like)


PROPERTIES = {
    # number: (columns or rows, definition of one column/row, matrix form)
    10: (_columns, lambda xj, yj: xj @ xj.T @ yj,
         lambda X, Y: M.hadamard(X, _ones(X.shape[0], X) @ M.diag(X.T @ Y).T)),
    11: (_columns, lambda xj, yj: _ones(xj.shape[0], xj) @ xj.T @ yj,
         lambda X, Y: _ones(X.shape[0], X) @ M.diag(X.T @ Y).T),
    12: (_columns, lambda xj, yj: xj @ _ones(xj.shape[0], xj).T @ yj,
         lambda X, Y: M.hadamard(X, _ones(X.shape[0], X) @ _ones(X.shape[0], X).T @ Y)),
    13: (_rows, lambda xi, yi: xi @ yi.T @ yi,
         lambda X, Y: M.hadamard(M.diag(X @ Y.T) @ _ones(X.shape[1], X).T, Y)),
    14: (_rows, lambda xi, yi: xi @ yi.T @ _ones(xi.shape[1], xi).T,
         lambda X, Y: M.diag(X @ Y.T) @ _ones(X.shape[1], X).T),
    15: (_rows, lambda xi, yi: xi @ _ones(xi.shape[1], xi) @ yi,
         lambda X, Y: M.hadamard(X @ _ones(X.shape[1], X) @ _ones(X.shape[1], X).T, Y)),
}


def _sympy_stack(blocks, axis):
    return sp.Matrix.hstack(*blocks) if axis == 1 else sp.Matrix.vstack(*blocks)


def _property_sympy(number):
    by, definition, matrix_form = PROPERTIES[number]

    def check():
        X, Y = symbolic_matrix("x", m, n), symbolic_matrix("y", m, n)
        assert_equal(matrix_form(X, Y), by(definition, X, Y, _sympy_stack), f"property ({number})")
    return check


def _property_numeric(number):
    by, definition, matrix_form = PROPERTIES[number]

    def check(oracle):
        rng = np.random.default_rng(number)
        for shape in ((3, 2), (4, 5), (1, 3)):
            X, Y = rng.standard_normal(shape), rng.standard_normal(shape)
            expected = by(definition, X, Y, np.concatenate)
            assert_close(matrix_form(oracle.array(X), oracle.array(Y)), expected,
                         f"property ({number}), shape {shape}, {oracle.name}")
    return check


for _number, _check in ((5, _product_rule_5), (6, _product_rule_6), (7, _product_rule_7), (8, _product_rule_8)):
    register(f"lemma.product_rule.{_number}", f"eq. ({_number})", CHAPTER, jacobian, sympy=_check)
register("lemma.chain_rule.9", "eq. (9)", CHAPTER, jacobian, sympy=_chain_rule_9)
for _number in PROPERTIES:
    register(f"property.{_number}", f"eq. ({_number})", CHAPTER, M.diag if _number in (10, 11, 13, 14) else M.hadamard,
             sympy=_property_sympy(_number), numeric=_property_numeric(_number))
