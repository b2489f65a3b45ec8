"""Training agrees with PyTorch: the same MLP with the same initial weights, trained for 60
steps on the same batches in nerva_edu (float64) and as a plain torch model with
torch.optim.SGD (plain, momentum, Nesterov), gives the same losses and weights to 1e-8."""

import numpy as np
import pytest
import torch

from nerva_edu.datasets import load_digits
from nerva_edu.layers import BatchNormalization
from nerva_edu.mlp import batches, build_mlp, parse_loss, train_step

STEPS, BATCH, ETA = 60, 32, 0.05
OPTIMIZERS = {"GradientDescent": {}, "Momentum(0.9)": {"momentum": 0.9},
              "Nesterov(0.9)": {"momentum": 0.9, "nesterov": True}}


def torch_model(mlp):
    """The torch twin of ``mlp`` (ReLU / Linear / BatchNormalization layers), with its weights."""
    modules = []
    for layer in mlp.layers:
        if isinstance(layer, BatchNormalization):
            module = torch.nn.BatchNorm1d(layer.beta.shape[1], dtype=torch.float64)
            module.weight.data[:] = torch.tensor(layer.gamma[0])
            module.bias.data[:] = torch.tensor(layer.beta[0])
            modules.append(module)
            continue
        linear = torch.nn.Linear(layer.W.shape[1], layer.W.shape[0], dtype=torch.float64)
        linear.weight.data[:] = torch.tensor(layer.W)
        linear.bias.data[:] = torch.tensor(layer.b[0])
        modules.append(linear)
        if hasattr(layer, "act"):
            modules.append(torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


@pytest.fixture(scope="module")
def data():
    return load_digits()


def relative_error(actual, expected):
    return np.linalg.norm(actual - expected) / np.linalg.norm(expected)


@pytest.mark.parametrize("layers, sizes", [("ReLU;ReLU;Linear", "64;64;32;10"),
                                           ("ReLU;BatchNormalization;ReLU;Linear", "64;48;32;10")])
@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_training_agrees_with_torch_sgd(data, layers, sizes, optimizer):
    mlp = build_mlp(layers, sizes, optimizer, "He", np.random.default_rng(3))
    model = torch_model(mlp)
    sgd = torch.optim.SGD(model.parameters(), lr=ETA, **OPTIMIZERS[optimizer])
    cross_entropy = torch.nn.CrossEntropyLoss()          # the mean over the batch
    loss = parse_loss("softmax_cross_entropy")

    rng, steps = np.random.default_rng(4), []
    while len(steps) < STEPS:
        steps += batches(len(data.Xtrain), BATCH, rng)
    for step, index in enumerate(steps[:STEPS]):
        X, T = data.Xtrain[index], data.Ttrain[index]
        ours = train_step(mlp, X, T, loss, ETA)
        sgd.zero_grad()
        theirs = cross_entropy(model(torch.tensor(X)), torch.tensor(T.argmax(axis=1)))
        theirs.backward()
        sgd.step()
        assert ours == pytest.approx(theirs.item(), rel=1e-8), f"loss at step {step}"

    twins = [m for m in model if not isinstance(m, torch.nn.ReLU)]
    for layer, module in zip(mlp.layers, twins):
        pairs = ([(layer.gamma[0], module.weight), (layer.beta[0], module.bias)]
                 if isinstance(layer, BatchNormalization) else [(layer.W, module.weight), (layer.b[0], module.bias)])
        for ours, theirs in pairs:
            theirs = theirs.detach().numpy()
            assert relative_error(ours, theirs) < 1e-8
            np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)
