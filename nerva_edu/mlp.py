"""A multilayer perceptron built from a Nerva-style specification, and its training loop.

The specification is the one of the Nerva tools::

    --layers "ReLU;ReLU;Linear" --layer-sizes "64;64;32;10"
    --optimizers "Momentum(0.9)"  --initializers "He"

Each item of ``layers`` is a linear layer followed by an activation (``Linear`` has none);
``layer-sizes`` lists D of the first linear layer, then K of every linear layer. The
exception is ``BatchNormalization``, which keeps the size of its input and takes no entry
of ``layer-sizes``. ``optimizers`` gives one update rule per layer and ``initializers``
one weight initializer per linear layer; a single item applies to all of them.

Training (:func:`train`) is mini-batch gradient descent in the spec's order: for every
batch, Y = feedforward(X), DY = ∇_Y L̄(Y, T), backpropagate(Y, DY), then one optimizer update
per layer with the scheduler's learning rate η_i.

The batch convention (one for every loss): a step minimizes, and reports, L̄, the mean over
the N examples of the batch of the single-example loss (as torch's default ``reduction="mean"``).
The batch losses of ``nerva_edu.losses`` sum over the examples, so L̄ = L(Y, T) / N, except
``mean_squared_error``, which is already that mean: L_MSE = L_SE / (K·N) is the mean over the
examples of L_SE(y, t) / K, so L̄ = L_MSE(Y, T) and DY = ∇_Y L_MSE (:func:`batch_mean_scale`).

The scheduler's step i counts epochs (i = epoch − 1, the default, as the Nerva tools do) or
optimization steps (i = 0, 1, 2, ... over all batches of all epochs, as the spec defines η_i):
``schedule_unit="epoch"`` or ``"step"``.
"""

import time
from dataclasses import dataclass

import numpy as np

from nerva_edu import activations
from nerva_edu.init import constant_bias, weight_initializer
from nerva_edu.layers import Activation, BatchNormalization, Linear, LogSoftmax, Softmax, SReLULayer
from nerva_edu.losses import LOSSES
from nerva_edu.memory import check_memory
from nerva_edu.model_file import ModelFileError, read_model, write_model
from nerva_edu.optimizers import LayerOptimizer, check_learning_rate, is_learning_rate, parse_optimizer
from nerva_edu.parsing import bind, lookup, parse_call, parse_sizes, split_list

# layer name -> (how to build it from W, b and the arguments, its parameters with defaults)
LINEAR_LAYERS = {
    "Linear": (lambda W, b: Linear(W, b), {}),
    "ReLU": (lambda W, b: Activation(W, b, activations.ReLU()), {}),
    "Sigmoid": (lambda W, b: Activation(W, b, activations.Sigmoid()), {}),
    "Tanh": (lambda W, b: Activation(W, b, activations.Tanh()), {}),
    "LeakyReLU": (lambda W, b, alpha: Activation(W, b, activations.LeakyReLU(alpha)), {"alpha": None}),
    "AllReLU": (lambda W, b, alpha: Activation(W, b, activations.AllReLU(alpha)), {"alpha": None}),
    "SReLU": (lambda W, b, **p: SReLULayer(W, b, **p), {"al": 0.0, "tl": 0.0, "ar": 0.0, "tr": 1.0}),
    "Softmax": (lambda W, b: Softmax(W, b), {}),
    "LogSoftmax": (lambda W, b: LogSoftmax(W, b), {}),
}
LAYER_NAMES = list(LINEAR_LAYERS) + ["BatchNormalization"]


def _one_per(items, count, what, per):
    """``items`` repeated if there is one, else exactly ``count`` of them."""
    if len(items) == 1:
        return items * count
    if len(items) != count:
        raise ValueError(f"{what}: got {len(items)} items, expected 1 or {count} (one per {per})")
    return items


