"""The library's own training step compiled with ``jax.jit`` (``nerva-edu train --backend jax``).

``jax.jit`` runs a Python function once on tracers, records the operations it performs, and
compiles them with XLA into one program that later calls run directly. The function traced
here is :func:`nerva_edu.mlp.step_loss`, the step every dense MLP trains with: the layers'
own ``feedforward``, the loss gradient, the layers' own ``backpropagate`` and the optimizers'
update rules. Nothing is rewritten for JAX: the layers are written with the operations of
``nerva_edu.matrix``, which have a JAX backend.

A jitted function must be pure: what it reads are its inputs, what it changes are its
outputs. A network keeps its state in attributes (the parameters, the optimizers' Δ, the
running statistics of batch normalization), so :func:`jit_step` wraps the step as

    (state, X, T, η)  ->  (state', L(Y, T)),

where ``state`` holds those attributes (:func:`network_state`), loaded into the network before
the step and read from it after. The updates of the optimizers are augmented assignments
(``θ -= η·Dθ``): on JAX arrays, which are immutable, they make new arrays, and
``LayerOptimizer`` assigns them to the layer, exactly as on SymPy values.

JAX computes in float32 unless 64-bit mode is on; :func:`to_jax` switches it on for a float64
network (``jax.config.update("jax_enable_x64", True)``). Dropout layers draw their masks
with NumPy, which a traced step would freeze into constants: they are refused.
"""

import numpy as np

from nerva_edu.layers import ActivationDropout, LinearDropout
from nerva_edu.mlp import check_training, step_loss, training_loop
from nerva_edu.optimizers import check_learning_rate


def network_state(mlp):
    """Everything a training step reads and changes: {"model": {key: value} of
    ``mlp.saved_state()`` (parameters and running statistics), "optimizers": [state per layer]}."""
    return {"model": {key: getattr(layer, name) for key, (layer, name) in mlp.saved_state().items()},
            "optimizers": [dict(optimizer.state) for optimizer in mlp.optimizers]}


def load_state(mlp, state):
    """Assign the values of ``state`` (see :func:`network_state`) to the network's attributes."""
    for key, (layer, name) in mlp.saved_state().items():
        setattr(layer, name, state["model"][key])
    for optimizer, values in zip(mlp.optimizers, state["optimizers"]):
        optimizer.state = dict(values)


def to_jax(mlp):
    """Turn every NumPy array of the network's state into a JAX array of its dtype, in place
    (64-bit mode is switched on for float64); numbers (such as SReLU's a_l) stay numbers, which
    JAX, like NumPy, computes with in the dtype of the arrays. ValueError for dropout layers."""
    import jax
    for layer in mlp.layers:
        if isinstance(layer, (LinearDropout, ActivationDropout)):
            raise ValueError(f"--backend jax: {type(layer).__name__} draws its dropout masks with NumPy, which a "
                             f"step compiled by jax.jit would freeze; use --backend dense")
    state = network_state(mlp)
    arrays = [value for value in jax.tree_util.tree_leaves(state) if isinstance(value, np.ndarray)]
    if any(value.dtype == np.float64 for value in arrays):
        jax.config.update("jax_enable_x64", True)
    load_state(mlp, jax.tree_util.tree_map(
        lambda value: jax.numpy.asarray(value) if isinstance(value, np.ndarray) else value, state))


def jit_step(mlp, loss):
    """``step(X, T, η)`` → L(Y, T): one training step of ``mlp`` (whose state is JAX arrays,
    see :func:`to_jax`), compiled by ``jax.jit`` the first time it sees a batch shape.

    The state is donated to the compiled step: XLA writes the new parameters into the memory of
    the old ones instead of allocating fresh arrays on every step. The network holds the new
    arrays afterwards; an array taken from it before the step (``W = layer.W``) is deleted, and
    reading it raises JAX's "Array has been deleted" error rather than returning stale values.
    Copy what must be kept (``np.array(layer.W)``)."""
    import jax

    def pure_step(state, X, T, eta):
        load_state(mlp, state)
        value = step_loss(mlp, X, T, loss, eta)
        return network_state(mlp), value

    compiled = jax.jit(pure_step, donate_argnums=0)

    def step(X, T, eta):
        mlp.training = True
        state, value = compiled(network_state(mlp), X, T, eta)
        load_state(mlp, state)                 # the new values, concrete arrays
        return value
    return step


def train(mlp, data, loss, scheduler, epochs, batch_size, rng, progress=None, on_epoch=None,
          schedule_unit="epoch"):
    """:func:`nerva_edu.mlp.train` with every step compiled by ``jax.jit``: the same checks, the
    same batches for the same ``rng``, the same results to floating-point rounding. The
    network's state becomes JAX arrays (:func:`to_jax`); the data stay NumPy arrays and are
    copied to JAX batch by batch."""
    import jax.numpy as jnp
    from nerva_edu.schedulers import Constant
    check_training(mlp, data, loss, batch_size)
    scheduler = scheduler if callable(scheduler) else Constant(scheduler)
    to_jax(mlp)
    step = jit_step(mlp, loss)

    def train_batch(X, T, eta):
        check_learning_rate("MLP.optimize", eta)
        return float(step(jnp.asarray(X), jnp.asarray(T), eta))

    def accuracy(X, T):
        return mlp.accuracy(jnp.asarray(X), T)
    return training_loop(train_batch, accuracy, data, scheduler, epochs, batch_size, rng, progress, on_epoch,
                         schedule_unit=schedule_unit)
