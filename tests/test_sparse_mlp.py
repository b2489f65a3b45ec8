"""Erdős–Rényi densities, CSR construction, SET prune/regrow, sparse training, bench sparse."""

import json

import numpy as np
import pytest
import scipy.sparse

from nerva_edu.datasets import load_digits
from nerva_edu.sparse import CSRMatrix, SparseMLP, erdos_renyi_densities, prune_and_regrow, train


def test_erdos_renyi_densities_of_the_benchmark_network():
    sizes = [3072, 1024, 512, 10]
    densities = erdos_renyi_densities(0.01, sizes)
    np.testing.assert_allclose(densities, [0.0078, 0.0175, 0.609], rtol=0.01)
    counts = [K * D for D, K in zip(sizes[:-1], sizes[1:])]
    assert np.dot(densities, counts) == pytest.approx(0.01 * sum(counts))


def test_a_layer_that_would_exceed_density_one_becomes_dense():
    sizes = [100, 50, 2]
    densities = erdos_renyi_densities(0.5, sizes)
    assert densities[1] == 1.0 and densities[0] < 0.5
    counts = [5000, 100]
    assert np.dot(densities, counts) == pytest.approx(0.5 * sum(counts))
    assert erdos_renyi_densities(1, sizes) == [1.0, 1.0]


@pytest.mark.parametrize("density, sizes", [(0, [3, 2]), (1.5, [3, 2]), (0.5, [3]), (0.5, [3, 0])])
def test_erdos_renyi_rejects_bad_arguments(density, sizes):
    with pytest.raises(ValueError, match="erdos_renyi_densities"):
        erdos_renyi_densities(density, sizes)


def test_random_pattern_is_exact_and_seeded():
    W = CSRMatrix.random((40, 30), 0.1, np.random.default_rng(3))
    assert W.nnz == 120 and W.density == pytest.approx(0.1)
    again = CSRMatrix.random((40, 30), 0.1, np.random.default_rng(3))
    np.testing.assert_array_equal(W.indices, again.indices)
    np.testing.assert_array_equal(W.values, again.values)
    np.testing.assert_array_equal(CSRMatrix.from_dense(W.to_dense()).indices, W.indices)


def test_transposed_pattern_is_the_csc_form():
    W = CSRMatrix.random((23, 17), 0.3, np.random.default_rng(4))
    col_ptr, row_index, position = W.transposed_pattern()
    csc = scipy.sparse.csc_array(W.to_dense())
    np.testing.assert_array_equal(col_ptr, csc.indptr)
    np.testing.assert_array_equal(row_index, csc.indices)
    np.testing.assert_array_equal(W.values[position], csc.data)


@pytest.mark.parametrize("shape, density", [((50, 60), 0.05), ((8, 9), 0.9), ((8, 9), 1.0)])
def test_prune_and_regrow_keeps_the_density_and_the_largest_weights(shape, density):
    rng = np.random.default_rng(5)
    W = CSRMatrix.random(shape, density, rng)
    Delta = np.arange(W.nnz, dtype=np.float32) + 1
    zeta = 0.3
    pruned = round(zeta * W.nnz)
    W2, (Delta2,) = prune_and_regrow(W, zeta, rng, lambda rng, n: np.full(n, 7.0), (Delta,))
    assert W2.nnz == W.nnz and W2.shape == W.shape
    A, A2 = W.to_dense(), W2.to_dense()
    largest = np.sort(np.abs(W.values))[pruned:]
    kept = (A != 0) & (A2 == A)
    np.testing.assert_array_equal(np.sort(np.abs(A[kept])), largest)
    assert np.count_nonzero(A2 == 7.0) == pruned
    D2 = np.zeros(shape, dtype=np.float32)
    D2[W2.row_indices(), W2.indices] = Delta2
    D = np.zeros(shape, dtype=np.float32)
    D[W.row_indices(), W.indices] = Delta
    np.testing.assert_array_equal(D2[kept], D[kept])        # kept weights keep their state
    assert np.all(D2[A2 == 7.0] == 0)                        # new ones start from zero


def test_prune_and_regrow_rejects_a_bad_fraction():
    W = CSRMatrix.random((4, 4), 0.5, np.random.default_rng(0))
    with pytest.raises(ValueError, match="zeta must lie in"):
        prune_and_regrow(W, 1.5, np.random.default_rng(0), lambda rng, n: np.zeros(n))


@pytest.fixture(scope="module")
def digits():
    return load_digits(dtype=np.float32)


@pytest.mark.parametrize("backend, zeta", [("cpp", 0.0), ("numpy", 0.0), ("cpp", 0.2)])
def test_sparse_training_on_digits_learns(digits, backend, zeta):
    model = SparseMLP([64, 128, 64, 10], density=0.3, backend=backend, threads=2, seed=1)
    history = train(model, digits, epochs=4, batch_size=32, eta=0.05, zeta=zeta)
    assert history[-1].loss < history[0].loss
    assert history[-1].test_accuracy > 0.85                   # chance is 0.1
    assert all(abs(layer.W.density - d) < 1e-3 for layer, d in
               zip(model.layers, erdos_renyi_densities(0.3, [64, 128, 64, 10])))


