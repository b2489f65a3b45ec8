"""``nerva-edu train``: the default run, options, --json/--save/--load, and rejected values."""

import json

import numpy as np
import pytest

from nerva_edu.cli import main
from test_datasets import write_mnist


def test_default_run_reaches_95_percent_on_digits(tmp_path, capsys):
    path = tmp_path / "epochs.json"
    assert main(["train", "--json", str(path)]) == 0
    epochs = json.loads(path.read_text())
    assert len(epochs) == 20
    assert set(epochs[0]) == {"epoch", "loss", "train_accuracy", "test_accuracy", "seconds"}
    assert [e["epoch"] for e in epochs] == list(range(1, 21))
    assert epochs[-1]["test_accuracy"] >= 0.95
    out = capsys.readouterr().out
    assert "digits: 1438 training and 359 test examples" in out and "epoch  20" in out


def test_options_save_and_load(tmp_path, capsys):
    weights, log = tmp_path / "w.npz", tmp_path / "log.json"
    arguments = ["train", "--layers", "ReLU;BatchNormalization;Tanh;Linear", "--layer-sizes", "64;40;20;10",
                 "--optimizers", "Nesterov(0.8)", "--initializers", "Xavier;NormalizedXavier;HeUniform",
                 "--learning-rate", "StepBased(0.05, 0.5, 1)", "--epochs", "2", "--batch-size", "50",
                 "--seed", "3", "--dtype", "float64", "--normalize", "standard"]
    assert main(arguments + ["--save", str(weights), "--json", str(log)]) == 0
    with np.load(weights) as data:
        assert data["W1"].shape == (40, 64) and data["W3"].shape == (10, 20) and "gamma1" in data.files
        assert data["W1"].dtype == np.float64
    first = json.loads(log.read_text())
    assert main(arguments[:-6] + ["--normalize", "standard", "--epochs", "1", "--load", str(weights),
                                  "--json", str(log)]) == 0
    resumed = json.loads(log.read_text())
    assert resumed[0]["loss"] < first[0]["loss"]          # it started from the trained weights


def test_mnist_from_a_path(tmp_path, capsys):
    write_mnist(tmp_path, compress=True, n_train=20, n_test=5)
    assert main(["train", "--dataset", f"mnist:{tmp_path}", "--epochs", "1", "--batch-size", "10"]) == 0
    assert "mnist: 20 training and 5 test examples, 784 features" in capsys.readouterr().out


def test_dataset_path_may_start_with_a_tilde(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "mnist").mkdir()
    write_mnist(tmp_path / "mnist", compress=False, n_train=20, n_test=5)
    assert main(["train", "--dataset", "mnist:~/mnist", "--epochs", "1", "--batch-size", "10"]) == 0
    assert "mnist: 20 training and 5 test examples" in capsys.readouterr().out


@pytest.mark.parametrize("arguments, message", [
    (["--epochs", "0"], "argument --epochs: '0' is not a positive integer"),
    (["--batch-size", "x"], "argument --batch-size: 'x' is not a positive integer"),
    (["--learning-rate", "Cosine(0.1)"], "accepted: Constant, TimeBased, StepBased, Exponential, MultiStep"),
    (["--loss", "hinge"], "invalid choice: 'hinge' (choose from 'squared_error'"),
    (["--dtype", "float16"], "(choose from 'float32', 'float64')"),
    (["--normalize", "minmax"], "(choose from 'unit', 'standard', 'none')"),
    (["--backend", "gpu"], "(choose from 'dense', 'jax', 'cpp', 'numpy', 'scipy')"),
    (["--density", "0.1"], "--density and --prune need a sparse backend"),
    (["--backend", "cpp", "--density", "0"], "argument --density: '0' is not a density in (0, 1]"),
    (["--backend", "cpp", "--prune", "1.5"], "argument --prune: '1.5' is not a fraction in [0, 1)"),
    (["--backend", "cpp", "--grow", "gradient"], "invalid choice: 'gradient' (choose from 'random')"),
    (["--backend", "cpp", "--layers", "ReLU;BatchNormalization;Linear"],
     "--layers (sparse backends): unknown name 'BatchNormalization'; accepted: Linear, ReLU, AllReLU"),
    (["--backend", "numpy", "--loss", "squared_error"], "the sparse backends train with softmax_cross_entropy only"),
    (["--backend", "cpp", "--dtype", "float64"], "the sparse backends compute in float32 only"),
    (["--backend", "cpp", "--optimizers", "Momentum(0.9);Momentum(0.9);GradientDescent"],
     "the sparse backends take one optimizer for all layers"),
    (["--backend", "cpp", "--threads", "0"], "argument --threads: '0' is not a positive integer"),
    (["--dataset", "imagenet"], "accepted: digits, mnist:PATH, cifar10:PATH"),
    (["--dataset", "cifar10:/nowhere/cifar.tar.gz"], "/nowhere/cifar.tar.gz does not exist"),
    (["--dataset", "synthetic:examples=0"], "dataset synthetic: examples must be a whole number >= 1, got '0'"),
    (["--dataset", "synthetic:classes=1"], "dataset synthetic: classes must be a whole number >= 2, got '1'"),
    (["--dataset", "synthetic:seed=-1"], "dataset synthetic: seed must be a whole number >= 0, got '-1'"),
    (["--dataset", "synthetic:width=3"], "dataset synthetic: cannot use 'width=3'; accepted: examples=INT"),
    (["--dataset", "synthetic:examples"], "dataset synthetic: cannot use 'examples'; accepted: examples=INT"),
    (["--layers", "ReLU;Softplus;Linear"], "accepted: Linear, ReLU, Sigmoid, Tanh, LeakyReLU"),
    (["--layer-sizes", "64;32;10"], "got 3 sizes for 3 linear layers; expected 4"),
    (["--layer-sizes", "32;32;32;10"], "the network takes 32 inputs, but digits has 64 features"),
    (["--optimizers", "Adam"], "accepted: GradientDescent, Momentum, Nesterov"),
    (["--initializers", "Glorot"], "accepted: Uniform, Xavier, NormalizedXavier, He"),
    (["--batch-size", "5000"], "--batch-size: 5000 exceeds the 1438 training examples"),
    (["--load", "/nowhere/w.npz"], "/nowhere/w.npz: model file not found"),
])
def test_bad_values_are_rejected_with_what_is_accepted(arguments, message, capsys):
    try:
        status = main(["train", "--epochs", "1"] + arguments)      # a repeated option: the last one counts
    except SystemExit as exit:
        status = exit.code
    assert status == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("backend, extra", [("cpp", []), ("numpy", ["--prune", "0.2"])])
