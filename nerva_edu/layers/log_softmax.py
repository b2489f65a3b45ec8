"""The log-softmax layer (spec §4): a linear layer followed by a row-wise log-softmax."""

from nerva_edu.layers.linear import Linear
from nerva_edu.matrix import column_repeat, hadamard, rows_sum, shape
from nerva_edu.softmax import stable_log_softmax_batch, stable_softmax_batch


class LogSoftmax(Linear):
    """Z = X·Wᵀ + 1_N·b,  Y = log-softmax(Z) (computed stably).

    backpropagation:  DZ = DY − softmax(Z) ⊙ (DY·1_K·1_Kᵀ)  (equation (17)),
                      DW = DZᵀ·X,  Db = 1_Nᵀ·DZ,  DX = DZ·W
    """

    def feedforward(self, X):
        self.Z = super().feedforward(X)
        return stable_log_softmax_batch(self.Z)

    def backpropagate(self, Y, DY):
        self._check_gradient(Y, DY)
        self.DZ = DY - hadamard(stable_softmax_batch(self.Z), column_repeat(rows_sum(DY), shape(DY)[1]))
        return super().backpropagate(self.Z, self.DZ)
