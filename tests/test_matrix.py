"""The matrix-operation table (spec §3): NumPy, torch (float64) and SymPy agree on random shapes,
and bad shapes and kinds raise the documented errors."""

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from nerva_edu import matrix as M
from nerva_edu.validation import as_numpy, as_sympy, as_torch

dims = st.integers(min_value=1, max_value=4)
finite = st.floats(min_value=-50, max_value=50, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.01, max_value=50, allow_nan=False, allow_infinity=False)


def matrices(elements=finite, rows=dims, cols=dims):
    return st.tuples(rows, cols).flatmap(lambda shape: arrays(np.float64, shape, elements=elements))


def assert_all_kinds_agree(operation, *args):
    """Run operation on NumPy, torch and SymPy versions of the array args; compare to NumPy."""
    expected = as_numpy(operation(*args))
    for convert in (as_torch, as_sympy):
        actual = as_numpy(operation(*[convert(a) if isinstance(a, np.ndarray) else a for a in args]))
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10)
    return expected


UNARY = ["elements_sum", "columns_sum", "rows_sum", "columns_max", "rows_max", "columns_mean", "rows_mean",
         "exp", "log_sigmoid"]
POSITIVE_UNARY = ["log", "reciprocal", "sqrt", "inv_sqrt"]


@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=15, deadline=None)
@given(X=matrices(elements=st.floats(min_value=-20, max_value=20)))
def test_unary_operations_agree_across_kinds(name, X):
    assert_all_kinds_agree(getattr(M, name), X)


@pytest.mark.parametrize("name", POSITIVE_UNARY)
@settings(max_examples=15, deadline=None)
@given(X=matrices(elements=positive))
def test_positive_operations_agree_across_kinds(name, X):
    assert_all_kinds_agree(getattr(M, name), X)


@settings(max_examples=20, deadline=None)
@given(X=matrices())
def test_reductions_have_the_shapes_of_table_1(X):
    m, n = X.shape
    assert M.columns_sum(X).shape == M.columns_max(X).shape == M.columns_mean(X).shape == (1, n)
    assert M.rows_sum(X).shape == M.rows_max(X).shape == M.rows_mean(X).shape == (m, 1)
    np.testing.assert_allclose(M.columns_mean(X), X.mean(axis=0, keepdims=True))
    np.testing.assert_allclose(M.rows_mean(X), X.mean(axis=1, keepdims=True))


@settings(max_examples=20, deadline=None)
@given(data=st.data(), m=dims, n=dims)
def test_binary_and_repeat_operations_agree_across_kinds(data, m, n):
    X = data.draw(arrays(np.float64, (m, n), elements=finite))
    Y = data.draw(arrays(np.float64, (m, n), elements=finite))
    row = data.draw(arrays(np.float64, (1, n), elements=finite))
    col = data.draw(arrays(np.float64, (m, 1), elements=finite))
    np.testing.assert_allclose(assert_all_kinds_agree(M.hadamard, X, Y), X * Y)
    np.testing.assert_allclose(assert_all_kinds_agree(M.row_repeat, row, m), np.ones((m, 1)) @ row)
    np.testing.assert_allclose(assert_all_kinds_agree(M.column_repeat, col, n), col @ np.ones((1, n)))
    np.testing.assert_allclose(assert_all_kinds_agree(M.dot, col, col), col.T @ col)
    np.testing.assert_allclose(assert_all_kinds_agree(M.Diag, row), np.diag(row[0]))
    square = X @ X.T
    np.testing.assert_allclose(assert_all_kinds_agree(M.diag, square), np.diag(square)[:, None])


@given(m=dims, n=dims)
@settings(max_examples=10, deadline=None)
def test_constructors_follow_the_kind_and_dtype_of_like(m, n):
    like32 = torch.zeros(1, 1, dtype=torch.float32)
    assert M.zeros(m, n, like=like32).dtype == torch.float32
    assert M.ones(m, like=np.zeros((1, 1), dtype=np.float32)).shape == (m, 1)
    assert M.ones(m, like=np.zeros((1, 1), dtype=np.float32)).dtype == np.float32
    assert M.identity(n, like=sp.Matrix([[0]])) == sp.eye(n)
    assert M.zeros(m, n).dtype == np.float64


