"""Weight and bias initialization (spec §7).

A linear layer with D inputs and K outputs has a weight matrix W (K×D) and a bias row
vector b (1×K). The spec's table of distributions, with the names as the spec means them
(the printed table shifts the labels by one row; see the errata appendix):

==================  ====================================  =====================
name                distribution of each entry of W       variance
==================  ====================================  =====================
Uniform(a, b)       U(a, b)                               (b − a)² / 12
Xavier              U(−1/√D, 1/√D)                        1 / (3D)
NormalizedXavier    U(−√6/√(D+K), √6/√(D+K))              2 / (D + K)
He                  N(0, √(2/D))   (σ is the std)         2 / D
==================  ====================================  =====================

Two common companions complete the set: XavierNormal, N(0, √(2/(D+K))) (the normal
distribution with NormalizedXavier's variance), and HeUniform, U(−√6/√D, √6/√D) (the
uniform distribution with He's variance). Zero gives a zero matrix (only useful for tests).

Every initializer draws from a seeded ``numpy.random.Generator`` in float64 and then
converts, so float32 and float64 networks built from one seed hold the same numbers up to
rounding. The keyword ``size`` draws ``size`` entries of the K×D distribution instead of the
whole matrix: a sparse layer stores only its nonzeros, and they are the first ``size`` entries
the full draw would have produced (row by row, from the same generator state). Biases start at
zero or at a constant (§7, last paragraph).
"""

import math

import numpy as np

from nerva_edu.parsing import bind, lookup, parse_call


def _shape(K, D, size):
    """(K, D), or the number of entries ``size`` (a non-negative integer) to draw."""
    if size is None:
        return (K, D)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 0:
        raise ValueError(f"weight initializer: size must be a non-negative integer, got {size!r}")
    return int(size)


def uniform(rng, K, D, a=-1.0, b=1.0, dtype=np.float64, size=None):
    """W ~ U(a, b), a K×D matrix (or ``size`` of its entries)."""
    if not a < b or not math.isfinite(b - a):
        raise ValueError(f"uniform: expected finite a < b, got a={a}, b={b}")
    largest = float(np.finfo(dtype).max)
    if max(-a, b) > largest:
        raise ValueError(f"uniform: U({a}, {b}) exceeds the largest {np.dtype(dtype).name}, {largest:.3g}")
    return rng.uniform(a, b, size=_shape(K, D, size)).astype(dtype, copy=False)


def _symmetric_uniform(rng, K, D, limit, dtype, size):
    return uniform(rng, K, D, -limit, limit, dtype, size)


def _normal(rng, K, D, std, dtype, size):
    return rng.normal(0.0, std, size=_shape(K, D, size)).astype(dtype, copy=False)


def xavier(rng, K, D, dtype=np.float64, size=None):
    """Xavier (Glorot's "commonly used heuristic"): W ~ U(−1/√D, 1/√D)."""
    return _symmetric_uniform(rng, K, D, 1 / math.sqrt(D), dtype, size)


def normalized_xavier(rng, K, D, dtype=np.float64, size=None):
    """Normalized Xavier (Glorot & Bengio, eq. 16): W ~ U(−√6/√(D+K), √6/√(D+K))."""
    return _symmetric_uniform(rng, K, D, math.sqrt(6) / math.sqrt(D + K), dtype, size)


def he(rng, K, D, dtype=np.float64, size=None):
    """He (He et al. 2015): W ~ N(0, σ) with standard deviation σ = √(2/D)."""
    return _normal(rng, K, D, math.sqrt(2 / D), dtype, size)


def xavier_normal(rng, K, D, dtype=np.float64, size=None):
    """Xavier normal: W ~ N(0, √(2/(D+K))), the variance of normalized Xavier."""
    return _normal(rng, K, D, math.sqrt(2 / (D + K)), dtype, size)


def he_uniform(rng, K, D, dtype=np.float64, size=None):
    """He uniform: W ~ U(−√6/√D, √6/√D), the variance of He."""
    return _symmetric_uniform(rng, K, D, math.sqrt(6 / D), dtype, size)


def zero(rng, K, D, dtype=np.float64, size=None):
    """W = 0 (every unit computes the same function: for tests, not for training)."""
    return np.zeros(_shape(K, D, size), dtype=dtype)


# name -> (function, its extra parameters with defaults)
WEIGHT_INITIALIZERS = {
    "Uniform": (uniform, {"a": -1.0, "b": 1.0}),
    "Xavier": (xavier, {}),
    "NormalizedXavier": (normalized_xavier, {}),
    "He": (he, {}),
    "XavierNormal": (xavier_normal, {}),
    "HeUniform": (he_uniform, {}),
    "Zero": (zero, {}),
}


# name -> (shape of the distribution, variance of one entry as text, the variance for K outputs
# and D inputs): the table of the module docstring, for the exercises' checker
DISTRIBUTIONS = {
    "Xavier": ("uniform", "1/(3D)", lambda K, D: 1 / (3 * D)),
    "NormalizedXavier": ("uniform", "2/(D+K)", lambda K, D: 2 / (D + K)),
    "He": ("normal", "2/D", lambda K, D: 2 / D),
    "XavierNormal": ("normal", "2/(D+K)", lambda K, D: 2 / (D + K)),
    "HeUniform": ("uniform", "2/D", lambda K, D: 2 / D),
}


def weight_initializer(text):
    """The initializer named by ``text`` (e.g. ``"He"``, ``"Uniform(-0.1, 0.1)"``) as a
    function ``(rng, K, D, dtype, size=None) -> W``; ValueError listing the accepted names
    otherwise."""
    call = parse_call(text, "weight initializer")
    function, parameters = lookup(WEIGHT_INITIALIZERS, call, "weight initializer")
    arguments = bind(call, parameters, "weight initializer")
    return lambda rng, K, D, dtype=np.float64, size=None: function(rng, K, D, dtype=dtype, size=size, **arguments)


def constant_bias(K, value=0.0, dtype=np.float64):
    """b = value · 1_Kᵀ, a 1×K row vector (value 0 gives the usual zero bias)."""
    return np.full((1, K), value, dtype=dtype)
