"""A sparse MLP with softmax cross-entropy, trained on the C++ kernels or on the reference.

Backends: ``"cpp"`` runs a whole training step in C++ (``SparseMLP`` of cpp/sparse_kernels.h);
``"numpy"`` runs the reference layers of :mod:`nerva_edu.sparse.reference` with the spec's
equations as printed; ``"scipy"`` is the same with the sampled weight gradient (SET's way).
All backends share one set of parameters (NumPy float32 arrays), so a model can switch
backends, and the tests compare them step by step.

The loss of a batch is the mean L = L_SCE(Y, T) / N, so DY = ∇_Y L_SCE(Y, T) / N (spec (31)).
An empty batch (N = 0) has an empty output, and no mean loss to train on: ``step`` refuses it.

The C++ backend keeps pointers to the parameter arrays. Before every call into C++ the model
checks that each array is still what those pointers expect (:meth:`SparseMLP._check_state`:
the same objects, with the same dtype, shape, layout, writability and memory; rebinding when
arrays were replaced by valid ones), so no change made from Python can make C++ read or write out of
bounds. ``save_weights``/``load_weights`` use the model file format of ``nerva_edu.model_file``.
"""

import operator

import numpy as np

from nerva_edu.activations import AllReLU, ReLU
from nerva_edu.init import weight_initializer
from nerva_edu.losses import softmax_cross_entropy_batch, softmax_cross_entropy_batch_gradient
from nerva_edu.memory import check_memory
from nerva_edu.mlp import batch_by_batch, fraction_correct
from nerva_edu.model_file import ModelFileError, read_model, write_model
from nerva_edu.optimizers import GradientDescent, Momentum, Nesterov, check_learning_rate, parse_optimizer
from nerva_edu.parsing import bind, lookup, parse_call
from nerva_edu.sparse import kernels
from nerva_edu.sparse.csr import INDEX_LIMIT, CSRMatrix
from nerva_edu.sparse.density import erdos_renyi_densities
from nerva_edu.sparse.dynamic import check_zeta, prune_and_regrow
from nerva_edu.sparse.reference import SparseActivation, SparseLinear

BACKENDS = ("cpp", "numpy", "scipy")
_STATE = operator.attrgetter("W", "b", "DW", "Db", "Delta_W", "Delta_b")

# name -> (C++ code, constructor of the reference activation or None, parameters)
ACTIVATIONS = {"Linear": (0, None, {}), "ReLU": (1, lambda: ReLU(), {}),
               "AllReLU": (2, lambda alpha: AllReLU(alpha), {"alpha": None})}


def model_bytes(layer_sizes, densities):
    """The bytes of a SparseMLP: per nonzero 4 bytes each for its value, column, gradient and Δ, its
    row and position in the column form of the pattern, and 8 for the temporaries of building it
    (the sort that makes the column form); per layer its row and column pointers (K + 1 and D + 1
    entries) and b, Db and Δb (K each), 4 bytes each."""
    return sum(round(d * K * D) * 32 + 4 * (4 * K + D + 2)
               for D, K, d in zip(layer_sizes[:-1], layer_sizes[1:], densities))


