"""Sparse MLPs (the chapter "Sparse neural networks"): CSR weights, Erdős–Rényi densities, the
NumPy/SciPy reference, the C++ kernels loaded through cppyy, SET's dynamic sparsity, training."""

from nerva_edu.sparse.csr import CSRMatrix
from nerva_edu.sparse.density import erdos_renyi_densities
from nerva_edu.sparse.dynamic import prune_and_regrow
from nerva_edu.sparse.mlp import BACKENDS, SparseMLP, train

__all__ = ["CSRMatrix", "erdos_renyi_densities", "prune_and_regrow", "SparseMLP", "train", "BACKENDS"]