def test_log_sigmoid_is_finite_and_exact_for_large_inputs():
    X = np.array([[-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4]])
    expected = torch.nn.functional.logsigmoid(torch.tensor(X)).numpy()
    for value in (X, as_torch(X)):
        result = as_numpy(M.log_sigmoid(value))
        assert np.all(np.isfinite(result))
        np.testing.assert_allclose(result, expected, rtol=1e-12)


def test_inv_sqrt_with_epsilon_is_table_2_form():
    X = np.array([[0.0, 4.0]])
    np.testing.assert_allclose(M.inv_sqrt(X, epsilon=1e-4), 1 / np.sqrt(X + 1e-4))


@pytest.mark.parametrize("call, message", [
    (lambda: M.hadamard(np.ones((2, 3)), np.ones((3, 2))), "hadamard: shapes must be equal, got (2, 3) and (3, 2)"),
    (lambda: M.row_repeat(np.ones((2, 1)), 3), "row_repeat: expected a row vector (1×n), got shape (2, 1)"),
    (lambda: M.column_repeat(np.ones((1, 2)), 3), "column_repeat: expected a column vector (m×1), got shape (1, 2)"),
    (lambda: M.diag(np.ones((2, 3))), "diag: expected a square matrix, got shape (2, 3)"),
    (lambda: M.Diag(np.ones((2, 3))), "Diag: expected a row or column vector, got shape (2, 3)"),
    (lambda: M.dot(np.ones((2, 1)), np.ones((1, 2))), "dot: expected two row vectors or two column vectors"),
    (lambda: M.columns_sum(np.ones(3)), "columns_sum: expected a 2-D matrix, got shape (3,)"),
    (lambda: M.exp(torch.ones(2, 2, 2)), "exp: expected a 2-D matrix, got shape (2, 2, 2)"),
    (lambda: M.hadamard(sp.ones(2, 2), sp.ones(2, 3)), "hadamard: shapes must be equal, got (2, 2) and (2, 3)"),
])
def test_bad_shapes_raise_value_error_naming_operation_and_shapes(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


@pytest.mark.parametrize("call", [
    lambda: M.columns_sum([[1.0, 2.0]]),
    lambda: M.exp(3.0),
    lambda: M.zeros(2, 2, like="numpy"),
])
def test_unsupported_kinds_raise_type_error(call):
    with pytest.raises(TypeError, match="expected a NumPy array, a SymPy matrix, a torch tensor or a JAX array"):
        call()


def test_mixed_kinds_raise_type_error():
    with pytest.raises(TypeError, match="hadamard: both operands must be of one kind, got numpy and torch"):
        M.hadamard(np.ones((2, 2)), torch.ones(2, 2, dtype=torch.float64))


def test_kind_and_shape():
    assert [M.kind(v) for v in (np.ones((1, 1)), sp.ones(1, 1), torch.ones(1, 1))] == ["numpy", "sympy", "torch"]
    assert M.shape(torch.ones(2, 3)) == M.shape(sp.ones(2, 3)) == M.shape(np.ones((2, 3))) == (2, 3)


def test_inv_sqrt_with_epsilon_works_on_every_kind():
    X = np.array([[1.0, 4.0]])
    expected = 1 / np.sqrt(X + 0.5)
    for value in (X, as_torch(X), as_sympy(X)):
        np.testing.assert_allclose(as_numpy(M.inv_sqrt(value, epsilon=0.5)), expected)
    x = sp.Symbol("x", positive=True)
    assert M.inv_sqrt(sp.Matrix([[x]]), epsilon=sp.Rational(1, 2))[0, 0] == 1 / sp.sqrt(x + sp.Rational(1, 2))
