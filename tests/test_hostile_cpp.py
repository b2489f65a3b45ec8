"""Hostile input to the C++ path: nothing unvalidated reaches the kernels, whatever a user does.

Each case is a function that does something a hostile but fair user might do to a CSRMatrix, to
the kernels or to a SparseMLP (write into the pattern after construction, reshape or replace an
array the C++ code holds a pointer to, pass a batch of the wrong layout, an empty batch, a
crafted model file, ...) and states the answer it must get: an exception of a given type whose
message matches, or a result. Two cases let hypothesis generate mutations of CSR arrays, before
construction and after it.

All cases run in one child process, one after the other: a segfault in a kernel ends the child,
and the case that was running is reported as crashed (the child is restarted for the cases
after it). Each case is then one test item here.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cppyy")

CASES = {}          # name -> (function, expected exception name or None, regex on the message or the result)


def case(expected, pattern):
    def register(function):
        CASES[function.__name__] = (function, expected, pattern)
        return function
    return register


# --- helpers (in the child) -------------------------------------------------------------------

def _problem(K=6, D=5, N=7, density=0.5, seed=0):
    from test_sparse_kernels import random_problem
    return random_problem(K, D, N, density, seed)


def _kernels_agree(W, X, DY, b):
    """The three kernels equal the dense products of W (float64 reference)."""
    from nerva_edu.sparse import kernels
    A = W.to_dense().astype(np.float64)
    X64, DY64 = X.astype(np.float64), DY.astype(np.float64)
    tolerance = dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(kernels.spmm(W, X, b), X64 @ A.T + b, **tolerance)
    np.testing.assert_allclose(kernels.spmm_transposed(W, DY), DY64 @ A, **tolerance)
    np.testing.assert_allclose(kernels.sddmm(W, DY, X), (DY64.T @ X64)[A != 0] if W.nnz else np.zeros(0),
                               **tolerance)
    return "agree"


def _model(backend="cpp", sizes=(5, 6, 4), density=0.6, **options):
    from nerva_edu.sparse import SparseMLP
    return SparseMLP(list(sizes), density=density, backend=backend, threads=2, **options)


def _batch(model, N=9, seed=1):
    rng = np.random.default_rng(seed)
    D, K = model.layers[0].W.shape[1], model.layers[-1].W.shape[0]
    X = rng.standard_normal((N, D)).astype(np.float32)
    return X, np.eye(K, dtype=np.float32)[rng.integers(0, K, N)]


def _step(model):
    X, T = _batch(model)
    return f"loss {model.step(X, T, 0.1):.3f}"


# --- the pattern cannot change after construction -------------------------------------------

@case("ValueError", "read-only")
def indices_written_after_construction():
    W, *_ = _problem()
    W.indices[0] = 10 ** 6


@case("ValueError", "read-only")
def indptr_written_after_construction():
    W, *_ = _problem()
    W.indptr[-1] = 10 ** 9


@case("ValueError", "cannot set WRITEABLE flag")
def indices_made_writable_again():
    W, *_ = _problem()
    W.indices.setflags(write=True)


@case("ValueError", "read-only")
def indices_written_through_their_base():
    W, *_ = _problem()
    W.indices.base[0] = -5


@case("AttributeError", "cannot set or delete indices: a matrix is fixed once it is checked")
def indices_rebound():
    W, *_ = _problem()
    W.indices = np.full(W.nnz, 10 ** 6, dtype=np.int32)


@case("AttributeError", "cannot set or delete shape")
def shape_rebound():
    W, *_ = _problem()
    W.shape = (10 ** 6, 10 ** 6)


@case(None, "4 refusals")
def private_attributes_rebound_or_deleted():
    from nerva_edu.sparse import kernels
    W, X, DY, b = _problem()
    refusals = 0
    for change in (lambda: setattr(W, "_indices", np.full(W.nnz, 10 ** 6, np.int32)),
                   lambda: setattr(W, "_shape", (10 ** 6, 10 ** 6)),
                   lambda: setattr(W, "_transposed", (W.indptr, W.indptr, W.indptr)),
                   lambda: delattr(W, "_values")):
        try:
            change()
        except AttributeError:
            refusals += 1
    _kernels_agree(W, X, DY, b)
    return f"{refusals} refusals"


@case(None, "agree")
def copies_are_checked_and_own_their_pattern():
    import copy
    import pickle
    W, X, DY, b = _problem()
    for copied in (copy.copy(W), copy.deepcopy(W), pickle.loads(pickle.dumps(W))):
        assert not copied.indices.flags.writeable and not copied.indptr.flags.writeable
        _kernels_agree(copied, X, DY, b)
    return "agree"


@case("ValueError", "read-only")
def transposed_pattern_written():
    W, *_ = _problem()
    W.transposed_pattern()[1][0] = 10 ** 6


def _new_buffer(A, fill):
    """NumPy's __setstate__: A gets a new, writable buffer holding ``fill`` (in place, same object)."""
    A.__setstate__((1, A.shape, A.dtype, False, np.full(A.shape, fill, A.dtype).tobytes()))
    assert A.flags.writeable


