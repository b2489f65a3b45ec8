"""The activation layer (spec §4): a linear layer followed by an element-wise activation."""

from nerva_edu.layers.linear import Linear
from nerva_edu.matrix import hadamard


class WithActivation:
    """Puts an element-wise activation ``act`` after the product of a linear layer class.

    feedforward:      Z = (the linear layer's output),  Y = act(Z)
    backpropagation:  DZ = DY ⊙ act'(Z), then the linear layer's backpropagation with Z and DZ

    Mixed into a linear layer class (dense ``Linear`` here, the sparse reference layer in
    ``nerva_edu.sparse.reference``), so the activation step is written once.
    """

    def __init__(self, W, b, act, *options):
        super().__init__(W, b, *options)
        self.act = act

    def feedforward(self, X):
        self.Z = super().feedforward(X)
        return self.act(self.Z)

    def backpropagate(self, Y, DY):
        self._check_gradient(Y, DY)
        self.DZ = hadamard(DY, self.act.gradient(self.Z))
        return super().backpropagate(self.Z, self.DZ)


class Activation(WithActivation, Linear):
    """Z = X·Wᵀ + 1_N·b,  Y = act(Z), for an activation ``act`` of ``nerva_edu.activations``.

    backpropagation:  DZ = DY ⊙ act'(Z),  DW = DZᵀ·X,  Db = 1_Nᵀ·DZ,  DX = DZ·W
    """
