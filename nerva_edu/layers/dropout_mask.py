"""The dropout mask R shared by the two dropout layers (spec §4: R is a dropout matrix).

The spec's dropout layers mask the *weights*: entry (i, j) of R multiplies weight W_ji for
the whole batch (this variant is also known as DropConnect). R has the shape of Wᵀ (D×K),
as the spec's equations Y = X(Wᵀ ⊙ R) + 1_N·b require.

This module uses *inverted dropout*: each entry is kept with probability p =
``keep_probability`` and then scaled by 1/p, so R_ij = 1/p with probability p and 0
otherwise. The expected value of Wᵀ ⊙ R is then Wᵀ, and in evaluation mode the layer
simply uses W, with no mask and no rescaling. (The spec does not scale; with its unscaled
0/1 mask the evaluation weights would have to be multiplied by p.)
"""

from nerva_edu.backends import backend_of
from nerva_edu.matrix import shape


def check_keep_probability(op, keep_probability):
    if not 0 < keep_probability <= 1:
        raise ValueError(f"{op}: keep_probability must lie in (0, 1] (it is 1 − the drop rate), "
                         f"got {keep_probability}")


def dropout_mask(W, keep_probability, rng):
    """A random D×K inverted-dropout mask for weights W (K×D), of the kind and dtype of W."""
    K, D = shape(W)
    R = (rng.random((D, K)) < keep_probability) / keep_probability
    return backend_of(W).from_numpy(R, W)
