"""The batch normalization layer (spec §4, derivation (18)–(25)), plus running statistics.

The spec describes the training computation, which normalizes with the statistics of the
batch. For evaluation, where a batch may be a single example, the layer also keeps running
averages of the mean and the variance, as PyTorch does, and normalizes with those when
``training`` is False. The spec has no ε; this layer adds ε to the variance before the
square root (Table 2's ``inv_sqrt(X, e)``); every equation below holds with Σ + ε in place
of Σ, and ``epsilon=0`` gives the spec's exact form.
"""

from nerva_edu.backends import backend_of
from nerva_edu.layers.layer import Layer, check_shape
from nerva_edu.matrix import columns_mean, columns_sum, hadamard, inv_sqrt, ones, row_repeat, shape, zeros


class BatchNormalization(Layer):
    """Batch normalization with shift β ∈ ℝ^(1×K) and scale γ ∈ ℝ^(1×K).

    feedforward (training):
        R = X − (1_N·1_Nᵀ/N)·X             the centred batch
        Σ = (1/N)·diag(RᵀR)ᵀ                the variance of each column (1×K)
        Z = (1_N·Σ^(−1/2)) ⊙ R
        Y = (1_N·γ) ⊙ Z + 1_N·β
    backpropagation:
        DZ = (1_N·γ) ⊙ DY,   Dβ = 1_Nᵀ·DY,   Dγ = 1_Nᵀ·(Z ⊙ DY)
        DX = ((1/N)·1_N·Σ^(−1/2)) ⊙ ((N·𝕀_N − 1_N·1_Nᵀ)·DZ − Z ⊙ (1_N·diag(Zᵀ·DZ)ᵀ))   (25)

    The N×N products are computed as column sums, which is equal and costs O(N·K):
    (1_N·1_Nᵀ/N)·X = 1_N·columns_mean(X), diag(RᵀR)ᵀ = columns_sum(R ⊙ R), and
    diag(Zᵀ·DZ)ᵀ = columns_sum(Z ⊙ DZ).

    Running statistics (after each training batch, with the given ``momentum``):
        running_mean     ← (1 − momentum)·running_mean + momentum·columns_mean(X)
        running_variance ← (1 − momentum)·running_variance + momentum·Σ·N/(N − 1)
    (the unbiased variance, as ``torch.nn.BatchNorm1d``). In evaluation mode
    Z = (1_N·(running_variance + ε)^(−1/2)) ⊙ (X − 1_N·running_mean), and DX = (1_N·(running_variance + ε)^(−1/2)) ⊙ DZ.
    """

    parameter_names = ("beta", "gamma")

    def __init__(self, beta, gamma, momentum=0.1, epsilon=1e-5):
        op = type(self).__name__
        check_shape(op, "beta", beta, (1, None))
        check_shape(op, "gamma", gamma, tuple(shape(beta)), " (the shape of beta)")
        if not 0 <= momentum <= 1:
            raise ValueError(f"{op}: momentum must lie in [0, 1], got {momentum}")
        if isinstance(epsilon, (int, float)) and not 0 <= epsilon < float("inf"):   # a symbol ε is accepted
            raise ValueError(f"{op}: epsilon must be a finite number ≥ 0, got {epsilon}")
        self.beta, self.gamma = beta, gamma
        self.momentum, self.epsilon = momentum, epsilon
        K = shape(beta)[1]
        self.running_mean = zeros(1, K, like=beta)
        self.running_variance = ones(1, K, like=beta)

    @property
    def output_size(self):
        """K, the number of inputs and outputs."""
        return shape(self.beta)[1]

    def feedforward(self, X):
        K = self.output_size
        self._check_input(X, K, self.beta, "beta")
        N = shape(X)[0]
        self.X = X
        # how this batch is normalized, for backpropagate: an empty batch has no statistics (its
        # output is empty either way) and leaves the running ones unchanged
        self.batch_statistics = self.training and N > 0
        if self.batch_statistics:
            if N < 2:
                raise ValueError(f"{self._op('feedforward')}: X has shape {tuple(shape(X))}; training needs "
                                 f"a batch of at least 2 rows (N ≥ 2) to estimate the variance")
            mean = columns_mean(X)
            self.R = X - row_repeat(mean, N)
            self.Sigma = columns_mean(hadamard(self.R, self.R))
            self._update_running_statistics(mean, self.Sigma, N)
        else:
            self.R = X - row_repeat(self.running_mean, N)
            self.Sigma = self.running_variance
        self.Z = hadamard(row_repeat(self._inv_sqrt_Sigma(), N), self.R)
        return hadamard(row_repeat(self.gamma, N), self.Z) + row_repeat(self.beta, N)

    def _inv_sqrt_Sigma(self):
        """(Σ + ε)^(−1/2), element-wise."""
        return inv_sqrt(self.Sigma, self.epsilon)

    def _update_running_statistics(self, mean, Sigma, N):
        m = self.momentum
        self.running_mean = (1 - m) * self.running_mean + m * _constant(mean)
        self.running_variance = (1 - m) * self.running_variance + (m * N / (N - 1)) * _constant(Sigma)

    def backpropagate(self, Y, DY):
        self._check_gradient(Y, DY)
        N = shape(DY)[0]
        Z = self.Z
        DZ = hadamard(row_repeat(self.gamma, N), DY)
        self.Dbeta = columns_sum(DY)
        self.Dgamma = columns_sum(hadamard(Z, DY))
        scale = row_repeat(self._inv_sqrt_Sigma(), N)
        if not self.batch_statistics:
            return hadamard(scale, DZ)
        return hadamard(scale / N,
                        N * DZ - row_repeat(columns_sum(DZ), N) - hadamard(Z, row_repeat(columns_sum(hadamard(Z, DZ)), N)))


def _constant(X):
    """X cut from automatic differentiation (torch, JAX): running statistics are not trained."""
    return backend_of(X).constant(X)
