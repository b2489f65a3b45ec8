"""Random sparsity patterns in memory proportional to the nonzeros: their distribution (uniform over
all patterns with the given number of nonzeros, for building and for SET's regrowth) and the
peak memory of building, training and prune-and-regrow at a width where anything of size K·D
would show."""

import itertools
import json
import subprocess
import sys
import textwrap
from collections import Counter

import numpy as np
import pytest
import scipy.stats

from nerva_edu.sparse import CSRMatrix, prune_and_regrow, sampling


def chi_square_p(observed, outcomes):
    """The p-value of observed counts (a Counter) against the uniform distribution on ``outcomes``."""
    assert set(observed) <= set(outcomes)
    return scipy.stats.chisquare([observed[o] for o in outcomes]).pvalue


def positions(W):
    return tuple(W.row_indices().astype(np.int64) * W.shape[1] + W.indices)


# (K, D, nnz): rows drawn directly and through their complement, binomial counts adjusted up and down
@pytest.mark.parametrize("K, D, nnz", [(3, 3, 4), (2, 4, 5), (4, 2, 3), (1, 6, 3), (6, 1, 4), (2, 5, 1)])
def test_random_patterns_are_uniform_over_all_patterns_with_nnz_nonzeros(K, D, nnz):
    rng = np.random.default_rng(K * 100 + D * 10 + nnz)
    outcomes = list(itertools.combinations(range(K * D), nnz))
    draws = 60 * len(outcomes)
    observed = Counter(positions(CSRMatrix.random((K, D), nnz / (K * D), rng)) for _ in range(draws))
    assert sum(observed.values()) == draws
    assert chi_square_p(observed, outcomes) > 1e-3


def test_a_biased_sampler_fails_the_uniformity_check():
    """The check above can fail: binomial row counts without the adjustment (a pattern whose
    nonzeros are spread as evenly as possible over the rows) are rejected."""
    rng = np.random.default_rng(0)
    K, D, nnz = 3, 3, 4
    outcomes = list(itertools.combinations(range(K * D), nnz))
    observed = Counter()
    for _ in range(60 * len(outcomes)):
        counts = np.array([2, 1, 1])[rng.permutation(3)]
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        W = CSRMatrix((K, D), indptr, sampling.row_columns(counts, D, rng), np.ones(nnz, dtype=np.float32))
        observed[positions(W)] += 1
    assert chi_square_p(observed, outcomes) < 1e-6


def test_row_counts_beyond_numpys_hypergeometric_limit():
    """K·D ≥ 10⁹, where NumPy's multivariate hypergeometric stops: the counts sum to nnz and have
    the mean and variance of a row of a uniform pattern."""
    K, D, nnz = 4000, 400_000, 400_000
    counts = sampling.row_counts(K, D, nnz, np.random.default_rng(1))
    assert counts.sum() == nnz and counts.min() >= 0
    mean, variance = nnz / K, nnz * (1 / K) * (1 - 1 / K) * (K * D - nnz) / (K * D - 1)
    assert counts.mean() == mean
    assert abs(counts.var() - variance) < 4 * variance * np.sqrt(2 / (K - 1))


def test_patterns_across_chunks_are_valid_and_seeded(monkeypatch):
    monkeypatch.setattr(sampling, "CHUNK", 100)              # many chunks, rows dense and sparse
    for K, D, density in [(300, 40, 0.1), (50, 30, 0.8), (7, 2000, 0.3)]:
        W = CSRMatrix.random((K, D), density, np.random.default_rng(2))
        again = CSRMatrix.random((K, D), density, np.random.default_rng(2))
        assert W.nnz == round(density * K * D)
        np.testing.assert_array_equal(W.indices, again.indices)
        np.testing.assert_array_equal(np.diff(W.indptr), np.bincount(W.row_indices(), minlength=K))


