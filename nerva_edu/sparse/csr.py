"""Compressed sparse row (CSR) matrices for sparse layers, validated before C++ sees them.

Row i of a K×D matrix holds the nonzeros k = indptr[i], ..., indptr[i+1] − 1, in the columns
indices[k] (sorted and distinct within the row) with the values values[k]. The C++ kernels
(``cpp/sparse_kernels.h``) read these arrays in place, so they must be float32 values, int32
indices, one-dimensional and C-contiguous; :class:`CSRMatrix` checks all of that, and the
structure, when it is constructed: a bad matrix raises ``TypeError``/``ValueError`` in Python
instead of crashing the process in C++.

What was checked cannot change afterwards. The matrix owns its pattern: ``indptr`` and
``indices`` (and the column form of :meth:`CSRMatrix.transposed_pattern`) are copies held in
immutable memory, read-only arrays that no flag can make writable again, and no attribute of a
matrix can be set once it is built. The values stay writable, because training updates them in
place (the C++ optimizer too). They are the caller's memory, not a copy (at scale it has tens of
millions of entries), held so that it cannot move: NumPy resizes an array (which moves its
memory) only while nothing else refers to it. The kernels check at every call that the values
still have the dtype, layout and length they rely on.
"""

import numpy as np

from nerva_edu.sparse.sampling import random_pattern


def dtype_name(dtype):
    """The name of a dtype for messages, with its byte order where that is not the machine's
    (a big-endian float32 is not the float32 the kernels read)."""
    dtype = np.dtype(dtype)
    return dtype.name if dtype.isnative else f"{dtype.name} in {'big' if dtype.byteorder == '>' else 'little'}-endian byte order"


def check_array(op, name, A, dtype, ndim=1):
    """TypeError unless A is a NumPy array of ``dtype``; ValueError unless it has ``ndim``
    dimensions and is C-contiguous."""
    if not isinstance(A, np.ndarray):
        raise TypeError(f"{op}: {name} must be a NumPy array, got {type(A).__name__}")
    if A.dtype != dtype:
        raise TypeError(f"{op}: {name} must have dtype {dtype_name(dtype)}, got {dtype_name(A.dtype)}")
    if A.ndim != ndim:
        raise ValueError(f"{op}: {name} must be {ndim}-D, got shape {A.shape}")
    if not A.flags.c_contiguous:
        raise ValueError(f"{op}: {name} must be C-contiguous (np.ascontiguousarray({name}))")


def frozen(A):
    """A read-only copy of A in immutable memory (its WRITEABLE flag can never be set again)."""
    return np.frombuffer(np.ascontiguousarray(A).tobytes(), dtype=A.dtype).reshape(A.shape)


def fresh(A):
    """A new read-only array on the immutable memory of the frozen array A. The pattern is handed out
    this way: NumPy's ``__setstate__`` can give an array another, writable buffer, and so changes only
    the array it is called on, never the memory that C++ was given."""
    return np.frombuffer(A.base, dtype=A.dtype).reshape(A.shape)


# The largest shape the int32 indices can address (a row or column index, and nnz).
INDEX_LIMIT = np.iinfo(np.int32).max