@case(None, "agree")
def pattern_given_a_new_buffer():
    W, X, DY, b = _problem()
    for A in (W.indptr, W.indices, *W.transposed_pattern()):
        _new_buffer(A, 2 ** 30)                          # changes that array only, not the matrix's memory
    return _kernels_agree(W, X, DY, b)


@case(None, r"^trains the same: True$")
def model_arrays_given_a_new_buffer():
    model, twin = _model(), _model()
    X = np.random.default_rng(1).standard_normal((9, 5)).astype(np.float32)
    T = np.eye(4, dtype=np.float32)[np.arange(9) % 4]
    model.step(X, T, 0.1), twin.step(X, T, 0.1)
    _new_buffer(model.layers[0].W.indices, 2 ** 30)
    for layer in model.layers:                           # the same numbers in a new buffer, which C++ must use
        for name in ("b", "DW", "Db", "Delta_W", "Delta_b"):
            _new_buffer(getattr(layer, name), 0.0)
            getattr(layer, name)[...] = getattr(twin.layers[model.layers.index(layer)], name)
        values = layer.W.values.copy()
        _new_buffer(layer.W.values, 0.0)
        layer.W.values[:] = values
    for _ in range(3):
        model.step(X, T, 0.1), twin.step(X, T, 0.1)
    same = all(np.array_equal(a.W.values, b.W.values) and np.array_equal(a.b, b.b)
               for a, b in zip(model.layers, twin.layers))
    return f"trains the same: {same}"


@case(None, "agree")
def callers_arrays_changed_after_construction():
    from nerva_edu.sparse import CSRMatrix
    W, X, DY, b = _problem()
    indptr, indices, values = W.indptr.copy(), W.indices.copy(), W.values.copy()
    mine = CSRMatrix(W.shape, indptr, indices, values)
    indices[:] = 10 ** 6                                 # the matrix kept its own copy
    indptr[-1] = 10 ** 9
    return _kernels_agree(mine, X, DY, b)


@case("ValueError", "read-only")
def model_pattern_written_through_the_model():
    _model().layers[0].W.indices[0] = -1


# --- the values stay writable, and are checked at every call --------------------------------

@case("TypeError", "W.values must have dtype float32, got int32")
def values_dtype_reassigned_in_place():
    from nerva_edu.sparse import kernels
    W, X, DY, b = _problem()
    W.values.dtype = np.int32
    kernels.spmm(W, X, b)


@case("ValueError", "W.values must be 1-D")
def values_shape_reassigned_in_place():
    from nerva_edu.sparse import kernels
    W, X, DY, b = _problem(K=4, D=4, density=1.0)
    W.values.shape = (4, 4)
    kernels.sddmm(W, DY, X)


@case("ValueError", "W.values must be writable")
def values_made_read_only():
    from nerva_edu.sparse import kernels
    W, X, DY, b = _problem()
    W.values.setflags(write=False)
    kernels.spmm_transposed(W, DY)


@case("ValueError", "cannot resize")
def values_resized():
    W, *_ = _problem()
    W.values.resize(10 ** 6)


def _resize_values_base(W):
    """Resize the memory of W.values through the view's base (NumPy's refusal, on one line), then
    check that the kernels still agree."""
    try:
        W.values.base.resize(10 ** 7)
    except ValueError as error:
        refusal = " ".join(str(error).split())
    else:
        refusal = "resized"
    rng = np.random.default_rng(4)
    K, D = W.shape
    X, DY = (np.asfortranarray(rng.standard_normal((3, n)).astype(np.float32)) for n in (D, K))
    return f"{refusal}; {_kernels_agree(W, X, DY, np.zeros((1, K), np.float32))}"