def batch_bytes(N, layer_sizes):
    """The bytes of the C++ buffers for a batch of N: the input, and Y and DZ of every layer, in
    rows of Np floats (N rounded up to a multiple of 16)."""
    Np = -(-N // 16) * 16
    return 4 * (N * layer_sizes[0] + Np * (layer_sizes[0] + 2 * sum(layer_sizes[1:])))


def _memory_of(A):
    """What identifies the memory of A, which C++ was given a pointer to: its base where A is a view (a
    cheap identity check), else its address. NumPy's ``__setstate__`` gives an array a new buffer in place."""
    return (True, A.base) if A.base is not None else (False, A.ctypes.data)


def _same_memory(A, memory):
    is_view, identity = memory
    return A.base is identity if is_view else A.base is None and A.ctypes.data == identity


class _Layer:
    """The state of one sparse layer: W, b, their gradients and the optimizer's Δ."""

    def __init__(self, W, b, activation):
        call = parse_call(activation, "activation")
        self.code, make, parameters = lookup(ACTIVATIONS, call, "activation")
        arguments = bind(call, parameters, "activation")
        self.alpha = float(arguments.get("alpha", 0.0))
        self.act = make(**arguments) if make else None
        self.W, self.b = W, b
        self.reset_state()

    def state(self):
        """The arrays of this layer that C++ reads or writes, with the shape each must have."""
        K, nnz = self.W.shape[0], self.W.nnz
        return {"b": (self.b, (1, K)), "DW": (self.DW, (nnz,)), "Db": (self.Db, (1, K)),
                "Delta_W": (self.Delta_W, (nnz,)), "Delta_b": (self.Delta_b, (1, K))}

    def reset_state(self):
        self.DW = np.zeros(self.W.nnz, dtype=np.float32).view()       # views: see _memory_of
        self.Db = np.zeros_like(self.b).view()
        self.Delta_W = np.zeros(self.W.nnz, dtype=np.float32).view()
        self.Delta_b = np.zeros_like(self.b).view()

    def reference(self, sampled):
        if self.act is None:
            return SparseLinear(self.W, self.b, sampled)
        return SparseActivation(self.W, self.b, self.act, sampled)


class SparseMLP:
    """An MLP with sparse weight matrices (CSR) and softmax cross-entropy loss.

    layer_sizes: D_0, D_1, ..., D_L; density: the overall density, spread over the layers by
    the Erdős–Rényi rule (or densities: one per layer); activations: one per layer, e.g.
    ``["ReLU", "ReLU", "Linear"]`` (default: ReLU, then Linear for the last layer);
    optimizer: ``"GradientDescent"``, ``"Momentum(0.9)"`` or ``"Nesterov(0.9)"``.
    """

    def __init__(self, layer_sizes, density=1.0, densities=None, activations=None, optimizer="Nesterov(0.9)",
                 init="He", backend="cpp", threads=None, seed=0):
        L = len(layer_sizes) - 1
        if L < 1 or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= INDEX_LIMIT
                        for n in layer_sizes):
            raise ValueError(f"SparseMLP: layer_sizes must be two or more integers from 1 to {INDEX_LIMIT} (what "
                             f"int32 indices address), got {layer_sizes!r}")
        densities = densities or erdos_renyi_densities(density, layer_sizes)
        activations = activations or ["ReLU"] * (L - 1) + ["Linear"]
        if len(densities) != L or len(activations) != L:
            raise ValueError(f"SparseMLP: {L} layers need {L} densities and activations, "
                             f"got {len(densities)} and {len(activations)}")
        if any(not 0 <= d <= 1 for d in densities):
            raise ValueError(f"SparseMLP: densities must lie in [0, 1], got {densities}")
        check_memory(f"SparseMLP: the layers {'-'.join(map(str, layer_sizes))} at densities "
                     f"{', '.join(f'{d:.3g}' for d in densities)}", model_bytes(layer_sizes, densities))
        self.rule = parse_optimizer(optimizer)
        self.init = weight_initializer(init)
        self.rng = np.random.default_rng(seed)
        self.layers = []
        for D, K, d, activation in zip(layer_sizes[:-1], layer_sizes[1:], densities, activations):
            W = CSRMatrix.random((K, D), d, self.rng, init=lambda rng, count, K=K, D=D: self._initial_values(K, D, count))
            self.layers.append(_Layer(W, np.zeros((1, K), dtype=np.float32).view(), activation))
        self.threads = threads
        self.backend = backend

    def _initial_values(self, K, D, count):
        """``count`` weights drawn from the initializer of a K×D layer (spec §7: the distribution
        depends on D and K; the entries are independent, so ``count`` draws of one entry will
        do, without drawing the other K·D − count)."""
        return self.init(self.rng, K, D, np.float32, size=count)

    @property
    def threads(self):
        """The threads of the C++ kernels (1 to 1024; None at construction: the number of cores)."""
        return self._threads

    @threads.setter
    def threads(self, threads):
        self._threads = kernels.check_threads("SparseMLP", threads)

    @property
    def backend(self):
        return self._backend

    @backend.setter
    def backend(self, backend):
        if backend not in BACKENDS:
            raise ValueError(f"SparseMLP: unknown backend {backend!r}; accepted: {', '.join(BACKENDS)}")
        self._backend = backend
        self._bind()

    def _bind(self):
        """Build the objects of the backend on the current parameter arrays."""
        if self._backend == "cpp":
            cpp = kernels.load()
            self._cpp = cpp.SparseMLP()
            self._views = [kernels.view(layer.W) for layer in self.layers]   # keep alive
            for layer, view in zip(self.layers, self._views):
                arrays = (layer.b, layer.DW, layer.Db, layer.Delta_W, layer.Delta_b)
                self._cpp.add_layer(cpp.SparseLayer(view, *map(kernels.buffer, arrays), layer.code, layer.alpha))
        else:
            self._reference = [layer.reference(sampled=self._backend == "scipy") for layer in self.layers]
        # the objects bound (kept alive while bound, so that their ids stay theirs), and their ids
        self._bound_objects, self._bound = [_STATE(layer) for layer in self.layers], self._arrays()
        self._batch_size = None
        self._shapes = [(A, shape, _memory_of(A)) for layer in self.layers
                        for A, shape in [(layer.W.values, (layer.W.nnz,)), *layer.state().values()]]

    def _check_state(self, op):
        """Every array C++ will use, as it expects it: the bound objects, unchanged (a fast check of
        a few attributes each); otherwise validated in full, and the backend rebuilt on them."""
        if self._arrays() == self._bound and all(A.dtype == np.float32 and A.shape == shape and A.flags.c_contiguous
                                                 and A.flags.writeable and _same_memory(A, memory)
                                                 for A, shape, memory in self._shapes):
            return
        op = f"SparseMLP.{op}"
        if not self.layers:
            raise ValueError(f"{op}: the model has no layers")
        inputs = self.layers[0].W.shape[1]
        for l, layer in enumerate(self.layers, start=1):
            kernels.check_matrix(op, layer.W)
            if layer.W.shape[1] != inputs:
                raise ValueError(f"{op}: layer {l} has W of shape {layer.W.shape}, but layer {l - 1} has "
                                 f"{inputs} outputs")
            for name, (A, shape) in layer.state().items():
                kernels.check_values(op, f"layers[{l - 1}].{name}", A, shape)
            inputs = layer.W.shape[0]
        self._bind()

    def _arrays(self):
        """The identities of W and the state arrays of every layer (the objects the backend was built on)."""
        return [tuple(map(id, _STATE(layer))) for layer in self.layers]


    def _check_batch(self, op, X, T=None):
        self._check_state(op)
        D, K = self.layers[0].W.shape[1], self.layers[-1].W.shape[0]
        if np.ndim(X) != 2 or np.shape(X)[1] != D:
            raise ValueError(f"SparseMLP.{op}: X has shape {np.shape(X)}, expected (N, {D})")
        N = np.shape(X)[0]
        if self._backend == "cpp" and N != self._batch_size:    # C++ allocates its buffers for a new batch size
            check_memory(f"SparseMLP.{op}: a batch of {N}",
                         batch_bytes(N, [D] + [layer.W.shape[0] for layer in self.layers]))
            self._batch_size = N
        X = np.ascontiguousarray(X, dtype=np.float32)
        if T is None:
            return X
        if np.shape(T) != (N, K):
            raise ValueError(f"SparseMLP.{op}: T has shape {np.shape(T)}, expected {(N, K)} to match X")
        return X, np.ascontiguousarray(T, dtype=np.float32)

    def feedforward(self, X):
        """The output Y (N×K) for a batch X (N×D); an empty batch gives an empty 0×K output."""
        X = self._check_batch("feedforward", X)
        if X.shape[0] == 0:
            return np.zeros((0, self.layers[-1].W.shape[0]), dtype=np.float32)
        if self._backend == "cpp":
            Y = np.empty((X.shape[0], self.layers[-1].W.shape[0]), dtype=np.float32)
            self._cpp.feedforward(self.threads, X, X.shape[0], Y)
            return Y
        for layer in self._reference:
            X = layer.feedforward(X)
        return X

    def step(self, X, T, eta):
        """One training step on the batch (X, T); returns the mean loss before the update."""
        X, T = self._check_batch("step", X, T)
        N = X.shape[0]
        if N == 0:
            raise ValueError("empty batch: SparseMLP.step needs at least one example, got X of shape "
                             f"{X.shape}")
        check_learning_rate("SparseMLP.step", eta)
        if self._backend == "cpp":
            code = 2 if isinstance(self.rule, Nesterov) else 1 if isinstance(self.rule, Momentum) else 0
            mu = getattr(self.rule, "mu", 0.0)
            return float(self._cpp.step(self.threads, X, T, N, code, eta, mu))
        Ys = [X]
        for layer in self._reference:
            Ys.append(layer.feedforward(Ys[-1]))
        Y = Ys[-1]
        DY = (softmax_cross_entropy_batch_gradient(Y, T) / N).astype(np.float32)
        for layer, Y_l in zip(reversed(self._reference), reversed(Ys[1:])):
            DY = layer.backpropagate(Y_l, DY)
        for layer, ref in zip(self.layers, self._reference):
            layer.DW[:], layer.Db[:] = ref.DW, ref.Db
            for theta, Dtheta, Delta in ((layer.W.values, layer.DW, layer.Delta_W), (layer.b, layer.Db, layer.Delta_b)):
                self.rule.step(theta, Dtheta, eta, None if isinstance(self.rule, GradientDescent) else Delta)
        return float(softmax_cross_entropy_batch(Y, T) / N)

    def accuracy(self, X, labels, batch_size=1000):
        """The fraction of rows whose largest output is at the label (ValueError for no rows),
        computed batch by batch (:func:`nerva_edu.mlp.batch_by_batch`), as ``MLP.predict`` does."""
        op = "SparseMLP.accuracy"
        return fraction_correct(op, batch_by_batch(op, self.feedforward, X, batch_size), labels)

    # --- saving and loading (the format of nerva_edu.model_file) --------------------------

    def architecture(self):
        """The layers as a model file records them: activation and sizes (the pattern is saved as data)."""
        return [{"layer": "Sparse", "activation": repr(layer.act) if layer.act else "linear",
                 "inputs": layer.W.shape[1], "outputs": layer.W.shape[0]} for layer in self.layers]

    def save_weights(self, path, inputs=None):
        """Write the model to ``path`` (exactly that path): per layer l the pattern (indptr l,
        indices l), the values (values l) and the bias (b l), and the description ``inputs`` of the
        inputs it was trained on, if given."""
        arrays = {}
        for l, layer in enumerate(self.layers, start=1):
            arrays.update({f"indptr{l}": layer.W.indptr, f"indices{l}": layer.W.indices,
                           f"values{l}": layer.W.values, f"b{l}": layer.b})
        write_model(path, "sparse", self.architecture(), arrays, inputs)

    def load_weights(self, path):
        """Read a model saved by :meth:`save_weights` into this one (same activations and sizes; the
        pattern may differ): all or nothing, ValueError naming the file and what is wrong. The
        optimizer state starts again from zero."""
        expected = {}
        for l, layer in enumerate(self.layers, start=1):
            K = layer.W.shape[0]
            expected.update({f"indptr{l}": ((K + 1,), "iu", _index_check), f"indices{l}": ((None,), "iu", _index_check),
                             f"values{l}": ((None,), "f", None), f"b{l}": ((1, K), "f", None)})
        values = read_model(path, "sparse", self.architecture(), expected)
        loaded = []
        for l, layer in enumerate(self.layers, start=1):
            with np.errstate(over="ignore"):
                W_values, b = values[f"values{l}"].astype(np.float32), values[f"b{l}"].astype(np.float32)
            if not (np.all(np.isfinite(W_values)) and np.all(np.isfinite(b))):
                raise ModelFileError(f"{path}: the values of layer {l} do not fit in float32 (they overflow to ±∞)")
            try:
                W = CSRMatrix(layer.W.shape, values[f"indptr{l}"].astype(np.int32),
                              values[f"indices{l}"].astype(np.int32), W_values)
            except ValueError as error:
                raise ModelFileError(f"{path}: layer {l}: {error}") from None
            loaded.append((W, b))
        for layer, (W, b) in zip(self.layers, loaded):           # every layer is good: now assign them all
            layer.W, layer.b = W, b.view()
            layer.reset_state()
        self._bind()

    def prune_and_regrow(self, zeta):
        """SET: in every layer, replace the fraction ζ of smallest-magnitude weights by new random ones.
        The backend lets go of the old arrays first, and each layer's gradient is dropped before its
        new pattern is built, so that at most one layer exists twice at any time."""
        check_zeta("SparseMLP.prune_and_regrow", zeta)
        self._cpp = self._views = self._reference = self._bound_objects = None
        for layer in self.layers:
            K, D = layer.W.shape
            layer.DW = None
            layer.W, (layer.Delta_W,) = prune_and_regrow(layer.W, zeta, self.rng,
                                                         lambda rng, count: self._initial_values(K, D, count),
                                                         (layer.Delta_W,))
            layer.Delta_W = layer.Delta_W.view()
            layer.DW = np.zeros(layer.W.nnz, dtype=np.float32).view()
        self._bind()


