"""The linear layer (spec §4): Y = X·Wᵀ + 1_N·b."""

from nerva_edu.layers.layer import Layer, check_shape
from nerva_edu.matrix import columns_sum, row_repeat, shape


class Linear(Layer):
    """Linear layer with weights W ∈ ℝ^(K×D) and bias b ∈ ℝ^(1×K).

    feedforward:      Y = X·Wᵀ + 1_N·b
    backpropagation:  DW = DYᵀ·X,  Db = 1_Nᵀ·DY,  DX = DY·W
    """

    parameter_names = ("W", "b")

    def __init__(self, W, b):
        check_shape(f"{type(self).__name__}", "W", W, (None, None))
        K, D = shape(W)
        if K == 0 or D == 0:
            raise ValueError(f"{type(self).__name__}: W has shape {(K, D)}; a layer needs at least one input "
                             f"and one output")
        check_shape(f"{type(self).__name__}", "b", b, (1, K), f" to match W of shape {(K, D)}")
        self.W, self.b = W, b

    @property
    def input_size(self):
        """D, the number of inputs."""
        return shape(self.W)[1]

    @property
    def output_size(self):
        """K, the number of outputs."""
        return shape(self.W)[0]

    def feedforward(self, X):
        self._check_input(X, self.input_size, self.W, "W")
        self.X = X
        N = shape(X)[0]
        return X @ self.W.T + row_repeat(self.b, N)

    def backpropagate(self, Y, DY):
        self._check_gradient(Y, DY)
        self.DW = DY.T @ self.X
        self.Db = columns_sum(DY)
        return DY @ self.W