@case(None, "^cannot resize an array that references or is referenced by another object .*; agree$")
def values_resized_through_their_base():
    from nerva_edu.sparse import CSRMatrix
    W, *_ = _problem()
    return _resize_values_base(CSRMatrix(W.shape, W.indptr, W.indices, W.values.copy()))   # held by nobody else


@case(None, r"^cannot resize an array that references or is referenced by another object .*; agree; loss \d")
def model_values_resized_through_their_base():
    model = _model(sizes=(50, 60, 4))
    return _resize_values_base(model.layers[0].W) + f"; {_step(model)}"


@case("ValueError", "values must be writable")
def read_only_values_at_construction():
    from nerva_edu.sparse import CSRMatrix
    W, *_ = _problem()
    values = W.values.copy()
    values.setflags(write=False)
    CSRMatrix(W.shape, W.indptr, W.indices, values)


@case("ValueError", "exceeds the 2147483647 rows or columns")
def shape_beyond_int32_indices():
    from nerva_edu.sparse import CSRMatrix
    CSRMatrix((2 ** 31, 1), np.zeros(1, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32))


@case("ValueError", "shape must be two non-negative integers")
def shape_of_booleans():
    from nerva_edu.sparse import CSRMatrix
    CSRMatrix((True, 3), np.zeros(2, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32))


# --- the arrays a SparseMLP binds into C++ ------------------------------------------------------

@case("ValueError", r"layers\[0\]\.b has shape \(1, 7\), expected \(1, 6\)")
def model_bias_replaced_by_a_wrong_shape():
    model = _model()
    model.layers[0].b = np.zeros((1, 7), np.float32)
    _step(model)


@case("TypeError", r"layers\[0\]\.b must have dtype float32, got float64")
def model_bias_replaced_by_float64():
    model = _model()
    model.layers[0].b = np.zeros((1, 6))
    _step(model)


@case(None, "same output as numpy")
def model_bias_replaced_by_a_good_array():
    model = _model()
    X, _ = _batch(model)
    before = model.feedforward(X)
    model.layers[0].b = np.full((1, 6), 0.5, np.float32)     # C++ is rebound to the new array
    after = model.feedforward(X)
    model.backend = "numpy"
    assert not np.allclose(before, after)
    np.testing.assert_allclose(after, model.feedforward(X), rtol=1e-5, atol=1e-6)
    return "same output as numpy"


@case("ValueError", r"layers\[1\]\.DW has shape \(3,\)")
def model_gradient_replaced_by_a_short_array():
    model = _model()
    model.layers[1].DW = np.zeros(3, np.float32)
    _step(model)


@case("ValueError", r"layers\[0\]\.Delta_W must be C-contiguous")
def model_momentum_replaced_by_a_strided_view():
    model = _model()
    nnz = model.layers[0].W.nnz
    model.layers[0].Delta_W = np.zeros(2 * nnz, np.float32)[::2]
    _step(model)


@case("ValueError", r"layers\[0\]\.b must be writable")
def model_bias_made_read_only():
    model = _model()
    model.layers[0].b.setflags(write=False)
    _step(model)


@case("ValueError", r"layers\[0\]\.DW has shape")
def model_weights_replaced_with_another_pattern_but_old_state():
    from nerva_edu.sparse import CSRMatrix
    model = _model()
    model.layers[0].W = CSRMatrix.random((6, 5), 0.9, np.random.default_rng(3))
    _step(model)


@case(None, r"loss \d")
def model_weights_replaced_with_another_pattern_and_fresh_state():
    from nerva_edu.sparse import CSRMatrix
    model = _model()
    model.layers[0].W = CSRMatrix.random((6, 5), 0.9, np.random.default_rng(3))
    model.layers[0].reset_state()
    return _step(model)


@case("ValueError", r"layer 2 has W of shape \(4, 7\), but layer 1 has 6 outputs")
def model_weights_replaced_with_another_shape():
    from nerva_edu.sparse import CSRMatrix
    model = _model()
    model.layers[1].W = CSRMatrix.random((4, 7), 0.5, np.random.default_rng(3))
    model.layers[1].reset_state()
    _step(model)


@case("TypeError", "W must be a nerva_edu.sparse.CSRMatrix, got ndarray")
def model_weights_replaced_by_a_dense_array():
    model = _model()
    model.layers[0].W = np.zeros((6, 5), np.float32)
    _step(model)


