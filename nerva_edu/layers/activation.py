"""The activation layer (spec §4): a linear layer followed by an element-wise activation."""

from nerva_edu.layers.linear import Linear
from nerva_edu.matrix import hadamard


class Activation(Linear):
    """Z = X·Wᵀ + 1_N·b,  Y = act(Z), for an activation ``act`` of ``nerva_edu.activations``.

    backpropagation:  DZ = DY ⊙ act'(Z),  DW = DZᵀ·X,  Db = 1_Nᵀ·DZ,  DX = DZ·W
    """

    def __init__(self, W, b, act):
        super().__init__(W, b)
        self.act = act

    def feedforward(self, X):
        self.Z = super().feedforward(X)
        return self.act(self.Z)

    def backpropagate(self, Y, DY):
        self._check_gradient(Y, DY)
        self.DZ = hadamard(DY, self.act.gradient(self.Z))
        return super().backpropagate(self.Z, self.DZ)
