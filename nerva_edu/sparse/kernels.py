"""The C++ sparse kernels of ``cpp/sparse_kernels.h``, with their arguments checked in Python.

The kernels work zero-copy on NumPy buffers. They keep a batch feature-major: X (N×D) must be
stored column by column (``np.asfortranarray(X)``), so that X.T (D×N) is C-contiguous and every
nonzero W(i, j) meets a contiguous column j of X. Results come back in the same layout.
Everything is checked here (dtype float32, shapes, layout, the CSR structure in
:class:`~nerva_edu.sparse.csr.CSRMatrix`, which owns its pattern so that it cannot change after
the check) before a pointer reaches C++. The one array of W that stays writable, its values,
is checked again at every call (:func:`check_values`: a few attribute reads).

Loading JIT-compiles the header once per process through :func:`nerva_edu.cpp.include`;
calling :func:`load` again (a re-run notebook cell) does nothing.
"""

import os
from pathlib import Path

import numpy as np

from nerva_edu.sparse.csr import CSRMatrix, check_array, dtype_name


def load():
    """The C++ namespace ``nerva_edu::sparse`` (JIT-compiled on first use)."""
    from nerva_edu.cpp import include
    return include("sparse_kernels.h").nerva_edu.sparse


def default_threads():
    """The number of CPUs this process may run on (all CPUs where the system cannot tell)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


CPU_CACHES = Path("/sys/devices/system/cpu/cpu0/cache")      # Linux's description of the first CPU's caches


def cache_sizes():
    """{level: bytes} of the data (or unified) caches of one CPU, from ``CPU_CACHES``; {} where the
    system does not say."""
    sizes = {}
    for entry in sorted(CPU_CACHES.glob("index*")):
        try:
            level, kind, size = ((entry / name).read_text().strip() for name in ("level", "type", "size"))
            if kind in ("Data", "Unified") and size[:-1].isdigit() and size[-1] in "KM":
                sizes[int(level)] = int(size[:-1]) * (1024 if size[-1] == "K" else 2**20)
        except (OSError, ValueError):
            continue
    return sizes


def aligned_zeros(rows, cols):
    """A float32 rows×cols zero matrix starting on a 64-byte boundary (unless empty), as the step's own buffers.
    NumPy aligns its arrays to 16 bytes only: a row of Np floats (Np a multiple of 16) may then start
    16 or 48 bytes into a cache line, where every other 8-float load of the kernels straddles two lines."""
    raw = np.zeros(rows * cols + 16, dtype=np.float32)
    offset = (-raw.ctypes.data // 4) % 16
    return raw[offset:offset + rows * cols].reshape(rows, cols)


def check_threads(op, threads):
    if threads is None:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or not 1 <= threads <= 1024:
        raise ValueError(f"{op}: threads must be an integer from 1 to 1024, got {threads!r}")
    return int(threads)


def check_matrix(op, W):
    if not isinstance(W, CSRMatrix):
        raise TypeError(f"{op}: W must be a nerva_edu.sparse.CSRMatrix, got {type(W).__name__}")
    check_values(op, "W.values", W.values, (W.nnz,))


def check_values(op, name, A, shape):
    """A must (still) be a writable, C-contiguous float32 array of this shape, as C++ writes into
    it: NumPy lets an array's dtype, shape and strides be reassigned in place."""
    check_array(op, name, A, np.float32, ndim=len(shape))
    if A.shape != shape:
        raise ValueError(f"{op}: {name} has shape {A.shape}, expected {shape}")
    if not A.flags.writeable:
        raise ValueError(f"{op}: {name} must be writable")


def buffer(A):
    """A for a pointer argument of a kernel (no copy); cppyy's nullptr for an empty array,
    which has no buffer (the kernel then reads nothing from it)."""
    import cppyy
    return A if A.size else cppyy.nullptr


def view(W):
    """A C++ ``CsrView`` on the arrays of W (no copy: W must outlive it)."""
    arrays = (W.indptr, W.indices, W.values, *W.transposed_pattern())
    return load().CsrView(W.shape[0], W.shape[1], *map(buffer, arrays))


def check_batch(op, name, X, rows, cols):
    """X must be a float32 rows×cols matrix stored column by column; returns X.T (C-contiguous)."""
    if not isinstance(X, np.ndarray):
        raise TypeError(f"{op}: {name} must be a NumPy array, got {type(X).__name__}")
    if X.dtype != np.float32:
        raise TypeError(f"{op}: {name} must have dtype float32, got {dtype_name(X.dtype)}")
    expected = tuple("N" if n is None else n for n in (rows, cols))
    if X.ndim != 2 or any(e is not None and e != a for e, a in zip((rows, cols), X.shape)):
        raise ValueError(f"{op}: {name} has shape {X.shape}, expected ({expected[0]}, {expected[1]})")
    if not X.T.flags.c_contiguous:
        raise ValueError(f"{op}: {name} must be stored column by column (feature-major): "
                         f"pass np.asfortranarray({name})")
    return X.T


def _prepare(op, W, threads):
    """The checks every kernel call starts with: W, then the thread count; returns it and W's shape."""
    check_matrix(op, W)
    return check_threads(op, threads), W.shape


def spmm(W, X, b, threads=None):
    """Y = X·Wᵀ + 1_N·b for a column-major float32 batch X (N×D) and a 1×K float32 b."""
    op = "spmm"
    threads, (K, D) = _prepare(op, W, threads)
    Xt = check_batch(op, "X", X, None, D)
    check_array(op, "b", b, np.float32, ndim=2)
    if b.shape != (1, K):
        raise ValueError(f"{op}: b has shape {b.shape}, expected (1, {K}) to match W of shape {W.shape}")
    Yt = np.empty((K, X.shape[0]), dtype=np.float32)
    load().spmm(threads, view(W), buffer(Xt), buffer(b), buffer(Yt), X.shape[0])
    return Yt.T


def spmm_transposed(W, DY, threads=None):
    """DX = DY·W for a column-major float32 DY (N×K)."""
    op = "spmm_transposed"
    threads, (K, D) = _prepare(op, W, threads)
    DYt = check_batch(op, "DY", DY, None, K)
    DXt = np.empty((D, DY.shape[0]), dtype=np.float32)
    load().spmm_transposed(threads, view(W), buffer(DYt), buffer(DXt), DY.shape[0])
    return DXt.T


def sddmm(W, DY, X, threads=None):
    """DW = (DYᵀ·X) ⊙ mask on W's pattern, as an array aligned with W.values."""
    op = "sddmm"
    threads, (K, D) = _prepare(op, W, threads)
    DYt = check_batch(op, "DY", DY, None, K)
    Xt = check_batch(op, "X", X, DY.shape[0], D)
    DW = np.empty(W.nnz, dtype=np.float32)
    load().sddmm(threads, view(W), buffer(DYt), buffer(Xt), buffer(DW), DY.shape[0])
    return DW