@case(None, "4 refusals")
def model_sizes_and_densities_out_of_range():
    from nerva_edu.sparse import SparseMLP
    refusals = 0
    for options in ({"layer_sizes": [5, 2 ** 31, 4], "density": 1e-12}, {"layer_sizes": [5]},
                    {"layer_sizes": [5, 6, 4], "densities": [float("nan"), 0.5]},
                    {"layer_sizes": [5, 6, 4], "densities": [1.5, 0.5]}):
        try:
            SparseMLP(**options)
        except ValueError as error:
            assert re.search("layer_sizes must be|densities must lie", str(error)), error
            refusals += 1
    return f"{refusals} refusals"


@case(None, r"\(9, 6\)")
def model_last_layer_removed():
    model = _model()
    model.layers.pop()
    X, _ = _batch(model)
    return str(model.feedforward(X).shape)


@case("ValueError", "model has no layers")
def model_layers_removed():
    model = _model()
    model.layers.clear()
    model.feedforward(np.zeros((2, 5), np.float32))


@case("ValueError", "threads must be an integer from 1 to 1024, got 1000000")
def model_threads_set_too_high():
    model = _model()
    model.threads = 10 ** 6


@case("ValueError", "threads must be an integer from 1 to 1024, got 0")
def model_threads_set_to_zero():
    _model().threads = 0


# --- batches -------------------------------------------------------------------------------------

@case(None, r"\[\(0, 4\), \(0, 4\), \(0, 4\)\]")
def empty_batch_feedforward_on_every_backend():
    shapes = []
    for backend in ("cpp", "numpy", "scipy"):
        output = _model(backend).feedforward(np.zeros((0, 5), np.float32))
        assert output.dtype == np.float32
        shapes.append(output.shape)
    return str(shapes)


@case(None, "3 refusals")
def empty_batch_step_on_every_backend():
    refusals = 0
    for backend in ("cpp", "numpy", "scipy"):
        try:
            _model(backend).step(np.zeros((0, 5), np.float32), np.zeros((0, 4), np.float32), 0.1)
        except ValueError as error:
            assert str(error).startswith("empty batch: SparseMLP.step needs at least one example"), error
            refusals += 1
    return f"{refusals} refusals"


@case(None, "3 refusals")
def empty_batch_accuracy_on_every_backend():
    refusals = 0
    for backend in ("cpp", "numpy", "scipy"):
        try:
            _model(backend).accuracy(np.zeros((0, 5), np.float32), [])
        except ValueError as error:
            assert "no examples (the accuracy of an empty set is undefined)" in str(error), error
            refusals += 1
    return f"{refusals} refusals"


@case(None, "5 refusals")
def step_with_bad_learning_rates():
    model = _model()
    X, T = _batch(model)
    refusals = 0
    for eta in (float("nan"), 0.0, -0.1, float("inf"), "0.1"):
        try:
            model.step(X, T, eta)
        except ValueError as error:
            assert "eta must be a finite number > 0" in str(error), error
            refusals += 1
    return f"{refusals} refusals"


@case("ValueError", r"X has shape \(9,\), expected \(N, 5\)")
def batch_of_one_dimension():
    _model().feedforward(np.zeros(9, np.float32))


@case("ValueError", r"X has shape \(2, 3, 5\), expected \(N, 5\)")
def batch_of_three_dimensions():
    _model().feedforward(np.zeros((2, 3, 5), np.float32))


@case("ValueError", r"X has shape \(4, 6\), expected \(N, 5\)")
def batch_of_the_wrong_width():
    _model().step(np.zeros((4, 6), np.float32), np.zeros((4, 4), np.float32), 0.1)


@case("ValueError", r"T has shape \(4, 3\), expected \(4, 4\)")
def targets_of_the_wrong_shape():
    _model().step(np.zeros((4, 5), np.float32), np.zeros((4, 3), np.float32), 0.1)


@case("ValueError", "could not convert string to float")
def batch_of_strings():
    _model().feedforward(np.array([["a"] * 5]))


@case(None, "same output")
def batch_strided_and_float64():
    model = _model()
    X, _ = _batch(model, N=18)
    return "same output" if np.array_equal(model.feedforward(X[::2].astype(np.float64)),
                                           model.feedforward(np.ascontiguousarray(X[::2]))) else "differs"


