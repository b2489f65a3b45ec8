"""The SReLU layer (spec §4, srelu layer): an activation layer whose activation has four
learnable parameters a_l, t_l, a_r, t_r (initially 0, 0, 0, 1 as in the spec, which gives
min(max(z, 0), 1) and not ReLU as the spec says; a_r = 1 would give ReLU)."""

from nerva_edu.activations import SReLU as SReLUFunction
from nerva_edu.layers.activation import Activation
from nerva_edu.layers.linear import Linear
from nerva_edu.matrix import elements_sum, hadamard


class SReLULayer(Activation):
    """Z = X·Wᵀ + 1_N·b,  Y = srelu(Z), with learnable al, tl, ar, tr.

    backpropagation, besides DZ, DW, Db, DX of the activation layer:
    Da_l = 1_Nᵀ·(DY ⊙ A^l)·1_K,  Dt_l = 1_Nᵀ·(DY ⊙ T^l)·1_K,
    Da_r = 1_Nᵀ·(DY ⊙ A^r)·1_K,  Dt_r = 1_Nᵀ·(DY ⊙ T^r)·1_K,
    where A^l, T^l, A^r, T^r hold the derivatives of srelu(z_ij) in a_l, t_l, a_r, t_r.
    """

    parameter_names = ("W", "b", "al", "tl", "ar", "tr")

    def __init__(self, W, b, al=0, tl=0, ar=0, tr=1):
        Linear.__init__(self, W, b)      # no fixed act: it is made from the parameters
        self.al, self.tl, self.ar, self.tr = al, tl, ar, tr

    @property
    def act(self):
        """The SReLU function with the layer's current parameters."""
        return SReLUFunction(self.al, self.tl, self.ar, self.tr)

    def backpropagate(self, Y, DY):
        DX = super().backpropagate(Y, DY)
        act, Z = self.act, self.Z
        self.Dal = elements_sum(hadamard(DY, act.Al(Z)))
        self.Dtl = elements_sum(hadamard(DY, act.Tl(Z)))
        self.Dar = elements_sum(hadamard(DY, act.Ar(Z)))
        self.Dtr = elements_sum(hadamard(DY, act.Tr(Z)))
        return DX
