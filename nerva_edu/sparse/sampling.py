"""Random sparsity patterns in memory proportional to the number of nonzeros.

A sparse layer at scale has K·D positions far beyond memory (3072-65536-65536-65536-10 has 8.8·10⁹)
but only its nonzeros in it (at density 0.01, 8.8·10⁷). Nothing here allocates anything of size
K·D, not even a boolean mask: the patterns are drawn row by row.

A uniformly random pattern of nnz nonzeros among the K·D positions (every set of nnz positions
equally likely) is drawn in two stages:

1. The row counts. They follow the multivariate hypergeometric distribution, which NumPy samples
   only for K·D < 10⁹. Instead: include every position independently with probability
   nnz/(K·D), which gives independent Binomial(D, nnz/(K·D)) row counts, then remove (or add) the
   surplus (or shortfall) at positions chosen uniformly among the included (or excluded) ones. A
   rule that treats all positions alike and ends with nnz of them yields every set of nnz
   positions with the same probability, so the counts are exactly those of a uniform pattern.
2. The columns of each row: counts[i] distinct columns out of D, uniformly, sorted. Draw
   columns with replacement, drop the repeats, draw again for the rows that are still short,
   until every row is complete (again the same for all columns, so uniform). A row with more than
   half its columns taken is drawn through its complement, so every round at least halves what
   is missing. Rows are processed in chunks of about ``CHUNK`` nonzeros, which bounds the
   temporary memory.
"""

import numpy as np

CHUNK = 1 << 22


def choose_distinct(M, m, rng):
    """m distinct integers from 0..M−1, uniformly (memory O(m) for m ≤ M/50, as NumPy's
    Floyd sampling; O(M) only for M < 50·m)."""
    return rng.choice(M, size=m, replace=False)


def adjust_counts(counts, capacity, target, rng):
    """Turn independent binomial counts (counts[i] of the capacity[i] slots of bin i taken) into
    counts with the sum ``target``: remove the surplus from slots taken, or add the shortfall to
    slots free, chosen uniformly among all of them (in place; returns counts)."""
    total = int(counts.sum())
    if total == target:
        return counts
    if total > target:
        chosen, weights, sign = choose_distinct(total, total - target, rng), counts, -1
    else:
        chosen, weights, sign = choose_distinct(int(capacity.sum()) - total, target - total, rng), capacity - counts, 1
    bins = np.searchsorted(np.cumsum(weights), chosen, side="right")     # the bin of each chosen slot
    counts += sign * np.bincount(bins, minlength=len(counts)).astype(counts.dtype)
    return counts


def row_counts(K, D, nnz, rng):
    """The number of nonzeros in each of the K rows of a uniformly random K×D pattern with nnz
    nonzeros (int64)."""
    counts = rng.binomial(D, nnz / (K * D), size=K).astype(np.int64) if K * D else np.zeros(K, dtype=np.int64)
    return adjust_counts(counts, np.full(K, D, dtype=np.int64), nnz, rng)


def sorted_distinct(keys):
    """The distinct entries of ``keys``, sorted (one sort; np.unique of NumPy 2 hashes first, which
    is several times slower on tens of millions of integers)."""
    keys = np.sort(keys)
    if len(keys) < 2:
        return keys
    first = np.empty(len(keys), dtype=bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    return keys[first]


def contains(sorted_keys, keys):
    """Whether each of ``keys`` is in the sorted array ``sorted_keys`` (a binary search each)."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool)
    slot = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[slot] == keys


def merge_slots(a, b):
    """Where the entries of b go in the sorted merge of the sorted disjoint arrays a and b: a
    boolean array of len(a) + len(b) entries, true at b's (no sort of the whole: a binary search
    for each entry of b)."""
    is_b = np.zeros(len(a) + len(b), dtype=bool)
    is_b[np.searchsorted(a, b) + np.arange(len(b))] = True
    return is_b


def merged(a, b):
    """The sorted merge of the sorted disjoint arrays a and b."""
    is_b = merge_slots(a, b)
    result = np.empty(len(is_b), dtype=np.result_type(a, b))
    result[is_b], result[~is_b] = b, a
    return result


def distinct_keys(counts, D, rng):
    """Sorted keys r·D + j, with counts[r] distinct uniformly random columns j in row r (counts[r]
    at most D/2, so that each round at least halves what is missing). One sort of all the keys;
    the rounds after it handle only the repeats."""
    rows = np.arange(len(counts))

    def draw(missing):
        return sorted_distinct(np.repeat(rows, missing) * D + rng.integers(0, D, size=int(missing.sum())))

    keys = draw(counts)
    missing = counts - np.bincount(keys // D, minlength=len(counts))
    extra = np.empty(0, dtype=np.int64)
    while missing.any():
        new = draw(missing)
        new = new[~contains(keys, new) & ~contains(extra, new)]
        extra = merged(extra, new)
        missing -= np.bincount(new // D, minlength=len(counts))
    return merged(keys, extra)


def row_columns(counts, D, rng):
    """For each row r, counts[r] distinct columns from 0..D−1, uniformly, in increasing order:
    the column indices of the CSR pattern (int32), rows one after another."""
    indices = np.empty(int(counts.sum()), dtype=np.int32)
    ends = np.cumsum(counts)
    first, start = 0, 0
    while first < len(counts):                       # rows [first, last), about CHUNK nonzeros
        last = max(int(np.searchsorted(ends, start + CHUNK, side="right")), first + 1)
        chunk = counts[first:last]
        flip = chunk > D // 2                            # these rows: draw the columns left out
        keys = distinct_keys(np.where(flip, D - chunk, chunk), D, rng)
        flipped_rows = np.flatnonzero(flip)
        if len(flipped_rows):
            rank = np.full(len(chunk), -1)
            rank[flipped_rows] = np.arange(len(flipped_rows))
            in_flipped = flip[keys // D]
            full = np.ones((len(flipped_rows), D), dtype=bool)  # at most 2·(their nonzeros) entries
            full[rank[keys[in_flipped] // D], keys[in_flipped] % D] = False
            r, j = np.nonzero(full)
            keys = np.sort(np.concatenate([keys[~in_flipped], flipped_rows[r] * D + j]))
        stop = start + int(chunk.sum())
        indices[start:stop] = keys % D
        first, start = last, stop
    return indices


def random_pattern(K, D, nnz, rng):
    """A uniformly random K×D pattern with nnz nonzeros: (indptr, indices) of CSR, int32."""
    counts = row_counts(K, D, nnz, rng)
    indptr = np.zeros(K + 1, dtype=np.int32)
    np.cumsum(counts, out=indptr[1:])
    return indptr, row_columns(counts, D, rng)