@case(None, "nan")
def batch_with_nan():
    model = _model()
    X, T = _batch(model)
    X[0, 0] = np.nan
    return str(model.step(X, T, 0.1))


@case("InsufficientMemory", r"SparseMLP.feedforward: a batch of 100000000000 needs .* but only")
def batch_too_large_for_the_memory():
    model = _model()
    X = np.broadcast_to(np.zeros((1, 5), np.float32), (10 ** 11, 5))     # a view: no memory yet
    model.feedforward(X)


# --- the kernels' own arguments ---------------------------------------------------------------------

@case("ValueError", "must be stored column by column")
def kernel_batch_in_row_major_order():
    from nerva_edu.sparse import kernels
    W, X, DY, b = _problem()
    kernels.spmm(W, np.ascontiguousarray(X), b)


@case("TypeError", "X must have dtype float32, got float32 in big-endian byte order")
def kernel_batch_big_endian():
    from nerva_edu.sparse import kernels
    W, X, DY, b = _problem()
    kernels.spmm(W, np.asfortranarray(X.astype(">f4")), b)


@case("TypeError", "b must have dtype float32, got float64")
def kernel_bias_float64():
    from nerva_edu.sparse import kernels
    W, X, DY, b = _problem()
    kernels.spmm(W, X, b.astype(np.float64))


@case("ValueError", r"sddmm: X has shape \(6, 5\), expected \(7, 5\)")
def kernel_batches_of_different_sizes():
    from nerva_edu.sparse import kernels
    W, X, DY, b = _problem()
    kernels.sddmm(W, DY, np.asfortranarray(np.zeros((6, 5), np.float32)))


@case("ValueError", "threads must be an integer from 1 to 1024, got True")
def kernel_threads_boolean():
    from nerva_edu.sparse import kernels
    W, X, DY, b = _problem()
    kernels.spmm_transposed(W, DY, threads=True)


@case(None, "agree")
def kernels_on_empty_matrices_and_batches():
    from nerva_edu.sparse import CSRMatrix
    for K, D, N in ((3, 4, 0), (0, 4, 5), (3, 0, 5), (0, 0, 0)):
        W = CSRMatrix((K, D), np.zeros(K + 1, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32))
        X, DY = np.asfortranarray(np.ones((N, D), np.float32)), np.asfortranarray(np.ones((N, K), np.float32))
        _kernels_agree(W, X, DY, np.ones((1, K), np.float32))
    return "agree"


@case(None, r"^0\.0 GFLOP/s$")
def benchmark_kernel_rates_of_a_layer_without_nonzeros():
    from nerva_edu.benchmarks.sparse import _kernel_rates
    from nerva_edu.sparse import SparseMLP
    rates = _kernel_rates(SparseMLP([40, 30, 10], density=1e-9, backend="numpy"), 20, 1, 0.0)
    return f"{rates['SDDMM']['gflops']} GFLOP/s"


# --- malformed CSR arrays, hand-written and generated ----------------------------------------------

BAD_CSR = [  # (indptr, indices, values) for shape (2, 3), each wrong in one way
    ([1, 2, 3], [0, 1, 2], 3), ([0, 3, 2], [0, 1, 2], 3), ([0, 2, 4], [0, 1, 2], 3), ([0, 2], [0, 1, 2], 3),
    ([0, 1, 3], [0, 3, 1], 3), ([0, 1, 3], [0, -1, 1], 3), ([0, 1, 3], [0, 2, 1], 3), ([0, 1, 3], [0, 1, 1], 3),
    ([0, 1, 3], [0, 1, 2], 4), ([0, 1, 2 ** 31 - 1], [0, 1, 2], 3), ([0, -1, 3], [0, 1, 2], 3),
]


@case(None, f"{len(BAD_CSR)} refusals")
def malformed_csr_arrays():
    from nerva_edu.sparse import CSRMatrix
    refusals = 0
    for indptr, indices, count in BAD_CSR:
        try:
            CSRMatrix((2, 3), np.array(indptr, np.int32), np.array(indices, np.int32), np.ones(count, np.float32))
        except ValueError:
            refusals += 1
    return f"{refusals} refusals"


def _generated(test):
    """Run a hypothesis test here, derandomized on CI (as tests/conftest.py does)."""
    from hypothesis import settings
    settings(max_examples=150, deadline=None, derandomize=bool(os.environ.get("CI")), database=None)(test)()
    return "no counterexample"