@pytest.mark.parametrize("arguments, message", [
    ({"backend": "cuda"}, "unknown backend 'cuda'; accepted: cpp, numpy, scipy"),
    ({"activations": ["ReLU", "Tanh"]}, "activation: unknown name 'Tanh'"),
    ({"activations": ["ReLU"]}, "2 layers need 2 densities and activations"),
    ({"optimizer": "Adam"}, "optimizer: unknown name 'Adam'"),
])
def test_sparse_mlp_rejects_bad_arguments(arguments, message):
    with pytest.raises(ValueError, match=message):
        SparseMLP([4, 3, 2], **arguments)


def test_sparse_mlp_checks_batches():
    model = SparseMLP([4, 3, 2], backend="numpy")
    with pytest.raises(ValueError, match=r"X has shape \(5, 3\), expected \(N, 4\)"):
        model.feedforward(np.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"T has shape \(5, 3\), expected \(5, 2\)"):
        model.step(np.zeros((5, 4)), np.zeros((5, 3)), 0.1)


def test_bench_sparse_runs(tmp_path):
    from nerva_edu.cli import main
    output = tmp_path / "bench.json"
    assert main(["bench", "sparse", "--layer-sizes", "32;16;10", "--densities", "0.5,0.1", "--backends", "cpp,numpy",
                 "--rounds", "1", "--round-seconds", "0.01", "--plot", str(tmp_path / "plot.png"),
                 "--json", str(output)]) == 0
    results = json.loads(output.read_text())
    assert {(r["backend"], r["density"]) for r in results} == {(b, d) for b in ("cpp", "numpy") for d in (0.5, 0.1)}
    assert all(set(r) - {"kernels"} == {"backend", "density", "batch_size", "threads", "ms_per_step"}
               and r["ms_per_step"] > 0 and ("kernels" in r) == (r["backend"] == "cpp") for r in results)
    assert all(r["kernels"]["SDDMM/SpMM"] > 0 for r in results if r["backend"] == "cpp")
    assert (tmp_path / "plot.png").stat().st_size > 0


def test_kernel_rates_time_the_kernels_on_padded_aligned_buffers():
    from nerva_edu.benchmarks.sparse import _kernel_rates, format_kernels
    k = _kernel_rates(SparseMLP([40, 30, 10], density=0.3, backend="numpy"), 20, 1, 0.0)
    assert k["padded_batch"] == 32 and k["shape"] == [30, 40]
    assert all(k[name]["ms"] > 0 and k[name]["gflops"] > 0 for name in ("SpMM", "transposed SpMM", "SDDMM"))
    assert k["SDDMM/SpMM"] > 0
    assert "SDDMM/SpMM (target ≤ 1.5)" in format_kernels([{"kernels": k}])


def test_accuracy_runs_batch_by_batch_and_checks_its_labels(monkeypatch):
    model = SparseMLP([5, 6, 3], density=0.5, backend="cpp", threads=1)
    X = np.random.default_rng(0).standard_normal((2500, 5)).astype(np.float32)
    labels = np.arange(2500) % 3
    whole = float(np.mean(model.feedforward(X).argmax(axis=1) == labels))
    sizes, feedforward = [], model.feedforward
    monkeypatch.setattr(model, "feedforward", lambda X: sizes.append(len(X)) or feedforward(X))
    assert model.accuracy(X, labels) == whole and sizes == [1000, 1000, 500]
    for bad in ([0.5, 1.0], [7, -1]):
        with pytest.raises(ValueError, match=r"labels must be whole numbers 0\.\.2"):
            model.accuracy(X[:2], bad)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        model.accuracy(X, labels, batch_size=0)


@pytest.mark.parametrize("rows, cols, values, message", [
    ([0], [2 ** 32 + 3], [1.0], r"cols must be whole numbers 0\.\.4, got int64 values from 4294967299"),
    ([0], [-2 ** 32 + 1], [1.0], "cols must be whole numbers 0..4"),
    ([0, 0], [1.7, 2.2], [1.0, 2.0], "cols must be whole numbers 0..4, got float64"),
    ([1], [0], [1.0], r"rows must be whole numbers 0\.\.0"),
    ([0, 0], [1, 2], [1.0, 2.0, 3.0], "must be 1-D and of one length"),
])
def test_from_positions_refuses_positions_that_do_not_fit(rows, cols, values, message):
    with pytest.raises(ValueError, match=message):
        CSRMatrix.from_positions((1, 5), rows, cols, values)


def test_from_dense_refuses_a_mask_of_another_shape():
    with pytest.raises(ValueError, match=r"the mask has shape \(2, 2\), but A has shape \(3, 3\)"):
        CSRMatrix.from_dense(np.ones((3, 3)), mask=np.ones((2, 2), dtype=bool))
    assert CSRMatrix.from_positions((2, 3), [], [], []).nnz == 0
