"""The linear dropout layer (spec §4): a linear layer whose weights are masked by R."""

import numpy as np

from nerva_edu.layers.dropout_mask import check_keep_probability, dropout_mask
from nerva_edu.layers.layer import check_shape
from nerva_edu.layers.linear import Linear
from nerva_edu.matrix import columns_sum, hadamard, row_repeat, shape


class LinearDropout(Linear):
    """Y = X(Wᵀ ⊙ R) + 1_N·b, with a fresh dropout mask R (D×K) for every training batch.

    backpropagation:  DW = (DYᵀ·X) ⊙ Rᵀ,  Db = 1_Nᵀ·DY,  DX = DY(W ⊙ Rᵀ)

    ``keep_probability`` is the probability that a weight is kept (1 − the drop rate); the
    mask is scaled by 1/keep_probability (inverted dropout, see ``dropout_mask``), so in
    evaluation mode (``training = False``) the layer is the plain linear layer.
    ``feedforward(X, R)`` uses the given mask instead of drawing one (for validation).
    """

    def __init__(self, W, b, keep_probability, rng=None):
        super().__init__(W, b)
        check_keep_probability(type(self).__name__, keep_probability)
        self.keep_probability = keep_probability
        self.rng = np.random.default_rng() if rng is None else rng
        self.R = None

    def _mask(self, R):
        """The mask for this batch: R if given, a fresh one in training, None in evaluation."""
        if R is not None:
            check_shape(self._op("feedforward"), "R", R, tuple(shape(self.W.T)), " (the shape of Wᵀ)")
            return R
        return dropout_mask(self.W, self.keep_probability, self.rng) if self.training else None

    def feedforward(self, X, R=None):
        self.R = self._mask(R)
        if self.R is None:
            return super().feedforward(X)
        self._check_input(X, self.input_size, self.W, "W")
        self.X = X
        return X @ hadamard(self.W.T, self.R) + row_repeat(self.b, shape(X)[0])

    def backpropagate(self, Y, DY):
        if self.R is None:
            return super().backpropagate(Y, DY)
        self._check_gradient(Y, DY)
        self.DW = hadamard(DY.T @ self.X, self.R.T)
        self.Db = columns_sum(DY)
        return DY @ hadamard(self.W, self.R.T)
