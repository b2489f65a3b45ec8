"""The library's training step under jax.jit: it traces the layers' own code once, agrees with
the NumPy path over a training run on digits (float64 to 1e-10, float32 loosely), and runs from
the command line as ``nerva-edu train --backend jax``."""

import json

import jax.numpy as jnp
import numpy as np
import pytest

from nerva_edu import jax_training
from nerva_edu.cli import main
from nerva_edu.datasets import load_dataset
from nerva_edu.layers import Activation, LinearDropout
from nerva_edu.losses import LOSSES
from nerva_edu.matrix import kind
from nerva_edu.mlp import MLP, build_mlp, train
from nerva_edu.optimizers import GradientDescent

SPEC = ("ReLU;BatchNormalization;Tanh;Linear", "64;32;16;10",
        "Nesterov(0.9);Momentum(0.8);GradientDescent;Momentum(0.9)")


def _run(trainer, dtype, epochs=3):
    data = load_dataset("digits", "unit", dtype)
    mlp = build_mlp(*SPEC, rng=np.random.default_rng(7), dtype=dtype)
    history = trainer(mlp, data, LOSSES["softmax_cross_entropy"], 0.05, epochs, 40, np.random.default_rng(8),
                      progress=False)
    weights = {key: np.asarray(getattr(layer, name)) for key, (layer, name) in mlp.saved_state().items()}
    return mlp, history, weights


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-10), (np.float32, 2e-3)])
def test_jit_training_agrees_with_numpy_training(dtype, rtol):
    _, expected_history, expected = _run(train, dtype)
    mlp, history, weights = _run(jax_training.train, dtype)
    assert kind(mlp.layers[0].W) == "jax" and mlp.layers[0].W.dtype == dtype
    for epoch, reference in zip(history, expected_history):
        assert epoch.loss == pytest.approx(reference.loss, rel=rtol)
        assert epoch.test_accuracy == pytest.approx(reference.test_accuracy, abs=0 if dtype == np.float64 else 0.02)
    for key, value in weights.items():
        assert value.dtype == expected[key].dtype
        np.testing.assert_allclose(value, expected[key], rtol=rtol, atol=rtol, err_msg=key)


def test_the_step_is_traced_once_through_the_layers_own_code():
    """jax.jit runs the Python code of the layers once, on tracers; later steps run the compiled program."""
    calls = []

    class CountingActivation(Activation):
        def feedforward(self, X):
            calls.append(type(X).__name__)
            return super().feedforward(X)

    rng = np.random.default_rng(0)
    from nerva_edu.activations import ReLU
    layer = CountingActivation(rng.standard_normal((3, 4)), np.zeros((1, 3)), ReLU())
    mlp = MLP([layer], [GradientDescent()])
    jax_training.to_jax(mlp)
    step = jax_training.jit_step(mlp, LOSSES["squared_error"])
    X, T = jnp.asarray(rng.standard_normal((5, 4))), jnp.asarray(rng.standard_normal((5, 3)))
    W0, held = np.array(layer.W), layer.W
    for _ in range(4):
        step(X, T, 0.1)
    assert len(calls) == 1 and "Tracer" in calls[0]
    assert kind(layer.W) == "jax" and not np.allclose(np.asarray(layer.W), W0)
    with pytest.raises(RuntimeError, match="Array has been deleted"):     # donated to the step, not stale
        np.asarray(held)


def test_dropout_layers_are_refused_under_jit():
    rng = np.random.default_rng(0)
    mlp = MLP([LinearDropout(rng.standard_normal((3, 4)), np.zeros((1, 3)), 0.5)], [GradientDescent()])
    with pytest.raises(ValueError, match="--backend jax: LinearDropout draws its dropout masks with NumPy"):
        jax_training.to_jax(mlp)


def test_train_backend_jax_agrees_with_dense(tmp_path, capsys):
    arguments = ["train", "--layers", "ReLU;BatchNormalization;SReLU;Linear", "--layer-sizes", "64;24;16;10",
                 "--epochs", "2", "--dtype", "float64", "--learning-rate", "Exponential(0.05, 0.5)", "--seed", "4"]
    results = {}
    for backend in ("dense", "jax"):
        log, weights = tmp_path / f"{backend}.json", tmp_path / f"{backend}.npz"
        assert main(arguments + ["--backend", backend, "--json", str(log), "--save", str(weights)]) == 0
        with np.load(weights) as saved:
            results[backend] = json.loads(log.read_text()), {key: saved[key] for key in saved.files}
    assert "backend jax" in capsys.readouterr().out
    (dense_epochs, dense_weights), (jax_epochs, jax_weights) = results["dense"], results["jax"]
    assert [e["loss"] for e in jax_epochs] == pytest.approx([e["loss"] for e in dense_epochs], rel=1e-10)
    for key, value in dense_weights.items():
        if value.dtype.kind == "f":
            np.testing.assert_allclose(jax_weights[key], value, rtol=1e-9, atol=1e-12, err_msg=key)


def test_train_backend_jax_rejects_sparse_options(capsys):
    assert main(["train", "--backend", "jax", "--density", "0.5", "--epochs", "1"]) == 2
    error = capsys.readouterr().err
    assert "--density and --prune need a sparse backend" in error and error.count("\n") == 1
