"""Dynamic sparsity beyond the spec: SET's prune-and-regrow step (Mocanu et al. 2018).

At the start of an epoch, remove the fraction ζ of a layer's nonzeros with the smallest
magnitudes, then add as many nonzeros at random positions that are zero after the pruning,
so that the density stays fixed. Kept weights keep their values (and optimizer state); new
weights get fresh values from an initializer and a zero optimizer state.
"""

import numpy as np

from nerva_edu.sparse.csr import CSRMatrix


def _free_positions(K, D, taken, count, rng):
    """``count`` distinct random flat positions in 0..K·D−1 that are not in the sorted array ``taken``."""
    free = K * D - len(taken)
    if count > free:
        raise ValueError(f"prune_and_regrow: cannot place {count} new nonzeros in {free} free positions")
    if free < 4 * count:                                     # few free positions: list them
        return rng.choice(np.setdiff1d(np.arange(K * D), taken, assume_unique=True), size=count, replace=False)
    chosen = np.empty(0, dtype=np.int64)
    while len(chosen) < count:                               # many free positions: draw and reject
        candidates = np.unique(rng.integers(0, K * D, size=2 * count))
        candidates = candidates[~np.isin(candidates, taken, assume_unique=True)]
        chosen = np.union1d(chosen, candidates)
    return rng.permutation(chosen)[:count]


def prune_and_regrow(W, zeta, rng, init, states=()):
    """SET step on a CSRMatrix W: returns (W', states') where W' has the same number of nonzeros,
    the ⌊ζ·nnz⌉ smallest in magnitude replaced by new random positions with values
    ``init(rng, count)``. ``states`` are arrays aligned with W.values (e.g. a momentum Δ),
    carried over for kept weights and zero for new ones."""
    if not 0 <= zeta <= 1:
        raise ValueError(f"prune_and_regrow: zeta must lie in [0, 1], got {zeta}")
    K, D = W.shape
    count = round(zeta * W.nnz)
    keep = np.sort(np.argsort(np.abs(W.values), kind="stable")[count:])
    kept = W.row_indices()[keep].astype(np.int64) * D + W.indices[keep]   # sorted (CSR order)
    new = _free_positions(K, D, kept, count, rng)
    flat = np.concatenate([kept, new])
    order = np.argsort(flat, kind="stable")
    flat = flat[order]
    values = np.concatenate([W.values[keep], np.asarray(init(rng, count), dtype=np.float32)])[order]
    indptr = np.zeros(K + 1, dtype=np.int32)
    np.cumsum(np.bincount(flat // D, minlength=K), out=indptr[1:])
    W_new = CSRMatrix((K, D), indptr, (flat % D).astype(np.int32), np.ascontiguousarray(values, dtype=np.float32))
    new_states = [np.ascontiguousarray(np.concatenate([S[keep], np.zeros(count, dtype=S.dtype)])[order])
                  for S in states]
    return W_new, new_states