class CSRMatrix:
    """A K×D sparse matrix in CSR form with a fixed pattern; the values may change in place."""

    def __init__(self, shape, indptr, indices, values):
        op = "CSRMatrix"
        if (not isinstance(shape, (tuple, list)) or len(shape) != 2
                or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0 for n in shape)):
            raise ValueError(f"{op}: shape must be two non-negative integers, got {shape!r}")
        if max(shape) > INDEX_LIMIT:
            raise ValueError(f"{op}: shape {tuple(shape)} exceeds the {INDEX_LIMIT} rows or columns that int32 "
                             f"indices can address")
        K, D = int(shape[0]), int(shape[1])
        check_array(op, "indptr", indptr, np.int32)
        check_array(op, "indices", indices, np.int32)
        check_array(op, "values", values, np.float32)
        if not values.flags.writeable:
            raise ValueError(f"{op}: values must be writable (training updates them in place): pass a copy")
        indptr, indices = frozen(indptr), frozen(indices)          # what is checked below is what is kept
        if len(indptr) != K + 1:
            raise ValueError(f"{op}: indptr must have K + 1 = {K + 1} entries for shape {(K, D)}, got {len(indptr)}")
        if indptr[0] != 0 or np.any(np.diff(indptr) < 0):
            raise ValueError(f"{op}: indptr must start at 0 and never decrease")
        nnz = int(indptr[-1])
        if len(indices) != nnz or len(values) != nnz:
            raise ValueError(f"{op}: indptr[-1] = {nnz} nonzeros, but indices has {len(indices)} "
                             f"and values {len(values)} entries")
        if nnz and (indices.min() < 0 or indices.max() >= D):
            raise ValueError(f"{op}: column indices must lie in 0..{D - 1}, got {indices.min()}..{indices.max()}")
        steps = np.diff(indices)                                 # indices[k+1] − indices[k]
        starts = indptr[1:-1]
        steps[starts[(starts > 0) & (starts < nnz)] - 1] = 1     # where a new row starts, any column may follow
        if np.any(steps <= 0):
            raise ValueError(f"{op}: the column indices of each row must be sorted and distinct")
        # the values as a view, which cannot be resized, and its base referenced by the view and by
        # _memory, which NumPy cannot resize either (it resizes only what nothing else refers to)
        values = values.view()
        self.__dict__.update(_shape=(K, D), _nnz=nnz, _indptr=indptr, _indices=indices, _values=values,
                             _memory=values.base, _transposed=None)

    def __setattr__(self, name, value=None):
        """Nothing can be set or deleted once the matrix is checked (the values change in place)."""
        raise AttributeError(f"CSRMatrix: cannot set or delete {name}: a matrix is fixed once it is checked "
                             f"(its values change in place)")

    __delattr__ = __setattr__

    def __reduce__(self):
        """Copies (copy, deepcopy, pickle) are built, and so checked, by the constructor."""
        return CSRMatrix, (self.shape, self.indptr, self.indices, self.values)

    shape = property(lambda self: self._shape, doc="(K, D)")
    indptr = property(lambda self: fresh(self._indptr), doc="the row pointers, K + 1 entries (read-only)")
    indices = property(lambda self: fresh(self._indices), doc="the column of every nonzero (read-only)")
    values = property(lambda self: self._values, doc="the value of every nonzero (writable in place)")

    @property
    def nnz(self):
        return self._nnz

    @property
    def density(self):
        K, D = self.shape
        return self.nnz / (K * D) if K * D else 0.0

    def row_indices(self):
        """The row i of every nonzero k (the CSR counterpart of ``indices``)."""
        return np.repeat(np.arange(self.shape[0], dtype=np.int32), np.diff(self.indptr))

    def transposed_pattern(self):
        """The pattern by columns (CSC): (col_ptr, row_index, position), where column j holds the
        nonzeros k' = col_ptr[j], ..., col_ptr[j+1] − 1 in rows row_index[k'], with values
        values[position[k']]. Computed once (the pattern never changes)."""
        if self._transposed is None:
            position = np.argsort(self.indices, kind="stable").astype(np.int32)   # rows stay sorted
            col_ptr = np.zeros(self.shape[1] + 1, dtype=np.int32)
            np.cumsum(np.bincount(self.indices, minlength=self.shape[1]), out=col_ptr[1:])
            self.__dict__["_transposed"] = tuple(map(frozen, (col_ptr, self.row_indices()[position], position)))
        return tuple(map(fresh, self._transposed))

    @classmethod
    def from_positions(cls, shape, rows, cols, values):
        """The matrix with nonzeros values[m] at (rows[m], cols[m]), positions distinct."""
        op = "CSRMatrix.from_positions"
        K, D = shape
        rows, cols, values = (np.asarray(a) for a in (rows, cols, values))
        if not rows.ndim == cols.ndim == values.ndim == 1 or not len(rows) == len(cols) == len(values):
            raise ValueError(f"{op}: rows, cols and values must be 1-D and of one length, got shapes {rows.shape}, "
                             f"{cols.shape} and {values.shape}")
        for name, index, limit in (("rows", rows, K), ("cols", cols, D)):
            if index.size and (index.dtype.kind not in "iu" or index.min() < 0 or index.max() >= limit):
                raise ValueError(f"{op}: {name} must be whole numbers 0..{limit - 1}, got {index.dtype.name} values "
                                 f"from {index.min()} to {index.max()}")
        rows, cols = rows.astype(np.int64), cols.astype(np.int64)           # checked: the casts are exact
        order = np.lexsort((cols, rows))
        indptr = np.zeros(K + 1, dtype=np.int32)
        np.cumsum(np.bincount(rows, minlength=K), out=indptr[1:])
        return cls((K, D), indptr, np.asarray(cols, dtype=np.int32)[order],
                   np.ascontiguousarray(np.asarray(values, dtype=np.float32)[order]))

    @classmethod
    def from_dense(cls, A, mask=None):
        """The entries of the 2-D array A where ``mask`` is true (default: where A ≠ 0)."""
        A = np.asarray(A)
        if A.ndim != 2:
            raise ValueError(f"CSRMatrix.from_dense: expected a 2-D array, got shape {A.shape}")
        if mask is not None and np.shape(mask) != A.shape:
            raise ValueError(f"CSRMatrix.from_dense: the mask has shape {np.shape(mask)}, but A has shape {A.shape}")
        rows, cols = np.nonzero(A if mask is None else mask)
        return cls.from_positions(A.shape, rows, cols, A[rows, cols])

    @classmethod
    def random(cls, shape, density, rng, init=None):
        """A random pattern with round(density·K·D) nonzeros at uniformly chosen distinct
        positions (a static sparse mask), drawn row by row in memory proportional to the
        nonzeros (:mod:`nerva_edu.sparse.sampling`); values from ``init(rng, nnz)`` (default
        U(−1, 1)) in CSR order."""
        K, D = shape
        if not 0 <= density <= 1:
            raise ValueError(f"CSRMatrix.random: density must lie in [0, 1], got {density}")
        nnz = round(density * K * D)
        indptr, indices = random_pattern(K, D, nnz, rng)
        values = init(rng, nnz) if init else rng.uniform(-1, 1, nnz)
        return cls((K, D), indptr, indices, np.ascontiguousarray(values, dtype=np.float32))

    def to_dense(self):
        A = np.zeros(self.shape, dtype=self.values.dtype)
        A[self.row_indices(), self.indices] = self.values
        return A

    def mask(self):
        """The pattern as a K×D boolean matrix."""
        M = np.zeros(self.shape, dtype=bool)
        M[self.row_indices(), self.indices] = True
        return M

    def to_scipy(self):
        """A ``scipy.sparse.csr_array`` sharing the arrays."""
        import scipy.sparse
        return scipy.sparse.csr_array((self.values, self.indices, self.indptr), shape=self.shape)

    def copy(self):
        return CSRMatrix(self.shape, self.indptr, self.indices, self.values.copy())

    def __repr__(self):
        return f"CSRMatrix(shape={self.shape}, nnz={self.nnz}, density={self.density:.4g})"