class MLP:
    """A list of layers with one optimizer each (see the module docstring for building one)."""

    def __init__(self, layers, optimizers):
        if len(layers) != len(optimizers):
            raise ValueError(f"MLP: {len(layers)} layers but {len(optimizers)} optimizers")
        self.layers = layers
        self.optimizers = [LayerOptimizer(layer, rule) for layer, rule in zip(layers, optimizers)]

    def feedforward(self, X):
        """X_L for X₀ = X and X_l = layer_l(X_{l−1}). What the backward pass needs stays on the
        layers: each keeps its input X_{l−1} (``layer.X``); a layer with a function after its
        product (activation, SReLU, activation dropout, softmax, log-softmax) also Z; batch
        normalization R, Σ and Z; the dropout layers their mask R."""
        for layer in self.layers:
            X = layer.feedforward(X)
        return X

    def backpropagate(self, Y, DY):
        """Backpropagate DY = DX_L through every layer (last to first): layer l, given its output
        X_l and DX_l, sets the gradients of its parameters and returns DX_{l−1}. Returns DX_0 and
        keeps every DX_l in ``self.DX`` (``self.DX[l]`` for l = 0..L, ``self.DX[L]`` = DY)."""
        self.DX = [DY]
        for layer in reversed(self.layers):
            DY = layer.backpropagate(Y, DY)
            Y = layer.X
            self.DX.insert(0, DY)
        return DY

    def optimize(self, eta):
        check_learning_rate("MLP.optimize", eta)
        self.update(eta)

    def update(self, eta):
        """One optimizer update per layer with learning rate η, unchecked (η may be a value
        traced by ``jax.jit``; :meth:`optimize` checks it first)."""
        for optimizer in self.optimizers:
            optimizer.update(eta)

    @property
    def training(self):
        return all(layer.training for layer in self.layers)

    @training.setter
    def training(self, value):
        """False selects evaluation mode: batch statistics and dropout masks are not used."""
        for layer in self.layers:
            layer.training = value

    def predict(self, X, batch_size=1000):
        """The outputs for X in evaluation mode, computed batch by batch (an empty X, N = 0,
        gives an empty N×K result)."""
        mode, self.training = self.training, False
        try:
            return batch_by_batch("MLP.predict", self.feedforward, X, batch_size)
        finally:
            self.training = mode

    def accuracy(self, X, T):
        """The fraction of rows whose largest output is at the target class (T one-hot)."""
        return fraction_correct("MLP.accuracy", self.predict(X), T.argmax(axis=1))

    # --- saving and loading (the format of nerva_edu.model_file) --------------------------

    def parameters(self):
        """{key: (layer, name)} with keys W1, b1, W2, b2, ... for the linear layers (Nerva's
        layout), al1, tl1, ... for SReLU parameters and beta1, gamma1, ... for batch norms."""
        keys, linear, normalization = {}, 0, 0
        for layer in self.layers:
            if isinstance(layer, BatchNormalization):
                normalization += 1
                index = normalization
            else:
                linear += 1
                index = linear
            for name in layer.parameter_names:
                keys[f"{name}{index}"] = (layer, name)
        return keys

    def saved_state(self):
        """{key: (layer, name)} of everything predictions depend on: :meth:`parameters`, and the
        running statistics of every batch normalization (running_mean1, running_variance1, ...)."""
        keys = self.parameters()
        normalizations = [layer for layer in self.layers if isinstance(layer, BatchNormalization)]
        for index, layer in enumerate(normalizations, start=1):
            for name in ("running_mean", "running_variance"):
                keys[f"{name}{index}"] = (layer, name)
        return keys

    def architecture(self):
        """The layers as a model file records them: class, activation, sizes, and the ε of batch
        normalization (it changes predictions); a file is loaded only into an equal architecture."""
        described = []
        for layer in self.layers:
            entry = {"layer": type(layer).__name__}
            if isinstance(layer, BatchNormalization):
                entry.update(size=layer.output_size, epsilon=float(layer.epsilon))
            else:
                if hasattr(layer, "act") and not isinstance(layer, SReLULayer):
                    entry["activation"] = repr(layer.act)
                entry.update(inputs=layer.input_size, outputs=layer.output_size)
            described.append(entry)
        return described

    def save_weights(self, path, inputs=None):
        """Write the model to ``path`` (exactly that path; a model file of ``nerva_edu.model_file``, with
        the description ``inputs`` of the inputs it was trained on, if given)."""
        write_model(path, "dense", self.architecture(),
                    {key: np.asarray(getattr(layer, name)) for key, (layer, name) in self.saved_state().items()},
                    inputs)

    def load_weights(self, path):
        """Read the model saved in ``path`` by :meth:`save_weights`: all or nothing, ValueError naming
        the file and what is wrong when it does not fit this network. Values are converted to the
        network's dtype (they must stay finite). The optimizer state starts again from zero."""
        state = self.saved_state()
        expected = {key: (np.shape(getattr(layer, name)), "f", _variance_check if name == "running_variance" else None)
                    for key, (layer, name) in state.items()}
        values = read_model(path, "dense", self.architecture(), expected)
        converted = {}
        for key, (layer, name) in state.items():
            dtype = np.asarray(layer.beta if isinstance(layer, BatchNormalization) else layer.W).dtype
            with np.errstate(over="ignore"):
                converted[key] = values[key].astype(dtype)
            if not np.all(np.isfinite(converted[key])):
                raise ModelFileError(f"{path}: {key} does not fit in {dtype.name} (it overflows to ±∞)")
        for key, (layer, name) in state.items():         # every value is good: now assign them all
            current = getattr(layer, name)
            if isinstance(current, np.ndarray) and name in layer.parameter_names:
                current[...] = converted[key]             # in place: optimizers hold no stale copy
            else:
                setattr(layer, name, converted[key].copy() if converted[key].ndim else converted[key][()])
        self.optimizers = [LayerOptimizer(layer, optimizer.rule)            # a fresh (zero) state
                           for layer, optimizer in zip(self.layers, self.optimizers)]