@case(None, "no counterexample")
def generated_mutations_before_construction():
    """Any change to a valid CSR's arrays (an entry set to any int32, an array cut or extended) is
    refused by the constructor, or gives a valid matrix on which the kernels agree with dense products."""
    from hypothesis import given, strategies as st
    from nerva_edu.sparse import CSRMatrix

    @given(K=st.integers(1, 6), D=st.integers(1, 6), seed=st.integers(0, 1000), which=st.sampled_from(["indptr", "indices"]),
           position=st.integers(0, 40), value=st.integers(-2 ** 31, 2 ** 31 - 1) | st.integers(-3, 8),
           resize=st.sampled_from([0, 0, 0, -1, 1]))
    def mutate(K, D, seed, which, position, value, resize):
        W, X, DY, b = _problem(K, D, N=5, density=0.5, seed=seed)
        arrays = {"indptr": W.indptr.copy(), "indices": W.indices.copy()}
        target = arrays[which]
        if target.size:
            target[position % target.size] = value
        arrays[which] = np.resize(target, max(target.size + resize, 0)).astype(np.int32) if resize else target
        try:
            mutated = CSRMatrix((K, D), arrays["indptr"], arrays["indices"], np.ones(len(arrays["indices"]), np.float32))
        except ValueError:
            return
        _kernels_agree(mutated, X, DY, b)
    return _generated(mutate)


@case(None, "no counterexample")
def generated_writes_after_construction():
    """Every write into the pattern of a constructed matrix is refused, and the kernels still agree."""
    from hypothesis import given, strategies as st

    @given(seed=st.integers(0, 1000), which=st.sampled_from(["indptr", "indices", "col_ptr", "row_index", "position"]),
           position=st.integers(0, 40), value=st.integers(-2 ** 31, 2 ** 31 - 1))
    def write(seed, which, position, value):
        W, X, DY, b = _problem(seed=seed)
        col_ptr, row_index, transposed_position = W.transposed_pattern()
        target = {"indptr": W.indptr, "indices": W.indices, "col_ptr": col_ptr, "row_index": row_index,
                  "position": transposed_position}[which]
        if target.size:
            try:
                target[position % target.size] = value
            except ValueError as error:
                assert "read-only" in str(error)
            else:
                raise AssertionError(f"{which} accepted a write")
        _kernels_agree(W, X, DY, b)
    return _generated(write)


# --- model files ------------------------------------------------------------------------------------

def _saved(tmp):
    model = _model()
    path = Path(tmp) / "sparse.npz"
    model.save_weights(path)
    with np.load(path) as data:
        return model, path, dict(data)