def test_sparse_training_learns_digits(backend, extra, tmp_path, capsys):
    path = tmp_path / "epochs.json"
    assert main(["train", "--backend", backend, "--density", "0.2", "--epochs", "5", "--json", str(path)] + extra) == 0
    output = capsys.readouterr().out
    assert "layer densities 0.1519, 0.2280, 0.6375" in output
    assert ("SET with ζ = 0.2" in output) == bool(extra)
    epochs = json.loads(path.read_text())
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4, 5]
    assert epochs[-1]["loss"] < epochs[0]["loss"] and epochs[-1]["test_accuracy"] > 0.8


@pytest.mark.parametrize("backend", ["dense", "numpy"])
def test_the_schedule_unit_is_epoch_by_default_or_step(backend, tmp_path, capsys):
    """StepBased(0.05, 0.5, 1) per epoch keeps η = 0.05 for the first epoch; per step it halves the rate at
    every batch, so that training nearly stops (22 batches of 64 in an epoch)."""
    losses = {}
    for unit in ("epoch", "step"):
        path = tmp_path / f"{unit}.json"
        arguments = ["train", "--backend", backend, "--epochs", "2", "--batch-size", "64", "--learning-rate",
                     "StepBased(0.05, 0.5, 1)", "--json", str(path)] + (["--schedule-unit", unit] if unit == "step"
                                                                         else [])
        assert main(arguments) == 0
        assert f"StepBased(eta0=0.05, d=0.5, r=1) per {unit}" in capsys.readouterr().out
        losses[unit] = [e["loss"] for e in json.loads(path.read_text())]
    assert losses["step"][1] > losses["epoch"][1]          # it barely learned after the first batches


def test_an_unknown_schedule_unit_is_rejected(capsys):
    with pytest.raises(SystemExit) as exit:
        main(["train", "--schedule-unit", "batch"])
    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert "--schedule-unit: invalid choice: 'batch'" in error and "epoch" in error and "step" in error


def test_a_wide_sparse_network_learns_synthetic_data_of_the_cifar_shape(tmp_path, capsys):
    path = tmp_path / "epochs.json"
    assert main(["train", "--dataset", "synthetic:examples=1000,seed=3", "--backend", "cpp", "--layer-sizes",
                 "3072;2048;2048;10", "--density", "0.01", "--epochs", "2", "--threads", "2", "--json", str(path)]) == 0
    assert "synthetic:examples=1000,features=3072,classes=10,seed=3" in capsys.readouterr().out
    epochs = json.loads(path.read_text())
    assert epochs[-1]["test_accuracy"] > 0.5        # chance: 0.1


@pytest.mark.parametrize("schedule, unit, where", [
    ("Exponential(0.1,50)", "epoch", "the last epoch of the run, epoch 17"),
    ("StepBased(0.1,1e-200,1)", "step", "the last step of the run, step 747 (epoch 17)"),
])
def test_a_schedule_that_decays_to_zero_is_refused_before_training(tmp_path, capsys, schedule, unit, where):
    model = tmp_path / "model.npz"
    status = main(["train", "--epochs", "17", "--learning-rate", schedule, "--schedule-unit", unit,
                   "--save", str(model)])
    captured = capsys.readouterr()
    assert status == 2 and f"the learning rate schedule gives 0.0 at {where}" in captured.err, captured.err
    assert captured.err.count("\n") == 1 and "epoch   1" not in captured.out and not model.exists()


@pytest.mark.parametrize("backend", [[], ["--backend", "cpp", "--density", "0.5"]])
def test_a_model_remembers_the_normalization_of_its_inputs(tmp_path, capsys, backend):
    from nerva_edu.model_file import read_inputs
    model = tmp_path / "model.npz"
    assert main(["train", *backend, "--normalize", "standard", "--epochs", "1", "--save", str(model)]) == 0
    assert read_inputs(model) == {"normalize": "standard"}
    capsys.readouterr()
    assert main(["train", *backend, "--normalize", "unit", "--epochs", "1", "--load", str(model)]) == 2
    error = capsys.readouterr().err
    assert "the model was trained on inputs of --normalize standard, not unit: pass --normalize standard" in error
    assert error.count("\n") == 1
    assert main(["train", *backend, "--normalize", "standard", "--epochs", "1", "--load", str(model)]) == 0