def batch_by_batch(op, feedforward, X, batch_size):
    """``feedforward`` of the rows of X, ``batch_size`` at a time, stacked: a large set needs the
    memory of one batch (an empty X gives what ``feedforward`` gives for it)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{op}: batch_size must be a positive integer, got {batch_size!r}")
    return np.concatenate([feedforward(X[i:i + batch_size]) for i in range(0, max(len(X), 1), batch_size)])


def fraction_correct(op, Y, labels):
    """The fraction of the rows i of Y whose largest entry is at column labels[i]; ValueError for
    an empty set (its accuracy is undefined) or a number of labels other than Y's rows."""
    labels = np.asarray(labels)
    if labels.shape != (len(Y),):
        raise ValueError(f"{op}: labels of shape {labels.shape} for {len(Y)} examples")
    if len(Y) == 0:
        raise ValueError(f"{op}: no examples (the accuracy of an empty set is undefined)")
    K = np.shape(Y)[1]
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= K:
        raise ValueError(f"{op}: labels must be whole numbers 0..{K - 1}, got {labels.dtype.name} values "
                         f"from {labels.min()} to {labels.max()}")
    return float(np.mean(Y.argmax(axis=1) == labels))


def _variance_check(value):
    return "holds negative variances" if np.any(value < 0) else None


def build_mlp(layers, sizes, optimizers="GradientDescent", initializers="He", rng=None, dtype=np.float64):
    """An :class:`MLP` from the textual specification (strings as on the command line, or lists).

    ``rng`` is the ``numpy.random.Generator`` of the weight initializers (default seed 0).
    """
    layers = split_list(layers, "--layers") if isinstance(layers, str) else list(layers)
    sizes = parse_sizes(sizes) if isinstance(sizes, str) else list(sizes)
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"--layer-sizes: {size!r} is not a positive integer (in {sizes})")
    optimizers = split_list(optimizers, "--optimizers") if isinstance(optimizers, str) else list(optimizers)
    initializers = split_list(initializers, "--initializers") if isinstance(initializers, str) else list(initializers)
    rng = np.random.default_rng(0) if rng is None else rng

    calls = [parse_call(text, "--layers") for text in layers]
    linear_count = sum(call.name != "BatchNormalization" for call in calls)
    if len(sizes) != linear_count + 1:
        raise ValueError(f"--layer-sizes: got {len(sizes)} sizes for {linear_count} linear layers; expected "
                         f"{linear_count + 1} (the input size, then the output size of each linear layer)")
    rules = [parse_optimizer(text) for text in _one_per(optimizers, len(calls), "--optimizers", "layer")]
    inits = [weight_initializer(text)
             for text in _one_per(initializers, linear_count, "--initializers", "linear layer")]
    # each parameter is stored three times in training: its values, its gradient, the optimizer's Δ
    count = sum(K * D + K for D, K in zip(sizes[:-1], sizes[1:])) * 3 * np.dtype(dtype).itemsize
    check_memory(f"--layer-sizes: the network {'-'.join(map(str, sizes))} ({np.dtype(dtype).name}, with gradients "
                 f"and optimizer state)", count)

    built, D, linear_index = [], sizes[0], 0
    for call in calls:
        if call.name == "BatchNormalization":
            bind(call, {}, "--layers")
            built.append(BatchNormalization(constant_bias(D, 0.0, dtype), constant_bias(D, 1.0, dtype)))
            continue
        make, parameters = lookup(dict(LINEAR_LAYERS, BatchNormalization=None), call, "--layers")
        K = sizes[linear_index + 1]
        W, b = inits[linear_index](rng, K, D, dtype), constant_bias(K, 0.0, dtype)
        built.append(make(W, b, **bind(call, parameters, "--layers")))
        D, linear_index = K, linear_index + 1
    return MLP(built, rules)