def _tampered(change):
    """Save a model, change one array of the file, and load it: its error is raised once the model
    is seen untouched and still training."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        model, path, entries = _saved(tmp)
        before = [(layer.W, layer.b.copy()) for layer in model.layers]
        np.savez(path, **{**entries, **change(entries)})
        try:
            model.load_weights(path)
        except ValueError:
            assert all(layer.W is W and np.array_equal(layer.b, b) for layer, (W, b) in zip(model.layers, before))
            _step(model)
            raise


@case("ModelFileError", r"layer 2: CSRMatrix: column indices must lie in 0\.\.5")
def model_file_with_indices_out_of_range():
    _tampered(lambda e: {"indices2": np.full_like(e["indices2"], 6)})


@case("ModelFileError", "layer 1: CSRMatrix: indptr must start at 0 and never decrease")
def model_file_with_a_decreasing_row_pointer():
    _tampered(lambda e: {"indptr1": e["indptr1"][::-1].copy()})


@case("ModelFileError", "indices1 holds values outside 0..2147483647")
def model_file_with_indices_beyond_int32():
    _tampered(lambda e: {"indices1": e["indices1"].astype(np.int64) + 2 ** 32})


@case("ModelFileError", "values2 holds values that are not finite")
def model_file_with_nan_values():
    _tampered(lambda e: {"values2": np.full_like(e["values2"], np.nan)})


@case("ModelFileError", r"the file holds the network \[Sparse relu 5 6; Sparse linear 6 4\], not this one "
                    r"\[Sparse relu 5 7; Sparse linear 7 4\]")
def model_file_of_another_architecture():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        _, path, _ = _saved(tmp)
        _model(sizes=(5, 7, 4)).load_weights(path)


@case(None, "identical predictions")
def model_file_round_trip_on_every_backend():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        model, path, _ = _saved(tmp)
        X, _ = _batch(model)
        _step(model)
        model.save_weights(path)
        for backend in ("cpp", "numpy", "scipy"):
            other = _model(backend, seed=7)
            other.load_weights(path)
            model.backend = backend
            assert np.array_equal(other.feedforward(X), model.feedforward(X)), backend
    return "identical predictions"


@case("ModelFileError", "holds a dense model; this model is sparse")
def dense_model_file_into_a_sparse_model():
    import tempfile
    from nerva_edu.mlp import build_mlp
    with tempfile.TemporaryDirectory() as tmp:
        build_mlp("ReLU;Linear", "5;6;4").save_weights(Path(tmp) / "dense.npz")
        _model().load_weights(Path(tmp) / "dense.npz")


# --- the command line on the sparse backends ----------------------------------------------------------

def _cli(*arguments):
    from test_hostile_inputs import cli
    status, error = cli(*arguments)
    return f"{status}: {error.strip()}"


@case(None, r"^2: nerva-edu train: error: .*: holds a dense model; this model is sparse$")
def cli_sparse_backend_loads_a_dense_file():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        assert _cli("train", "--epochs", "1", "--save", f"{tmp}/dense").startswith("0")
        return _cli("train", "--backend", "cpp", "--epochs", "1", "--load", f"{tmp}/dense")


@case(None, r"^0: $")
def cli_sparse_backend_saves_and_loads():
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        saved = _cli("train", "--backend", "cpp", "--density", "0.3", "--epochs", "1", "--save", f"{tmp}/m")
        assert saved.startswith("0"), saved
        return _cli("train", "--backend", "numpy", "--density", "0.3", "--epochs", "1", "--load", f"{tmp}/m")


@case(None, r"^2: nerva-edu train: error: SparseMLP: threads must be an integer from 1 to 1024, got 2000$")
def cli_sparse_backend_with_too_many_threads():
    return _cli("train", "--backend", "cpp", "--threads", "2000")


@case(None, r"^2: nerva-edu train: error: training diverged: the loss is nan in epoch 1")
def cli_sparse_backend_diverges():
    return _cli("train", "--backend", "cpp", "--epochs", "3", "--learning-rate", "1e30")


# --- the child process, and the test items ------------------------------------------------------------

def child(names):
    """Run the named cases here, printing "start NAME" before each and its outcome (JSON) after it."""
    for name in names:
        print(json.dumps({"start": name}), flush=True)
        function, _, _ = CASES[name]
        try:
            outcome = {"returned": str(function())}
        except Exception as error:           # the outcome of the case, to compare with what it expects
            outcome = {"raised": type(error).__name__, "message": str(error)}
        print(json.dumps({"case": name, **outcome}), flush=True)


@pytest.fixture(scope="module")
def outcomes():
    """name -> outcome of every case, from child processes (a crashed child is restarted after its case)."""
    results, remaining = {}, list(CASES)
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent),
                                                              os.environ.get("PYTHONPATH", "")]))
    while remaining:
        process = subprocess.run([sys.executable, "-c", "import sys, test_hostile_cpp as t; t.child(sys.argv[1:])",
                                  *remaining], capture_output=True, text=True, env=environment, timeout=600)
        started = None
        for line in process.stdout.splitlines():
            record = json.loads(line)
            if "start" in record:
                started = record["start"]
            else:
                results[record["case"]], started = record, None
        if started is not None:                  # the child died during this case
            results[started] = {"crashed": f"exit status {process.returncode}", "stderr": process.stderr[-2000:]}
        elif process.returncode != 0:
            raise AssertionError(f"the child failed outside the cases: {process.stderr[-2000:]}")
        remaining = [name for name in remaining if name not in results]
    return results


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_case(outcomes, name):
    _, expected, pattern = CASES[name]
    outcome = outcomes[name]
    assert "crashed" not in outcome, f"{name} crashed the process: {outcome}"
    if expected is None:
        assert "returned" in outcome, f"{name} raised {outcome.get('raised')}: {outcome.get('message')}"
        assert re.search(pattern, outcome["returned"]), outcome
    else:
        assert outcome.get("raised") == expected, outcome
        assert re.search(pattern, outcome["message"]), outcome
        assert "\n" not in outcome["message"], "an error is one line"
