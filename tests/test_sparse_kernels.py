"""The C++ sparse kernels against the NumPy/SciPy reference, and their argument checks."""

import importlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerva_edu.optimizers import GradientDescent, Momentum, Nesterov
from nerva_edu.sparse import CSRMatrix, SparseMLP, kernels, reference

pytest.importorskip("cppyy")


def random_problem(K, D, N, density, seed):
    rng = np.random.default_rng(seed)
    W = CSRMatrix.random((K, D), density, rng)
    X = np.asfortranarray(rng.standard_normal((N, D), dtype=np.float32))
    DY = np.asfortranarray(rng.standard_normal((N, K), dtype=np.float32))
    b = rng.standard_normal((1, K), dtype=np.float32)
    return W, X, DY, b


def assert_close(actual, expected, terms):
    """float32 agreement for sums of ``terms`` products of standard normal numbers."""
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5 * (np.sqrt(terms) + 1))


@settings(max_examples=40, deadline=None)
@given(K=st.integers(1, 70), D=st.integers(1, 70), N=st.integers(1, 256),
       log_density=st.floats(-3, 0), threads=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_kernels_agree_with_the_reference(K, D, N, log_density, threads, seed):
    W, X, DY, b = random_problem(K, D, N, 10 ** log_density, seed)
    X64, DY64, W64 = X.astype(np.float64), DY.astype(np.float64), W.to_scipy().astype(np.float64)
    assert_close(kernels.spmm(W, X, b, threads), X64 @ W64.T + b, D)
    assert_close(kernels.spmm_transposed(W, DY, threads), DY64 @ W64, K)
    assert_close(kernels.sddmm(W, DY, X, threads), (DY64.T @ X64)[W.row_indices(), W.indices], N)


@settings(max_examples=30, deadline=None)
@given(nnz=st.integers(0, 300), D=st.integers(1, 50), N=st.integers(1, 140), threads=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1))
def test_sum_of_rows_adds_the_rows_that_the_nonzeros_meet(nnz, D, N, threads, seed):
    rng = np.random.default_rng(seed)
    index = rng.integers(0, D, nnz).astype(np.int32)
    Bt = rng.standard_normal((D, N), dtype=np.float32)
    out = np.full(N, np.nan, np.float32)                      # every entry is written, none left over
    kernels.load().sum_of_rows(threads, kernels.buffer(index), nnz, Bt, N, out)
    assert_close(out, Bt[index].astype(np.float64).sum(axis=0), nnz)


def test_a_layer_of_the_benchmark_size():
    W, X, DY, b = random_problem(1024, 3072, 100, 0.0078, 8)
    X64, DY64, W64 = X.astype(np.float64), DY.astype(np.float64), W.to_scipy().astype(np.float64)
    assert_close(kernels.spmm(W, X, b, 2), X64 @ W64.T + b, 3072)
    assert_close(kernels.spmm_transposed(W, DY, 2), DY64 @ W64, 1024)
    assert_close(kernels.sddmm(W, DY, X, 2), reference.sampled_weight_gradient(DY64, X64, W), 100)


