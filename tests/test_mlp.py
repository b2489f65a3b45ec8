"""The MLP: building from a specification, training, evaluation mode, weights on disk."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nerva_edu.datasets import load_digits
from nerva_edu.layers import Activation, BatchNormalization, Linear, SReLULayer
from nerva_edu.mlp import batches, build_mlp, parse_loss, train
from nerva_edu.schedulers import Constant


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def small(dtype=np.float64, seed=0, layers="ReLU;ReLU;Linear", sizes="64;32;16;10", optimizers="Momentum(0.9)"):
    return build_mlp(layers, sizes, optimizers, "He", np.random.default_rng(seed), dtype)


def test_build_from_a_nerva_specification():
    mlp = build_mlp("ReLU;BatchNormalization;SReLU(tr=2);Linear", "64;32;16;10",
                    "Nesterov(0.9);GradientDescent;Momentum(0.5);GradientDescent", "Xavier;He;Zero",
                    np.random.default_rng(0))
    kinds = [type(layer) for layer in mlp.layers]
    assert kinds == [Activation, BatchNormalization, SReLULayer, Linear]
    assert [layer.W.shape for layer in mlp.layers if hasattr(layer, "W")] == [(32, 64), (16, 32), (10, 16)]
    assert mlp.layers[1].beta.shape == (1, 32) and mlp.layers[2].tr == 2.0
    assert [repr(o) for o in mlp.optimizers] == ["Nesterov(mu=0.9)", "GradientDescent()", "Momentum(mu=0.5)",
                                                 "GradientDescent()"]
    assert np.abs(mlp.layers[0].W).max() <= 1 / 8 and not mlp.layers[3].W.any()


@pytest.mark.parametrize("layers, sizes, optimizers, initializers, message", [
    ("ReLU;Relu;Linear", "64;32;16;10", "GradientDescent", "He", "accepted: Linear, ReLU, Sigmoid"),
    ("ReLU;Linear", "64;32;16;10", "GradientDescent", "He", "got 4 sizes for 2 linear layers; expected 3"),
    ("ReLU;Linear", "64;x;10", "GradientDescent", "He", "'x' is not a positive integer"),
    ("ReLU;Linear", "64,32,10", "GradientDescent", "He", "'64,32,10' is not a positive integer"),
    ("ReLU;Linear", "64;32;10", "GradientDescent;Momentum(0.9);GradientDescent", "He", "expected 1 or 2"),
    ("ReLU;Linear", "64;32;10", "SGD", "He", "accepted: GradientDescent, Momentum, Nesterov"),
    ("ReLU;Linear", "64;32;10", "GradientDescent", "Kaiming", "accepted: Uniform, Xavier"),
    ("LeakyReLU;Linear", "64;32;10", "GradientDescent", "He", "missing argument 'alpha'"),
    ("ReLU;;Linear", "64;32;10", "GradientDescent", "He", "semicolon-separated"),
])
def test_bad_specifications_are_rejected_with_what_is_accepted(layers, sizes, optimizers, initializers, message):
    with pytest.raises(ValueError, match=message):
        build_mlp(layers, sizes, optimizers, initializers)


def test_loss_names():
    assert parse_loss("softmax_cross_entropy").name == "softmax_cross_entropy"
    with pytest.raises(ValueError, match="accepted: squared_error, mean_squared_error, cross_entropy"):
        parse_loss("hinge")


def test_batches_are_a_seeded_shuffle_without_the_remainder():
    first = batches(10, 3, np.random.default_rng(1))
    assert [len(b) for b in first] == [3, 3, 3] and len(set(np.concatenate(first))) == 9
    assert all(np.array_equal(a, b) for a, b in zip(first, batches(10, 3, np.random.default_rng(1))))
    with pytest.raises(ValueError, match="must lie in 1..10"):
        batches(10, 11, np.random.default_rng(1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_learns_digits_and_is_reproducible(digits, dtype):
    data = load_digits(dtype=dtype)
    histories = []
    for _ in range(2):
        mlp = small(dtype)
        histories.append(train(mlp, data, parse_loss("softmax_cross_entropy"), Constant(0.05), 3, 32,
                               np.random.default_rng(5), progress=False))
        assert mlp.layers[0].W.dtype == dtype
    first, second = histories
    assert [r.loss for r in first] == [r.loss for r in second]
    assert first[-1].loss < first[0].loss and first[-1].test_accuracy > 0.85
    assert [r.epoch for r in first] == [1, 2, 3] and all(r.seconds > 0 for r in first)


def test_srelu_and_batch_norm_parameters_are_trained(digits):
    mlp = small(layers="SReLU;BatchNormalization;ReLU;Linear")
    train(mlp, digits, parse_loss("softmax_cross_entropy"), Constant(0.05), 1, 32, np.random.default_rng(0),
          progress=False)
    srelu, norm = mlp.layers[0], mlp.layers[1]
    assert (srelu.al, srelu.tl, srelu.ar, srelu.tr) != (0, 0, 0, 1)
    assert norm.gamma.std() > 0 and np.abs(norm.beta).max() > 0


def test_evaluation_mode_does_not_depend_on_the_batch(digits):
    mlp = small(layers="ReLU;BatchNormalization;ReLU;Linear")
    train(mlp, digits, parse_loss("softmax_cross_entropy"), Constant(0.05), 1, 32, np.random.default_rng(0),
          progress=False)
    X = digits.Xtest[:50]
    whole = mlp.predict(X)
    one_by_one = np.concatenate([mlp.predict(X[i:i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-12)
    assert mlp.training                       # predict restores the mode


# one network per layer kind that a model file must restore (trained for a few steps, so that
# every parameter, SReLU's included, and the running statistics have left their initial values)
LAYER_KINDS = ["ReLU;Sigmoid;Linear", "Tanh;LeakyReLU(0.1);Softmax", "AllReLU(-0.3);SReLU(0.1, -0.5, 0.2, 0.7);LogSoftmax",
               "SReLU;BatchNormalization;ReLU;Linear", "BatchNormalization;ReLU;BatchNormalization;Sigmoid;Linear"]


@pytest.mark.parametrize("layers", LAYER_KINDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_predictions_are_bit_identical_after_saving_and_loading(tmp_path, digits, layers, dtype):
    sizes = "64;32;16;10"
    mlp = small(dtype, layers=layers, sizes=sizes)
    data = load_digits(dtype=dtype)
    train(mlp, data, parse_loss("softmax_cross_entropy"), Constant(0.05), 1, 64, np.random.default_rng(0),
          progress=False)
    path = tmp_path / "model"                                  # no .npz suffix: saved exactly there
    mlp.save_weights(path)
    assert path.is_file() and not (tmp_path / "model.npz").exists()
    other = small(dtype, seed=9, layers=layers, sizes=sizes)
    assert not np.array_equal(other.predict(data.Xtest), mlp.predict(data.Xtest))
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(data.Xtest), mlp.predict(data.Xtest))
    for key, (layer, name) in mlp.saved_state().items():
        assert np.asarray(getattr(other.saved_state()[key][0], name)).dtype == np.asarray(getattr(layer, name)).dtype


def test_dropout_layers_round_trip(tmp_path):
    from nerva_edu.activations import ReLU
    from nerva_edu.layers import ActivationDropout, LinearDropout
    from nerva_edu.mlp import MLP
    from nerva_edu.optimizers import GradientDescent
    rng = np.random.default_rng(4)

    def network(seed):
        r = np.random.default_rng(seed)
        return MLP([ActivationDropout(r.standard_normal((5, 4)), np.zeros((1, 5)), ReLU(), 0.8, rng),
                    LinearDropout(r.standard_normal((3, 5)), np.zeros((1, 3)), 0.5, rng)],
                   [GradientDescent(), GradientDescent()])
    mlp, X = network(1), rng.standard_normal((7, 4))
    mlp.save_weights(tmp_path / "d.npz")
    other = network(2)
    other.load_weights(tmp_path / "d.npz")
    np.testing.assert_array_equal(other.predict(X), mlp.predict(X))


def test_a_model_file_holds_nervas_keys_the_running_statistics_and_the_architecture(tmp_path, digits):
    import json
    mlp = small(layers="SReLU;BatchNormalization;ReLU;Linear")
    train(mlp, digits, parse_loss("softmax_cross_entropy"), Constant(0.05), 1, 32, np.random.default_rng(0),
          progress=False)
    path = tmp_path / "weights.npz"
    mlp.save_weights(path)
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == sorted(["format", "kind", "architecture", "W1", "b1", "al1", "tl1", "ar1", "tr1",
                                             "beta1", "gamma1", "running_mean1", "running_variance1",
                                             "W2", "b2", "W3", "b3"])
        np.testing.assert_array_equal(data["W3"], mlp.layers[3].W)
        np.testing.assert_array_equal(data["running_variance1"], mlp.layers[1].running_variance)
        assert str(data["format"]) == "nerva-edu model 1" and str(data["kind"]) == "dense"
        assert json.loads(str(data["architecture"]))[:2] == [
            {"layer": "SReLULayer", "inputs": 64, "outputs": 32},
            {"layer": "BatchNormalization", "size": 32, "epsilon": 1e-05}]


def test_loading_is_all_or_nothing_and_names_the_file_and_the_entry(tmp_path):
    mlp = small()
    path = tmp_path / "w.npz"
    mlp.save_weights(path)
    with np.load(path) as data:
        entries = dict(data)
    before = [layer.W.copy() for layer in mlp.layers]
    for change, message in [
            (dict(W2=np.zeros((16, 33))), r"w.npz: W2 has shape \(16, 33\), the model needs \(16, 32\)"),
            (dict(W3=np.full((10, 16), np.nan)), "W3 holds values that are not finite"),
            (dict(b1=np.zeros((1, 32), dtype=np.int64)), "b1 has dtype int64; expected floating-point values"),
            (dict(W2=np.array("text")), r"W2 has dtype <U4"),
            (dict(W2=np.ones((16, 32), dtype=np.float64) * 1e300), None)]:    # fits float64: loads
        np.savez(path, **{**entries, **change})
        if message is None:
            mlp.load_weights(path)
            continue
        with pytest.raises(ValueError, match=message):
            mlp.load_weights(path)
        for layer, W in zip(mlp.layers, before):                 # W1 was good, and is untouched
            np.testing.assert_array_equal(layer.W, W)
    np.savez(path, **{k: v for k, v in entries.items() if k != "b1"})
    with pytest.raises(ValueError, match="w.npz: missing b1"):
        mlp.load_weights(path)
    float32 = small(np.float32)
    np.savez(path, **entries)
    float32.load_weights(path)                                   # converted to the network's dtype
    assert float32.layers[0].W.dtype == np.float32
    np.savez(path, **{**entries, "W1": np.full((32, 64), 1e300)})
    with pytest.raises(ValueError, match="W1 does not fit in float32"):
        float32.load_weights(path)
    with pytest.raises(ValueError, match=r"holds the network \[Activation relu 64 32; Activation relu 32 16; Linear 16 "
                                         r"10\], not this one \[Activation relu 64 40"):
        small(sizes="64;40;16;10").load_weights(tmp_path / "w.npz")
    (tmp_path / "bad.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="bad.npz: cannot read the model file"):
        mlp.load_weights(tmp_path / "bad.npz")


def test_predict_and_feedforward_accept_an_empty_batch_and_training_refuses_it(digits):
    from nerva_edu.mlp import train_step
    for layers in LAYER_KINDS:
        mlp = small(layers=layers)
        assert mlp.predict(digits.Xtest[:0]).shape == (0, 10)
        statistics = [np.copy(getattr(layer, name)) for layer, name in mlp.saved_state().values()]
        for training in (True, False):                   # batch normalization too: no statistics to take
            mlp.training = training
            assert mlp.feedforward(digits.Xtest[:0]).shape == (0, 10)
        for (layer, name), before in zip(mlp.saved_state().values(), statistics):
            np.testing.assert_array_equal(getattr(layer, name), before)
        with pytest.raises(ValueError, match=r"empty batch: train_step needs at least one example, got X of shape "
                                             r"\(0, 64\)"):
            train_step(mlp, digits.Xtrain[:0], digits.Ttrain[:0], parse_loss("softmax_cross_entropy"), 0.1)


# --- the batch convention: the step follows the gradient of the loss it reports -------------

def _mean_loss_oracle(name, Y, T):
    """The mean loss per example, written with torch's own functions (reduction "mean" where torch has it)."""
    import torch
    import torch.nn.functional as F
    N = Y.shape[0]
    return {
        "squared_error": lambda: ((Y - T) ** 2).sum() / N,
        "mean_squared_error": lambda: F.mse_loss(Y, T),                      # the mean over the K·N entries
        "cross_entropy": lambda: -(T * torch.log(Y)).sum() / N,
        "softmax_cross_entropy": lambda: F.cross_entropy(Y, T),               # the mean over the batch
        "logistic_cross_entropy": lambda: -(T * F.logsigmoid(Y)).sum() / N,
        "negative_log_likelihood": lambda: F.nll_loss(torch.log(Y), T.argmax(dim=1)),
    }[name]()