@pytest.mark.parametrize("shape, nnz, zeta", [((3, 4), 6, 0.5), ((5, 5), 6, 1 / 3)])
def test_regrown_positions_are_uniform_among_the_free_ones(shape, nnz, zeta):
    """A fixed W (so the pruned weights are fixed): every set of new positions among the positions
    free after pruning is equally likely (few free positions listed; many drawn and rejected)."""
    K, D = shape
    rng = np.random.default_rng(3)
    W = CSRMatrix.random(shape, nnz / (K * D), rng)
    count = round(zeta * nnz)
    kept = set(np.array(positions(W))[np.argsort(np.abs(W.values), kind="stable")[count:]])
    free = [p for p in range(K * D) if p not in kept]
    outcomes = list(itertools.combinations(free, count))
    observed = Counter()
    for _ in range(40 * len(outcomes)):
        W2, _ = prune_and_regrow(W, zeta, rng, lambda rng, n: np.full(n, 7.0))
        assert kept <= set(positions(W2))
        observed[tuple(sorted(set(positions(W2)) - kept))] += 1
    assert chi_square_p(observed, outcomes) > 1e-3


def test_prune_and_regrow_prunes_exactly_among_equal_magnitudes():
    """Of equal magnitudes the first ones go (as a stable sort would have it); NaN counts as the largest."""
    values = np.array([0.5, -0.5, 0.5, 2.0, np.nan, 0.1], dtype=np.float32)
    W = CSRMatrix((2, 6), np.array([0, 3, 6], dtype=np.int32), np.array([0, 2, 4, 1, 3, 5], dtype=np.int32), values)
    W2, _ = prune_and_regrow(W, 0.5, np.random.default_rng(0), lambda rng, n: np.full(n, 7.0))
    A = W2.to_dense()
    assert A[0, 4] == 0.5 and A[1, 1] == 2.0 and np.isnan(A[1, 3])
    assert np.count_nonzero(A == 7.0) == 3 and W2.nnz == 6


MEMORY_CHILD = textwrap.dedent("""
    import json, resource, sys, threading, time, tracemalloc
    import numpy as np
    from nerva_edu.sparse import SparseMLP

    def anonymous():                                     # resident memory not backed by files, bytes
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("RssAnon:"))

    rng = np.random.default_rng(1)
    X = rng.standard_normal((100, 3072), dtype=np.float32)
    T = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 100)]
    small = SparseMLP([3072, 16, 16, 10], density=0.5, threads=1, seed=0)   # the C++ code compiled,
    small.step(X, T, 0.01)                                                  # its wrappers too
    small.prune_and_regrow(0.3)
    before, peak, done = anonymous(), [0], threading.Event()

    def sample():                                        # a dense K×D array would take far longer to fill
        while not done.is_set():
            peak[0] = max(peak[0], anonymous() - before)
            time.sleep(0.001)

    sampler = threading.Thread(target=sample)
    sampler.start()
    tracemalloc.start()                                  # NumPy reports its arrays' memory to it
    H, density = int(sys.argv[1]), float(sys.argv[2])
    model = SparseMLP([3072, H, H, 10], density=density, threads=1, seed=0)
    model.step(X, T, 0.01)
    model.prune_and_regrow(0.3)
    model.step(X, T, 0.01)
    done.set()
    sampler.join()
    print(json.dumps({"nnz": sum(layer.W.nnz for layer in model.layers), "traced": tracemalloc.get_traced_memory()[1],
                      "anonymous": max(peak[0], anonymous() - before),
                      "ru_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
""")


def test_memory_of_building_training_and_regrowing_grows_with_the_nonzeros():
    """3072-16384-16384-10 at density 0.001 (about 3·10⁵ nonzeros): building, two steps and SET in a
    child process. The peak of the arrays allocated (NumPy's, traced by tracemalloc) stays within
    16 MiB + 100 bytes per nonzero, and the anonymous resident memory (sampled every millisecond;
    it holds the C++ buffers of the batch too, 45 MiB) grows by less than 64 MiB + 100 bytes per
    nonzero: far below a boolean mask of the middle layer (256 MiB), let alone a dense float32
    (1 GiB) or float64 (2 GiB) one. (The peak resident set, ru_maxrss, is not compared: it counts
    the pages of cppyy's libraries the process happens to map, which varied by 350 MiB between
    runs.)"""
    H = 16384
    result = subprocess.run([sys.executable, "-c", MEMORY_CHILD, str(H), "0.001"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert 250_000 < figures["nnz"] < 400_000
    assert figures["traced"] < 16 * 2**20 + 100 * figures["nnz"] < H * H, figures
    assert figures["anonymous"] < 64 * 2**20 + 100 * figures["nnz"] < H * H, figures
