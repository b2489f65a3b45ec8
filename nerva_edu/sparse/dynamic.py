"""Dynamic sparsity beyond the spec: SET's prune-and-regrow step (Mocanu et al. 2018).

At the start of an epoch, remove the fraction ζ of a layer's nonzeros with the smallest
magnitudes, then add as many nonzeros at random positions that are zero after the pruning,
so that the density stays fixed. Kept weights keep their values (and optimizer state); new
weights get fresh values from an initializer and a zero optimizer state.

Memory is proportional to the nonzeros: positions are flat numbers r·D + j of the nonzeros only
(the kept ones, in CSR order, are sorted), new positions are drawn at random and the taken ones
rejected by binary search, and the two sorted lists are merged by their ranks, without sorting
all the nonzeros again.
"""

import numpy as np

from nerva_edu.sparse.csr import CSRMatrix
from nerva_edu.sparse.sampling import choose_distinct, contains, merge_slots, merged, sorted_distinct


def smallest(values, count):
    """A boolean array marking the ``count`` entries of smallest magnitude (of equal magnitudes,
    the first ones; NaN counts as the largest)."""
    magnitude = np.abs(values)
    magnitude[np.isnan(magnitude)] = np.inf
    marked = np.zeros(len(values), dtype=bool)
    if count:
        threshold = np.partition(magnitude, count - 1)[count - 1]           # the count-th smallest
        marked = magnitude < threshold
        ties = np.flatnonzero(magnitude == threshold)
        marked[ties[:count - np.count_nonzero(marked)]] = True
    return marked


def free_positions(K, D, taken, count, rng):
    """``count`` distinct random flat positions in 0..K·D−1 that are not in the sorted array
    ``taken``, uniformly among all such sets, sorted."""
    free = K * D - len(taken)
    if count > free:
        raise ValueError(f"prune_and_regrow: cannot place {count} new nonzeros in {free} free positions")
    if free < 4 * count:                 # few free positions (then K·D < 4·nnz): list them
        is_free = np.ones(K * D, dtype=bool)
        is_free[taken] = False
        return np.sort(rng.choice(np.flatnonzero(is_free), size=count, replace=False))
    chosen = np.empty(0, dtype=np.int64)
    while len(chosen) < count:           # many free positions: draw and reject the taken ones
        need = count - len(chosen)
        candidates = sorted_distinct(rng.integers(0, K * D, size=need + need // 8 + 16))
        chosen = merged(chosen, candidates[~(contains(taken, candidates) | contains(chosen, candidates))])
    return np.sort(chosen[choose_distinct(len(chosen), count, rng)])


def check_zeta(op, zeta):
    if not 0 <= zeta <= 1:
        raise ValueError(f"{op}: zeta must lie in [0, 1], got {zeta}")


def prune_and_regrow(W, zeta, rng, init, states=()):
    """SET step on a CSRMatrix W: returns (W', states') where W' has the same number of nonzeros,
    the ⌊ζ·nnz⌉ smallest in magnitude replaced by new random positions with values
    ``init(rng, count)``. ``states`` are arrays aligned with W.values (e.g. a momentum Δ),
    carried over for kept weights and zero for new ones."""
    check_zeta("prune_and_regrow", zeta)
    K, D = W.shape
    count = round(zeta * W.nnz)
    pruned = smallest(W.values, count)
    keep = ~pruned
    rows = W.row_indices()
    row_counts = np.diff(W.indptr) - np.bincount(rows[pruned], minlength=K)
    kept = rows[keep].astype(np.int64)
    del rows
    kept *= D
    kept += W.indices[keep]                                   # the kept positions, sorted
    new = free_positions(K, D, kept, count, rng)
    row_counts += np.bincount(new // D, minlength=K)
    is_new = merge_slots(kept, new)                           # where the new ones go in CSR order
    del kept
    is_old = ~is_new

    def merged(old, fresh, dtype):
        result = np.empty(W.nnz, dtype=dtype)
        result[is_old], result[is_new] = old[keep], fresh
        return result

    indptr = np.zeros(K + 1, dtype=np.int32)
    np.cumsum(row_counts, out=indptr[1:])
    W_new = CSRMatrix((K, D), indptr, merged(W.indices, new % D, np.int32),
                      merged(W.values, np.asarray(init(rng, count), dtype=np.float32), np.float32))
    return W_new, [merged(S, 0, S.dtype) for S in states]