def parse_loss(name):
    """A loss of ``nerva_edu.losses`` by name; ValueError listing the accepted names."""
    if name not in LOSSES:
        raise ValueError(f"--loss: unknown name {name!r}; accepted: {', '.join(LOSSES)}")
    return LOSSES[name]


@dataclass
class EpochResult:
    epoch: int
    loss: float              # mean loss per example over the epoch's batches
    train_accuracy: float
    test_accuracy: float
    seconds: float           # training time of the epoch (without the evaluation)


# batch losses that are already a mean over the examples (see the module docstring)
MEAN_LOSSES = ("mean_squared_error",)


def batch_mean_scale(loss, N):
    """The factor s with L̄ = s·L(Y, T), the mean loss per example of a batch of N: 1/N for the
    losses that sum over the examples, 1 for mean_squared_error (already a mean over K·N entries)."""
    return 1 if loss.name in MEAN_LOSSES else 1 / N


def train_step(mlp, X, T, loss, eta):
    """One step on one batch: minimizes the mean loss per example L̄ = s·L(Y, T), with
    DY = s·∇_Y L(Y, T) (s from :func:`batch_mean_scale`), and returns L̄ before the update.
    An empty batch (N = 0) has no mean loss: ValueError."""
    if X.shape[0] == 0:
        raise ValueError(f"empty batch: train_step needs at least one example, got X of shape {X.shape}")
    check_learning_rate("MLP.optimize", eta)
    return float(step_loss(mlp, X, T, loss, eta))


def step_loss(mlp, X, T, loss, eta):
    """The step itself, unchecked: Y = feedforward(X), DY = s·∇_Y L(Y, T), backpropagate(Y, DY),
    the optimizer updates; returns L̄ = s·L(Y, T) of the batch (before the update) as a value of
    X's kind. Written with the layers' own methods only, so that ``jax.jit`` can trace it
    (``nerva_edu.jax_training``)."""
    s = batch_mean_scale(loss, X.shape[0])
    Y = mlp.feedforward(X)
    mlp.backpropagate(Y, s * loss.gradient(Y, T))
    mlp.update(eta)
    return s * loss(Y, T)