@pytest.mark.parametrize("name", ["squared_error", "mean_squared_error", "cross_entropy", "softmax_cross_entropy",
                                  "logistic_cross_entropy", "negative_log_likelihood"])
def test_train_step_reports_and_follows_the_mean_loss_per_example(name):
    import copy

    import torch
    from nerva_edu.mlp import PROBABILITY_LOSSES, train_step

    last = "Softmax" if name in PROBABILITY_LOSSES else "Linear"
    mlp = build_mlp(f"Tanh;{last}", "4;5;3", "GradientDescent", "He", np.random.default_rng(3))
    twin = copy.deepcopy(mlp)                  # the same network with torch parameters, for autograd
    parameters = {}
    for i, layer in enumerate(twin.layers):
        for p in layer.parameter_names:
            parameters[i, p] = torch.tensor(getattr(layer, p), requires_grad=True)
            setattr(layer, p, parameters[i, p])
    rng = np.random.default_rng(4)
    X, T = rng.standard_normal((6, 4)), np.eye(3)[rng.integers(0, 3, 6)]
    reported = train_step(mlp, X, T, parse_loss(name), 0.1)
    expected = _mean_loss_oracle(name, twin.feedforward(torch.tensor(X)), torch.tensor(T))
    expected.backward()
    assert reported == pytest.approx(expected.item(), rel=1e-12)
    for (i, p), tensor in parameters.items():
        np.testing.assert_allclose(getattr(mlp.layers[i], "D" + p), tensor.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_mean_squared_error_is_not_divided_by_the_batch_size_twice():
    from nerva_edu.mlp import batch_mean_scale
    assert batch_mean_scale(parse_loss("mean_squared_error"), 32) == 1
    assert batch_mean_scale(parse_loss("squared_error"), 32) == 1 / 32


# --- the unit of the learning-rate schedule --------------------------------------------------

def _rates_used(unit, epochs=3, N=10, batch_size=4, scheduler=None):
    """The learning rates that training_loop passes to the steps of ``epochs`` epochs (N // batch_size batches
    each), by default with StepBased(1, 0.5, 1)."""
    from types import SimpleNamespace

    from nerva_edu.mlp import training_loop
    from nerva_edu.schedulers import StepBased
    data = SimpleNamespace(Xtrain=np.zeros((N, 1)), Ttrain=np.zeros((N, 1)), Xtest=np.zeros((2, 1)),
                           Ttest=np.zeros((2, 1)))
    used = []
    training_loop(lambda X, T, eta: used.append(eta) or 0.0, lambda X, T: 1.0, data,
                  scheduler or StepBased(1.0, 0.5, 1), epochs, batch_size, np.random.default_rng(0), progress=False,
                  schedule_unit=unit)
    return used


def test_the_schedule_counts_epochs_by_default_and_steps_on_request():
    assert _rates_used("epoch") == [1, 1, 0.5, 0.5, 0.25, 0.25]          # i = epoch − 1, once per epoch
    assert _rates_used("step") == [1, 0.5, 0.25, 0.125, 0.0625, 0.03125]  # i = 0, 1, 2, ... per step
    with pytest.raises(ValueError, match="schedule unit: expected one of epoch, step, got 'batch'"):
        _rates_used("batch")


@settings(max_examples=30, deadline=None)
@given(eta0=st.floats(0.01, 1), d=st.floats(0.1, 1), r=st.integers(1, 4), batches=st.integers(1, 4),
       epochs=st.integers(1, 6))
def test_a_step_based_schedule_per_epoch_is_one_per_step_with_r_times_the_batches(eta0, d, r, batches, epochs):
    from nerva_edu.schedulers import StepBased
    per_epoch = _rates_used("epoch", epochs, N=3 * batches, batch_size=3, scheduler=StepBased(eta0, d, r))
    per_step = _rates_used("step", epochs, N=3 * batches, batch_size=3, scheduler=StepBased(eta0, d, r * batches))
    assert per_epoch == per_step and len(per_step) == epochs * batches


def test_train_passes_the_schedule_unit(digits):
    from nerva_edu.schedulers import StepBased
    histories = {unit: train(small(), digits, parse_loss("softmax_cross_entropy"), StepBased(0.05, 0.5, 1), 2, 500,
                             np.random.default_rng(5), progress=False, schedule_unit=unit) for unit in ("epoch", "step")}
    assert histories["epoch"][0].loss == histories["step"][0].loss      # the first step has η_0 in both
    assert histories["epoch"][1].loss != histories["step"][1].loss
