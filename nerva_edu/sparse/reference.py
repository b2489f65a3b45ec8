"""The NumPy/SciPy reference of a sparse layer: the spec's equations (§4) with W in CSR.

The C++ kernels are tested against these functions. The weight gradient is computed twice:
:func:`weight_gradient` as printed, DW = DZᵀ·X restricted to W's pattern (a dense K×D product,
then a gather: O(K·D·N)), and :func:`sampled_weight_gradient` only on the pattern, one dot
product per nonzero (O(nnz·N), the way SET computes it).
"""

import numpy as np

from nerva_edu.layers.activation import WithActivation
from nerva_edu.layers.layer import Layer, check_shape
from nerva_edu.matrix import columns_sum, row_repeat


def feedforward(X, W, b):
    """Z = X·Wᵀ + 1_N·b."""
    return X @ W.to_scipy().T + row_repeat(b, X.shape[0])


def input_gradient(DZ, W):
    """DX = DZ·W."""
    return DZ @ W.to_scipy()


def weight_gradient(DZ, X, W):
    """DW = DZᵀ·X on W's pattern, as printed: the dense product, then its entries at the nonzeros."""
    return (DZ.T @ X)[W.row_indices(), W.indices]


def sampled_weight_gradient(DZ, X, W, chunk=1 << 16):
    """DW[k] = Σ_n DZ[n, i]·X[n, j] for each nonzero k = (i, j), in chunks of nonzeros."""
    DZt, Xt, rows = DZ.T, X.T, W.row_indices()
    DW = np.empty(W.nnz, dtype=np.result_type(DZ, X))
    for start in range(0, W.nnz, chunk):
        k = slice(start, start + chunk)
        np.einsum("kn,kn->k", DZt[rows[k]], Xt[W.indices[k]], out=DW[k])
    return DW


def bias_gradient(DZ):
    """Db = 1_Nᵀ·DZ."""
    return columns_sum(DZ)


class SparseLinear(Layer):
    """The linear layer of spec §4 with W a :class:`~nerva_edu.sparse.csr.CSRMatrix`.

    feedforward:  Y = X·Wᵀ + 1_N·b;  backpropagation: DW = (DYᵀ·X) on W's pattern (an array
    aligned with W.values), Db = 1_Nᵀ·DY, DX = DY·W. ``sampled=True`` computes DW by
    :func:`sampled_weight_gradient` instead of the printed dense product.
    """

    parameter_names = ("W", "b")

    def __init__(self, W, b, sampled=False):
        check_shape(type(self).__name__, "b", b, (1, W.shape[0]), f" to match W of shape {W.shape}")
        self.W, self.b, self.sampled = W, b, sampled

    @property
    def output_size(self):
        return self.W.shape[0]

    def feedforward(self, X):
        check_shape(self._op("feedforward"), "X", X, (None, self.W.shape[1]), f" to match W of shape {self.W.shape}")
        self.X = X
        return feedforward(X, self.W, self.b)

    def backpropagate(self, Y, DY):
        self._check_gradient(Y, DY)
        gradient = sampled_weight_gradient if self.sampled else weight_gradient
        self.DW = gradient(DY, self.X, self.W)
        self.Db = bias_gradient(DY)
        return input_gradient(DY, self.W)


class SparseActivation(WithActivation, SparseLinear):
    """Z = X·Wᵀ + 1_N·b, Y = act(Z);  DZ = DY ⊙ act'(Z), then the linear layer's gradients."""