def _index_check(value):
    """Indices are stored as int32: a file's values must fit before they are converted."""
    if value.size and (value.min() < 0 or value.max() > np.iinfo(np.int32).max):
        return "holds values outside 0..2147483647 (int32 indices)"
    return None


def train(model, data, epochs, batch_size, eta, zeta=0.0, seed=0, progress=False, on_epoch=None,
          schedule_unit="epoch"):
    """Train ``model`` on ``data`` (a ``nerva_edu.datasets.Dataset``) with the loop that dense MLPs use
    (``nerva_edu.mlp.training_loop``): seeded shuffling, a learning rate per epoch or per step
    (``schedule_unit``; ``eta``: a number or a scheduler of ``nerva_edu.schedulers``), and with ζ > 0
    SET's prune and regrow at the start of every epoch after the first. Returns the list of ``EpochResult``."""
    from nerva_edu.mlp import training_loop
    from nerva_edu.schedulers import Constant

    def before_epoch(epoch):
        if zeta and epoch > 1:
            model.prune_and_regrow(zeta)

    return training_loop(model.step, lambda X, T: model.accuracy(X, T.argmax(axis=1)), data,
                         eta if callable(eta) else Constant(eta), epochs, batch_size, np.random.default_rng(seed),
                         progress, on_epoch, before_epoch, schedule_unit)