def test_empty_rows_columns_and_matrix():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((6, 5)).astype(np.float32)
    A[[0, 3, 5]] = 0                                         # empty rows
    A[:, 2] = 0                                              # an empty column
    W = CSRMatrix.from_dense(A)
    X = np.asfortranarray(rng.standard_normal((7, 5), dtype=np.float32))
    DY = np.asfortranarray(rng.standard_normal((7, 6), dtype=np.float32))
    b = np.arange(6, dtype=np.float32).reshape(1, 6)
    np.testing.assert_allclose(kernels.spmm(W, X, b), X @ A.T + b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(kernels.spmm_transposed(W, DY), DY @ A, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(kernels.sddmm(W, DY, X), (DY.T @ X)[A != 0], rtol=1e-5, atol=1e-5)
    empty = CSRMatrix.from_dense(np.zeros((4, 5), dtype=np.float32))
    assert empty.nnz == 0
    np.testing.assert_array_equal(kernels.spmm(empty, X, np.ones((1, 4), np.float32)), np.ones((7, 4)))
    np.testing.assert_array_equal(kernels.spmm_transposed(empty, np.asfortranarray(np.ones((7, 4), np.float32))),
                                  np.zeros((7, 5)))


def test_reference_weight_gradients_agree():
    W, X, DY, _ = random_problem(30, 40, 17, 0.2, 3)
    np.testing.assert_allclose(reference.sampled_weight_gradient(DY, X, W, chunk=7),
                               reference.weight_gradient(DY, X, W), rtol=1e-5, atol=1e-5)


def test_subnormals_are_flushed_and_the_callers_mode_restored():
    W = CSRMatrix.from_dense(np.full((1, 1), 1e-20, dtype=np.float32))
    X = np.full((1, 1), 1e-20, dtype=np.float32)              # 1e-40 is a subnormal float32
    assert kernels.spmm(W, X, np.zeros((1, 1), np.float32))[0, 0] == 0
    assert np.float32(1e-20) * np.float32(1e-20) > 0          # NumPy still computes subnormals


@pytest.mark.parametrize("rows, cols", [(1, 1), (16, 16), (17, 33), (100, 3072), (5, 15), (40, 50)])
def test_transpose_kernel_pads_with_zeros(rows, cols):
    A = np.random.default_rng(rows).standard_normal((rows, cols), dtype=np.float32)
    ld = (rows + 15) // 16 * 16
    At = np.full((cols, ld), np.nan, dtype=np.float32)
    kernels.load().transpose(2, A, rows, cols, At, ld)
    np.testing.assert_array_equal(At[:, :rows], A.T)
    np.testing.assert_array_equal(At[:, rows:], 0)


@pytest.mark.parametrize("rule, code", [(GradientDescent(), 0), (Momentum(0.9), 1), (Nesterov(0.8), 2)])
def test_update_kernel_follows_the_spec(rule, code):
    rng = np.random.default_rng(4)
    theta, Dtheta = rng.standard_normal(50, dtype=np.float32), rng.standard_normal(50, dtype=np.float32)
    Delta = rng.standard_normal(50, dtype=np.float32)
    expected_theta, expected_Delta = rule.step(theta.astype(np.float64), Dtheta.astype(np.float64), 0.1,
                                               None if code == 0 else Delta.astype(np.float64))
    kernels.load().update(2, code, theta, Delta, Dtheta, 50, 0.1, getattr(rule, "mu", 0.0))
    np.testing.assert_allclose(theta, expected_theta, rtol=1e-5, atol=1e-6)
    if code:
        np.testing.assert_allclose(Delta, expected_Delta, rtol=1e-5, atol=1e-6)


def assert_same_parameters(model, reference):
    """The same patterns, and values, biases and weight gradients equal up to float32 rounding."""
    for layer, reference_layer in zip(model.layers, reference.layers):
        np.testing.assert_array_equal(layer.W.indices, reference_layer.W.indices)
        np.testing.assert_allclose(layer.W.values, reference_layer.W.values, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.b, reference_layer.b, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(layer.DW, reference_layer.DW, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("optimizer", ["GradientDescent", "Momentum(0.9)", "Nesterov(0.9)"])
def test_cpp_training_step_matches_the_reference(optimizer):
    rng = np.random.default_rng(5)
    sizes, activations = [13, 40, 20, 7], ["ReLU", "AllReLU(0.3)", "Linear"]
    models = {backend: SparseMLP(sizes, density=0.4, activations=activations, optimizer=optimizer,
                                 backend=backend, threads=2, seed=6) for backend in ("cpp", "numpy")}
    X = rng.standard_normal((33, 13)).astype(np.float32)
    T = np.eye(7, dtype=np.float32)[rng.integers(0, 7, 33)]
    for _ in range(3):
        losses = {backend: model.step(X, T, 0.05) for backend, model in models.items()}
        assert losses["cpp"] == pytest.approx(losses["numpy"], rel=1e-5)
    assert_same_parameters(models["cpp"], models["numpy"])
    np.testing.assert_allclose(models["cpp"].feedforward(X), models["numpy"].feedforward(X), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("activation", ["ReLU", "AllReLU(0.3)"])
def test_the_derivative_at_zero_is_one_as_in_the_reference(activation):
    """Examples whose hidden Z is exactly 0 (a zero input, zero biases): act'(0) = 1, so their DY
    reaches Db of the hidden layer. The C++ step keeps no Z: it reads act' from the sign bit of Y,
    set exactly where Z < 0."""
    rng = np.random.default_rng(9)
    models = {backend: SparseMLP([6, 5, 3], density=0.6, activations=[activation, "Linear"], backend=backend, seed=4)
              for backend in ("cpp", "numpy")}
    X = rng.standard_normal((8, 6)).astype(np.float32)
    X[::2] = 0.0                                             # Z = 0·Wᵀ + b = 0 in every hidden unit
    T = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)]
    for model in models.values():
        model.step(X, T, 0.1)
    assert np.abs(models["numpy"].layers[0].Db).max() > 1e-3    # the zero examples' DY is in it
    assert_same_parameters(models["cpp"], models["numpy"])
    np.testing.assert_allclose(models["cpp"].layers[0].Db, models["numpy"].layers[0].Db, rtol=1e-5, atol=1e-7)


def test_cpp_training_steps_at_a_large_width_match_the_reference():
    """3072-8192-8192-10 at density 0.01 (about 9·10⁵ nonzeros; the rows of the batch gathered from
    matrices larger than the caches): steps, SET's prune-and-regrow (the same patterns for both:
    the same seed) and a step after it, C++ against the SciPy reference."""
    rng = np.random.default_rng(7)
    sizes = [3072, 8192, 8192, 10]
    models = {backend: SparseMLP(sizes, density=0.01, backend=backend, threads=2, seed=8) for backend in ("cpp", "scipy")}
    X = rng.standard_normal((100, 3072)).astype(np.float32)
    T = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 100)]
    for step in range(3):
        if step == 2:
            for model in models.values():
                model.prune_and_regrow(0.3)
        losses = {backend: model.step(X, T, 0.01) for backend, model in models.items()}
        assert losses["cpp"] == pytest.approx(losses["scipy"], rel=1e-4)
    assert_same_parameters(models["cpp"], models["scipy"])


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 40), min_size=2, max_size=5), batch_sizes=st.lists(st.integers(1, 140), min_size=2,
       max_size=3), log_density=st.floats(-2, 0), threads=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_cpp_training_steps_match_the_reference_for_any_depth_and_batch_size(sizes, batch_sizes, log_density,
                                                                             threads, seed):
    """Batches of changing sizes (the C++ buffers are padded to multiples of 16 and reallocated)."""
    rng = np.random.default_rng(seed)
    L = len(sizes) - 1
    activations = [["ReLU", "AllReLU(0.3)"][l % 2] for l in range(L - 1)] + ["Linear"]
    models = {backend: SparseMLP(sizes, densities=[10 ** log_density] * L, activations=activations,
                                 optimizer="Nesterov(0.9)", backend=backend, threads=threads, seed=seed)
              for backend in ("cpp", "numpy")}
    for N in batch_sizes:
        X = rng.standard_normal((N, sizes[0])).astype(np.float32)
        T = np.eye(sizes[-1], dtype=np.float32)[rng.integers(0, sizes[-1], N)]
        losses = {backend: model.step(X, T, 0.05) for backend, model in models.items()}
        assert losses["cpp"] == pytest.approx(losses["numpy"], rel=1e-4, abs=1e-6)
        for cpp_layer, numpy_layer in zip(models["cpp"].layers, models["numpy"].layers):
            np.testing.assert_allclose(cpp_layer.DW, numpy_layer.DW, rtol=1e-3, atol=1e-5)
            np.testing.assert_allclose(cpp_layer.Db, numpy_layer.Db, rtol=1e-3, atol=1e-5)
            np.testing.assert_allclose(cpp_layer.W.values, numpy_layer.W.values, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(cpp_layer.b, numpy_layer.b, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(models["cpp"].feedforward(X), models["numpy"].feedforward(X), rtol=1e-4, atol=1e-4)
        # Continue both from the same parameters: a rounding difference (a bias of ±1e-10 where the
        # exact value is 0) would otherwise pick the other branch of AllReLU' at the kink z = 0.
        for cpp_layer, numpy_layer in zip(models["cpp"].layers, models["numpy"].layers):
            cpp_layer.W.values[...] = numpy_layer.W.values
            for name in ("b", "Delta_W", "Delta_b"):
                getattr(cpp_layer, name)[...] = getattr(numpy_layer, name)


# --- invalid input: a clear Python error, never a crash ------------------------------------------

def csr_arrays():
    return np.array([0, 2, 3], np.int32), np.array([0, 2, 1], np.int32), np.ones(3, np.float32)


@pytest.mark.parametrize("change, error, message", [
    (lambda p, i, v: (p, np.array([0, 3, 1], np.int32), v), ValueError, "column indices must lie in 0..2"),
    (lambda p, i, v: (p, np.array([2, 0, 1], np.int32), v), ValueError, "sorted and distinct"),
    (lambda p, i, v: (p, np.array([1, 1, 1], np.int32), v), ValueError, "sorted and distinct"),
    (lambda p, i, v: (np.array([0, 2], np.int32), i, v), ValueError, r"K \+ 1 = 3 entries"),
    (lambda p, i, v: (np.array([0, 2, 4], np.int32), i, v), ValueError, "4 nonzeros, but indices has 3"),
    (lambda p, i, v: (np.array([0, 3, 2], np.int32), i, v), ValueError, "never decrease"),
    (lambda p, i, v: (np.array([1, 2, 3], np.int32), i, v), ValueError, "start at 0"),
    (lambda p, i, v: (p, i, np.ones(4, np.float32)), ValueError, "values 4 entries"),
    (lambda p, i, v: (p, i, v.astype(np.float64)), TypeError, "values must have dtype float32, got float64"),
    (lambda p, i, v: (p, i.astype(np.int64), v), TypeError, "indices must have dtype int32"),
    (lambda p, i, v: (p, i, np.ones(6, np.float32)[::2]), ValueError, "values must be C-contiguous"),
    (lambda p, i, v: (p, list(i), v), TypeError, "indices must be a NumPy array"),
])
def test_invalid_csr_is_rejected(change, error, message):
    with pytest.raises(error, match=message):
        CSRMatrix((2, 3), *change(*csr_arrays()))


def test_invalid_kernel_arguments_are_rejected():
    W = CSRMatrix((2, 3), *csr_arrays())
    X = np.asfortranarray(np.ones((4, 3), np.float32))
    b = np.zeros((1, 2), np.float32)
    with pytest.raises(ValueError, match=r"spmm: X has shape \(4, 2\), expected \(N, 3\)"):
        kernels.spmm(W, np.asfortranarray(np.ones((4, 2), np.float32)), b)
    with pytest.raises(ValueError, match="stored column by column"):
        kernels.spmm(W, np.ones((4, 3), np.float32), b)
    with pytest.raises(TypeError, match="X must have dtype float32, got float64"):
        kernels.spmm(W, np.asfortranarray(np.ones((4, 3))), b)
    with pytest.raises(ValueError, match="b must be 2-D"):
        kernels.spmm(W, X, np.zeros(2, np.float32))
    with pytest.raises(ValueError, match=r"b has shape \(1, 3\), expected \(1, 2\)"):
        kernels.spmm(W, X, np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="threads must be an integer from 1 to 1024"):
        kernels.spmm(W, X, b, threads=0)
    with pytest.raises(TypeError, match="W must be a nerva_edu.sparse.CSRMatrix"):
        kernels.spmm(W.to_scipy(), X, b)
    with pytest.raises(ValueError, match=r"sddmm: X has shape \(5, 3\), expected \(4, 3\)"):
        kernels.sddmm(W, np.asfortranarray(np.ones((4, 2), np.float32)), np.asfortranarray(np.ones((5, 3), np.float32)))
    with pytest.raises(ValueError, match=r"spmm_transposed: DY has shape \(4, 3\), expected \(N, 2\)"):
        kernels.spmm_transposed(W, X)


def test_loading_again_is_harmless():
    import cppyy

    import nerva_edu.cpp
    first = kernels.load()
    assert kernels.load() is first
    importlib.reload(nerva_edu.cpp)                          # forgets what it included
    nerva_edu.cpp.include("sparse_kernels.h")
    cppyy.include(str(nerva_edu.cpp.CPP_DIR / "sparse_kernels.h"))
    W, X, DY, b = random_problem(5, 6, 3, 0.5, 7)
    np.testing.assert_allclose(kernels.spmm(W, X, b), X @ W.to_dense().T + b, rtol=1e-5, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(rows=st.integers(0, 300), cols=st.integers(0, 300))
def test_aligned_zeros_start_on_a_cache_line(rows, cols):
    A = kernels.aligned_zeros(rows, cols)
    assert A.shape == (rows, cols) and A.dtype == np.float32 and A.flags.c_contiguous and A.flags.writeable
    assert (A.size == 0 or A.ctypes.data % 64 == 0) and not A.any()      # an empty matrix has no memory


def test_cache_sizes_as_the_system_reports_them(tmp_path, monkeypatch):
    for index, (level, kind, size) in enumerate([(1, "Data", "32K"), (1, "Instruction", "32K"),
                                                  (2, "Unified", "512K"), (3, "Unified", "32M"), (4, "Unified", "?")]):
        entry = tmp_path / "cpu" / "cpu0" / "cache" / f"index{index}"
        entry.mkdir(parents=True)
        for name, text in (("level", level), ("type", kind), ("size", size)):
            (entry / name).write_text(f"{text}\n")
    monkeypatch.setattr(kernels, "CPU_CACHES", tmp_path / "cpu" / "cpu0" / "cache")
    assert kernels.cache_sizes() == {1: 32 * 1024, 2: 512 * 1024, 3: 32 * 2**20}
    monkeypatch.setattr(kernels, "CPU_CACHES", tmp_path / "nothing")
    assert kernels.cache_sizes() == {}
