"""The activation dropout layer (spec §4): a linear dropout layer followed by an activation."""

from nerva_edu.layers.linear_dropout import LinearDropout
from nerva_edu.matrix import hadamard


class ActivationDropout(LinearDropout):
    """Z = X(Wᵀ ⊙ R) + 1_N·b,  Y = act(Z), with a dropout mask R as in ``LinearDropout``.

    backpropagation:  DZ = DY ⊙ act'(Z),  DW = (DZᵀ·X) ⊙ Rᵀ,  Db = 1_Nᵀ·DZ,  DX = DZ(W ⊙ Rᵀ)
    (the spec's code line "DZ = hadamard(DZ.T * X, R.T)" assigns to DZ where DW is meant).
    """

    def __init__(self, W, b, act, keep_probability, rng=None):
        super().__init__(W, b, keep_probability, rng)
        self.act = act

    def feedforward(self, X, R=None):
        self.Z = super().feedforward(X, R)
        return self.act(self.Z)

    def backpropagate(self, Y, DY):
        self._check_gradient(Y, DY)
        self.DZ = hadamard(DY, self.act.gradient(self.Z))
        return super().backpropagate(self.Z, self.DZ)