def batches(N, batch_size, rng):
    """The index arrays of one epoch: a seeded shuffle cut into N // batch_size batches
    (the remainder is left out, as in the Nerva tools; it differs every epoch)."""
    if not 1 <= batch_size <= N:
        raise ValueError(f"--batch-size: {batch_size} must lie in 1..{N} (the number of training examples)")
    order = rng.permutation(N)
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(N // batch_size)]


def check_sizes(inputs, outputs, data):
    """ValueError unless a network with ``inputs`` inputs and ``outputs`` outputs fits ``data``."""
    if inputs != data.Xtrain.shape[1]:
        raise ValueError(f"--layer-sizes: the network takes {inputs} inputs, but {data.name} has "
                         f"{data.Xtrain.shape[1]} features")
    if outputs != data.classes:
        raise ValueError(f"--layer-sizes: the network has {outputs} outputs, but {data.name} has {data.classes} "
                         f"classes (the last size must be {data.classes})")


def check_batch_size(batch_size, data):
    """ValueError unless ``batch_size`` is a whole number from 1 to the number of training examples."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"--batch-size: {batch_size!r} is not a positive integer")
    if batch_size > len(data.Xtrain):
        raise ValueError(f"--batch-size: {batch_size} exceeds the {len(data.Xtrain)} training examples")


# losses that take probabilities: the output layer must be a softmax
PROBABILITY_LOSSES = ("cross_entropy", "negative_log_likelihood")


def check_training(mlp, data, loss, batch_size):
    """ValueError unless ``mlp`` can be trained on ``data`` with ``loss`` in batches of
    ``batch_size``: its sizes fit the data, the loss gets the outputs it needs (probabilities
    for cross-entropy and negative log-likelihood), and the batches are large enough for batch
    normalization. Called before the first step, so that a run does not fail (or train to NaN)
    after it has started."""
    check_sizes(mlp.layers[0].input_size if hasattr(mlp.layers[0], "input_size") else mlp.layers[0].output_size,
                mlp.layers[-1].output_size, data)
    if loss.name in PROBABILITY_LOSSES and not isinstance(mlp.layers[-1], Softmax):
        raise ValueError(f"--loss {loss.name} needs probabilities, but the last layer is "
                         f"{type(mlp.layers[-1]).__name__}: end --layers with Softmax, or use "
                         f"--loss softmax_cross_entropy on a Linear last layer")
    check_batch_size(batch_size, data)
    if batch_size < 2 and any(isinstance(layer, BatchNormalization) for layer in mlp.layers):
        raise ValueError("--batch-size 1: batch normalization needs batches of at least 2 examples to estimate "
                         "a variance")


def train(mlp, data, loss, scheduler, epochs, batch_size, rng, progress=None, on_epoch=None,
          schedule_unit="epoch"):
    """Train ``mlp`` on ``data`` (a ``nerva_edu.datasets.Dataset``) with ``loss`` and return the
    list of :class:`EpochResult`. ``rng`` shuffles the batches; ``progress`` shows a tqdm bar
    (None: only on a terminal); ``on_epoch(result)`` is called after every epoch. The
    combination is checked first (:func:`check_training`). ``scheduler`` may be a number (a
    constant learning rate); ``schedule_unit`` says what its i counts ("epoch" or "step")."""
    from nerva_edu.schedulers import Constant
    check_training(mlp, data, loss, batch_size)
    scheduler = scheduler if callable(scheduler) else Constant(scheduler)

    def step(X, T, eta):
        mlp.training = True
        return train_step(mlp, X, T, loss, eta)
    return training_loop(step, mlp.accuracy, data, scheduler, epochs, batch_size, rng, progress, on_epoch,
                         schedule_unit=schedule_unit)


SCHEDULE_UNITS = ("epoch", "step")


def check_schedule_unit(unit):
    """ValueError unless ``unit`` is "epoch" or "step"."""
    if unit not in SCHEDULE_UNITS:
        raise ValueError(f"schedule unit: expected one of {', '.join(SCHEDULE_UNITS)}, got {unit!r}")


def check_schedule(rate, epochs, steps, schedule_unit):
    """ValueError before training unless the learning rate ``rate(epoch, i)`` is a finite number > 0
    at the first and at the last step of the run: every schedule of §9 is monotone, so a rate that
    decays to 0 (or overflows) would otherwise end the run late, after hours of work."""
    for epoch, i, where in ((1, 0, "first"), (epochs, max(steps - 1, 0), "last"))[:2 if epochs >= 1 else 0]:
        eta = rate(epoch, i)
        if not is_learning_rate(eta):
            at = f"epoch {epoch}" if schedule_unit == "epoch" else f"step {i} (epoch {epoch})"
            raise ValueError(f"the learning rate schedule gives {eta!r} at the {where} {schedule_unit} of the run, "
                             f"{at}; it must stay a finite number > 0: train fewer epochs or decay more slowly")


def training_loop(step, accuracy, data, scheduler, epochs, batch_size, rng, progress=None, on_epoch=None,
                  before_epoch=None, schedule_unit="epoch"):
    """The loop shared by every model: ``step(X, T, eta)`` trains on one batch and returns its
    mean loss; ``accuracy(X, T)`` evaluates (T one-hot); ``before_epoch(epoch)`` runs at the
    start of every epoch (for instance SET's prune and regrow). The learning rate is
    ``scheduler(epoch − 1)``, evaluated once per epoch, with ``schedule_unit="epoch"``, and
    ``scheduler(i)`` for the i-th optimization step (i = 0, 1, ... across epochs) with "step"."""
    from tqdm.auto import tqdm

    check_schedule_unit(schedule_unit)
    rate = (lambda epoch, i: scheduler(epoch - 1)) if schedule_unit == "epoch" else (lambda epoch, i: scheduler(i))
    history, steps_done = [], 0
    steps = epochs * (len(data.Xtrain) // batch_size)
    check_schedule(rate, epochs, steps, schedule_unit)
    with tqdm(total=steps, disable=None if progress is None else not progress, unit="batch",
              leave=False) as bar:
        for epoch in range(1, epochs + 1):
            if before_epoch:
                before_epoch(epoch)
            start, total = time.perf_counter(), 0.0
            epoch_batches = batches(len(data.Xtrain), batch_size, rng)
            for index in epoch_batches:
                total += step(data.Xtrain[index], data.Ttrain[index], rate(epoch, steps_done))
                steps_done += 1
                bar.update()
            seconds = time.perf_counter() - start
            result = EpochResult(epoch, total / len(epoch_batches), accuracy(data.Xtrain, data.Ttrain),
                                 accuracy(data.Xtest, data.Ttest), seconds)
            bar.set_postfix(loss=f"{result.loss:.4f}", test=f"{result.test_accuracy:.3f}")
            history.append(result)
            if on_epoch:
                on_epoch(result)
    return history
