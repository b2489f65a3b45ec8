"""The C++ matrix operations (cpp/matrix_ops.h, loaded with cppyy) agree with NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from nerva_edu import cpp, matrix as M

ELEMENTWISE = ["columns_sum", "rows_sum", "columns_max", "rows_max", "columns_mean", "rows_mean", "exp",
               "log_sigmoid"]


@pytest.fixture(scope="module")
def nerva():
    return cpp.include("matrix_ops.h").nerva_edu


@settings(max_examples=10, deadline=None)
@given(X=st.tuples(st.integers(1, 6), st.integers(1, 6)).flatmap(
    lambda shape: arrays(np.float64, shape, elements=st.floats(-30, 30))))
def test_cpp_operations_agree_with_numpy(nerva, X):
    for name in ELEMENTWISE:
        np.testing.assert_allclose(cpp.to_numpy(getattr(nerva, name)(cpp.to_cpp(X))), getattr(M, name)(X),
                                   rtol=1e-12, atol=1e-12, err_msg=name)
    np.testing.assert_allclose(cpp.to_numpy(nerva.product(cpp.to_cpp(X), cpp.to_cpp(X.T))), X @ X.T,
                               rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(nerva.elements_sum(cpp.to_cpp(X)), X.sum(), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(cpp.to_numpy(nerva.transpose(cpp.to_cpp(X))), X.T)


def test_including_twice_is_harmless(nerva):
    assert cpp.include("matrix_ops.h").nerva_edu is nerva


def test_cpp_shape_errors_become_python_exceptions(nerva):
    with pytest.raises(Exception, match=r"hadamard: shapes must be equal, got \(2, 3\) and \(3, 2\)"):
        nerva.hadamard(cpp.to_cpp(np.ones((2, 3))), cpp.to_cpp(np.ones((3, 2))))


def test_to_cpp_rejects_non_matrices():
    with pytest.raises(ValueError, match=r"to_cpp: expected a 2-D array, got shape \(3,\)"):
        cpp.to_cpp(np.ones(3))


def test_missing_header_is_reported():
    with pytest.raises(FileNotFoundError, match="no C\\+\\+ header"):
        cpp.include("no_such_header.h")
