"""The MLP: building from a specification, training, evaluation mode, weights on disk."""

import numpy as np
import pytest

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


def test_save_and_load_weights_in_nervas_layout(tmp_path, digits):
    mlp = small(layers="SReLU;BatchNormalization;ReLU;Linear")
    train(mlp, digits, parse_loss("softmax_cross_entropy"), Constant(0.05), 1, 32, np.random.default_rng(0),
          progress=False)
    path = tmp_path / "weights.npz"
    mlp.save_weights(path)
    with np.load(path) as data:
        assert sorted(data.files) == sorted(["W1", "b1", "al1", "tl1", "ar1", "tr1", "beta1", "gamma1",
                                             "W2", "b2", "W3", "b3"])
        np.testing.assert_array_equal(data["W3"], mlp.layers[3].W)
        assert data["b1"].shape == (1, 32)
    other = small(seed=9, layers="SReLU;BatchNormalization;ReLU;Linear")
    other.load_weights(path)
    for key, (layer, name) in mlp.parameters().items():
        np.testing.assert_array_equal(getattr(other.parameters()[key][0], name), getattr(layer, name))


def test_load_weights_errors_name_the_file_and_the_key(tmp_path):
    mlp = small()
    path = tmp_path / "w.npz"
    np.savez(path, W1=np.zeros((32, 64)), b1=np.zeros((1, 32)), W2=np.zeros((16, 33)))
    with pytest.raises(ValueError, match=r"w.npz: W2 has shape \(16, 33\), the network needs \(16, 32\)"):
        mlp.load_weights(path)
    np.savez(path, W1=np.zeros((32, 64)))
    with pytest.raises(ValueError, match="w.npz: no array 'b1'"):
        mlp.load_weights(path)
    (tmp_path / "bad.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="bad.npz: cannot read weights"):
        mlp.load_weights(tmp_path / "bad.npz")
