"""The softmax layer (spec §4): a linear layer followed by a row-wise softmax."""

from nerva_edu.layers.linear import Linear
from nerva_edu.matrix import column_repeat, hadamard, rows_sum, shape
from nerva_edu.softmax import stable_softmax_batch


class Softmax(Linear):
    """Z = X·Wᵀ + 1_N·b,  Y = softmax(Z) (computed stably).

    backpropagation:  DZ = Y ⊙ (DY − diag(DY·Yᵀ)·1_Kᵀ),  DW = DZᵀ·X,  Db = 1_Nᵀ·DZ,  DX = DZ·W.
    diag(DY·Yᵀ) is computed as rows_sum(DY ⊙ Y), which is equal (property (14)) and avoids the
    N×N product.
    """

    def feedforward(self, X):
        self.Z = super().feedforward(X)
        return stable_softmax_batch(self.Z)

    def backpropagate(self, Y, DY):
        self._check_gradient(Y, DY)
        self.DZ = hadamard(Y, DY - column_repeat(rows_sum(hadamard(DY, Y)), shape(Y)[1]))
        return super().backpropagate(self.Z, self.DZ)
