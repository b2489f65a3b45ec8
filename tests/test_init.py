"""Weight initialization (spec §7): shapes, seeding, bounds, variances, selection by name."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from nerva_edu import init

NAMES = ["Xavier", "NormalizedXavier", "He", "XavierNormal", "HeUniform"]

# the variance of one entry of W, as a function of D and K (module docstring table)
VARIANCE = {
    "Xavier": lambda D, K: 1 / (3 * D),
    "NormalizedXavier": lambda D, K: 2 / (D + K),
    "He": lambda D, K: 2 / D,
    "XavierNormal": lambda D, K: 2 / (D + K),
    "HeUniform": lambda D, K: 2 / D,
}

BOUND = {
    "Xavier": lambda D, K: 1 / math.sqrt(D),
    "NormalizedXavier": lambda D, K: math.sqrt(6 / (D + K)),
    "HeUniform": lambda D, K: math.sqrt(6 / D),
}


@pytest.mark.parametrize("name", NAMES)
def test_variance_matches_the_formula(name):
    K, D = 300, 200
    W = init.weight_initializer(name)(np.random.default_rng(1), K, D)
    assert W.shape == (K, D)
    assert abs(W.mean()) < 0.05 * math.sqrt(VARIANCE[name](D, K))
    assert W.var() == pytest.approx(VARIANCE[name](D, K), rel=0.02)


@settings(max_examples=30, deadline=None)
@given(K=st.integers(1, 20), D=st.integers(1, 20), seed=st.integers(0, 2**32 - 1),
       name=st.sampled_from(sorted(BOUND)))
def test_uniform_initializers_stay_in_their_interval(K, D, seed, name):
    W = init.weight_initializer(name)(np.random.default_rng(seed), K, D)
    assert W.shape == (K, D)
    assert np.all(np.abs(W) <= BOUND[name](D, K))


def test_normalized_xavier_and_he_are_torchs_xavier_uniform_and_kaiming_normal():
    K, D = 400, 300
    T = torch.empty(K, D, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.xavier_uniform_(T)
    assert T.abs().max().item() == pytest.approx(BOUND["NormalizedXavier"](D, K), rel=1e-3)
    torch.nn.init.kaiming_normal_(T, nonlinearity="relu")
    assert T.var().item() == pytest.approx(VARIANCE["He"](D, K), rel=0.02)


def test_same_seed_same_weights_in_float32_and_float64():
    make = init.weight_initializer("He")
    W64 = make(np.random.default_rng(7), 5, 4, np.float64)
    W32 = make(np.random.default_rng(7), 5, 4, np.float32)
    assert W32.dtype == np.float32 and W64.dtype == np.float64
    np.testing.assert_array_equal(W32, W64.astype(np.float32))
    assert not np.array_equal(W64, make(np.random.default_rng(8), 5, 4))


def test_uniform_with_arguments_and_zero():
    W = init.weight_initializer("Uniform(0.5, b=0.75)")(np.random.default_rng(0), 50, 40)
    assert W.min() >= 0.5 and W.max() < 0.75
    W = init.weight_initializer("Uniform")(np.random.default_rng(0), 50, 40)
    assert W.min() >= -1 and W.max() < 1 and W.min() < -0.9
    assert not init.weight_initializer("Zero")(np.random.default_rng(0), 3, 2).any()


def test_bias_initialization():
    b = init.constant_bias(4)
    assert b.shape == (1, 4) and not b.any()
    np.testing.assert_array_equal(init.constant_bias(3, 0.1, np.float32), np.full((1, 3), 0.1, np.float32))


@pytest.mark.parametrize("text, message", [
    ("Glorot", "accepted: Uniform, Xavier, NormalizedXavier, He, XavierNormal, HeUniform, Zero"),
    ("He(2)", "too many arguments"),
    ("Uniform(c=1)", "unknown argument 'c'"),
    ("Uniform(x)", "not a number"),
    ("Uniform(1, 0)", "expected finite a < b"),
    ("Uniform(-1e308, 1e308)", "expected finite a < b"),
    ("He(", "cannot parse"),
])
def test_bad_names_and_arguments_are_rejected(text, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        init.weight_initializer(text)(np.random.default_rng(0), 2, 2)


def test_he_and_xavier_are_distinct_distributions():
    """The selection must not fall through to another branch (nerva-numpy's if/elif bug)."""
    rng = lambda: np.random.default_rng(3)
    results = [init.weight_initializer(name)(rng(), 30, 30) for name in NAMES]
    for i in range(len(results)):
        for j in range(i + 1, len(results)):
            assert not np.allclose(results[i], results[j])


@pytest.mark.parametrize("name", NAMES + ["Uniform(-0.5, 2)", "Zero"])
def test_size_draws_entries_of_the_same_distribution(name):
    """size = count gives the first count entries of the full K×D draw (same stream, hence the
    same distribution), without drawing the other K·D − count entries."""
    make, (K, D) = init.weight_initializer(name), (30, 70)
    full_rng, rng = np.random.default_rng(5), np.random.default_rng(5)
    full = make(full_rng, K, D, np.float32)
    entries = make(rng, K, D, np.float32, size=100)
    assert entries.shape == (100,) and entries.dtype == np.float32
    np.testing.assert_array_equal(entries, full.reshape(-1)[:100])
    if name != "Zero":                                          # Zero draws nothing either way
        assert rng.bit_generator.state != full_rng.bit_generator.state


@pytest.mark.parametrize("name", ["He", "HeUniform"])
def test_entries_drawn_by_size_have_the_variance_of_the_full_matrix(name):
    K, D = 1024, 3072
    entries = init.weight_initializer(name)(np.random.default_rng(2), K, D, size=60_000)
    assert entries.var() == pytest.approx(VARIANCE[name](D, K), rel=0.02)


@pytest.mark.parametrize("size", [-1, 2.5, True, (2, 3)])
def test_bad_sizes_are_rejected(size):
    with pytest.raises(ValueError, match="size must be a non-negative integer"):
        init.weight_initializer("He")(np.random.default_rng(0), 2, 2, size=size)


@pytest.mark.parametrize("name", NAMES)
def test_the_table_of_distributions_is_the_docstring_table(name):
    kind, text, variance = init.DISTRIBUTIONS[name]
    K, D = 7, 5
    assert variance(K, D) == pytest.approx(VARIANCE[name](D, K), rel=1e-15)
    assert (kind == "uniform") == (name in BOUND)
    W = init.weight_initializer(name)(np.random.default_rng(3), 300, 200)
    assert W.var() == pytest.approx(variance(300, 200), rel=0.03)
