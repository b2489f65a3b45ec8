"""Loading the C++ sources in ``cpp/`` through cppyy, and moving matrices across.

``include("matrix_ops.h")`` JIT-compiles a header once per process; calling it again (for
instance when a notebook cell is re-run) does nothing, so cells can be re-run freely.

The headers live in the repository's ``cpp/``; a built package (wheel, ``pip install .``)
carries them as ``nerva_edu/include/`` (setup.py maps cpp/ there), so ``CPP_DIR`` is the
first of the two that holds them: the package's own copy, else the source tree's.
"""

from pathlib import Path

import numpy as np


def _headers_dir():
    """``nerva_edu/include`` in a built package, ``cpp/`` beside ``nerva_edu/`` in the sources."""
    package = Path(__file__).resolve().parent
    candidates = [package / "include", package.parent / "cpp"]
    return next((folder for folder in candidates if (folder / "matrix_ops.h").is_file()), candidates[0])


CPP_DIR = _headers_dir()
_included = set()


def include(header):
    """JIT-compile ``<CPP_DIR>/<header>`` with cppyy (once per process); return ``cppyy.gbl``."""
    import cppyy

    path = CPP_DIR / header
    if not path.is_file():
        raise FileNotFoundError(f"include: no C++ header {path}")
    if header not in _included:
        cppyy.add_include_path(str(CPP_DIR))
        cppyy.include(str(path))
        _included.add(header)
    return cppyy.gbl


def to_cpp(X):
    """A ``nerva_edu::Matrix`` holding a copy of the 2-D array X (as float64)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"to_cpp: expected a 2-D array, got shape {X.shape}")
    return include("matrix_ops.h").nerva_edu.Matrix(X, X.shape[0], X.shape[1])


def to_numpy(A):
    """A NumPy copy of a ``nerva_edu::Matrix`` (or a float, returned unchanged)."""
    if isinstance(A, float):
        return A
    rows, cols = A.rows(), A.cols()
    if rows * cols == 0:
        return np.zeros((rows, cols))
    view = A.data()
    view.reshape((rows * cols,))
    return np.array(view, dtype=np.float64).reshape(rows, cols)
