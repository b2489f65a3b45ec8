"""JAX as a fourth kind of value: every matrix operation agrees with NumPy on random shapes
(float64 and float32); the layers, activations, softmax functions, losses and optimizers run
unchanged on JAX arrays and agree with NumPy; nothing is updated in place; bad input gets the
same one-line errors as NumPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from nerva_edu import activations, losses, matrix as M, softmax as S
from nerva_edu.layers import (ActivationDropout, BatchNormalization, Linear, LinearDropout, LogSoftmax, Softmax,
                              SReLULayer)
from nerva_edu.layers.activation import Activation
from nerva_edu.mlp import build_mlp, train_step
from nerva_edu.optimizers import GradientDescent, Momentum, Nesterov

jax.config.update("jax_enable_x64", True)        # the float64 comparisons; float32 is asked for explicitly

dims = st.integers(min_value=1, max_value=3)      # every new shape costs JAX a compilation per operation
finite = st.floats(min_value=-20, max_value=20, allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.01, max_value=50, allow_nan=False, allow_infinity=False)
DTYPES = {np.float64: 1e-12, np.float32: 1e-5}       # dtype: relative tolerance


def matrices(elements=finite, rows=dims, cols=dims):
    return st.tuples(rows, cols).flatmap(lambda shape: arrays(np.float64, shape, elements=elements))


def assert_jax_agrees(operation, *args, dtype=np.float64):
    """operation on JAX arrays (of ``dtype``) gives a JAX value of that dtype equal to NumPy's."""
    numpy_args = [a.astype(dtype) if isinstance(a, np.ndarray) else a for a in args]
    expected = operation(*numpy_args)
    actual = operation(*[jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in numpy_args])
    assert M.kind(actual) == "jax"
    assert np.asarray(actual).dtype == np.asarray(expected).dtype
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=DTYPES[dtype], atol=DTYPES[dtype])


UNARY = ["elements_sum", "columns_sum", "rows_sum", "columns_max", "rows_max", "columns_mean", "rows_mean",
         "exp", "log_sigmoid"]
POSITIVE_UNARY = ["log", "reciprocal", "sqrt", "inv_sqrt"]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", UNARY)
@settings(max_examples=4, deadline=None)
@given(X=matrices())
def test_unary_operations_agree_with_numpy(name, dtype, X):
    assert_jax_agrees(getattr(M, name), X, dtype=dtype)


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", POSITIVE_UNARY)
@settings(max_examples=4, deadline=None)
@given(X=matrices(elements=positive))
def test_positive_operations_agree_with_numpy(name, dtype, X):
    assert_jax_agrees(getattr(M, name), X, dtype=dtype)


@pytest.mark.parametrize("dtype", list(DTYPES))
@settings(max_examples=6, deadline=None)
@given(data=st.data(), m=dims, n=dims)
def test_binary_repeat_and_diagonal_operations_agree_with_numpy(dtype, data, m, n):
    X, Y = (data.draw(arrays(np.float64, (m, n), elements=finite)) for _ in range(2))
    row = data.draw(arrays(np.float64, (1, n), elements=finite))
    col = data.draw(arrays(np.float64, (m, 1), elements=finite))
    square = data.draw(arrays(np.float64, (m, m), elements=finite))
    for operation, args in ((M.hadamard, (X, Y)), (M.row_repeat, (row, m)), (M.column_repeat, (col, n)),
                            (M.dot, (col, col)), (M.dot, (row, row)), (M.Diag, (row,)), (M.Diag, (col,)),
                            (M.diag, (square,)), (lambda f, A: M.apply(f, A), (activations.Tanh().function, X)),
                            (lambda A: M.apply(lambda x: x * x + 1, A), (X,)), (lambda A: A @ A.T, (X,))):
        assert_jax_agrees(operation, *args, dtype=dtype)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
@given(m=dims, n=dims)
@settings(max_examples=3, deadline=None)
def test_constructors_follow_the_kind_and_dtype_of_like(dtype, m, n):
    like = jnp.zeros((1, 1), dtype=dtype)
    for value, expected in ((M.zeros(m, n, like=like), np.zeros((m, n))), (M.ones(m, like=like), np.ones((m, 1))),
                            (M.identity(n, like=like), np.eye(n))):
        assert M.kind(value) == "jax" and value.dtype == dtype
        np.testing.assert_array_equal(np.asarray(value), expected)


def test_tracers_are_jax_values():
    """Inside jax.grad and jax.jit the library's code sees tracers; they dispatch to the JAX backend."""
    kinds = []

    def f(X):
        kinds.append(M.kind(X))
        return M.elements_sum(M.exp(X))
    X = jnp.ones((2, 3))
    jax.grad(f)(X)
    jax.jit(f)(X)
    assert kinds == ["jax", "jax"]


@pytest.mark.parametrize("call, message", [
    (lambda xp: M.hadamard(xp.ones((2, 3)), xp.ones((3, 2))), "hadamard: shapes must be equal, got (2, 3) and (3, 2)"),
    (lambda xp: M.row_repeat(xp.ones((2, 1)), 3), "row_repeat: expected a row vector (1×n), got shape (2, 1)"),
    (lambda xp: M.diag(xp.ones((2, 3))), "diag: expected a square matrix, got shape (2, 3)"),
    (lambda xp: M.columns_sum(xp.ones(3)), "columns_sum: expected a 2-D matrix, got shape (3,)"),
    (lambda xp: Linear(xp.ones((2, 3)), xp.ones((1, 2))).feedforward(xp.ones((4, 2))),
     "Linear.feedforward: X has shape (4, 2), expected (N, 3) to match W of shape (2, 3)"),
    (lambda xp: Linear(xp.ones((2, 3)), xp.ones((2, 1))), "Linear: b has shape (2, 1), expected (1, 2)"),
    (lambda xp: losses.LOSSES["squared_error"](xp.ones((2, 3)), xp.ones((3, 2))),
     "squared_error_batch: output and target must have the same shape, got (2, 3) and (3, 2)"),
])
def test_bad_shapes_give_the_same_one_line_error_as_numpy(call, message):
    errors = []
    for xp in (np, jnp):
        with pytest.raises(ValueError) as error:
            call(xp)
        errors.append(str(error.value))
    assert errors[0] == errors[1] and message in errors[1] and "\n" not in errors[1]


def test_mixed_kinds_raise_type_error():
    with pytest.raises(TypeError, match="hadamard: both operands must be of one kind, got numpy and jax"):
        M.hadamard(np.ones((2, 2)), jnp.ones((2, 2)))
    with pytest.raises(TypeError, match="X is a numpy value, but the layer's parameters are jax values"):
        Linear(jnp.ones((2, 3)), jnp.ones((1, 2))).feedforward(np.ones((4, 3)))


# --- layers, activations, softmax functions and losses: unchanged code on JAX values ---------------

def _layers(rng, D, K):
    W, b = rng.standard_normal((K, D)), rng.standard_normal((1, K))
    return {"Linear": lambda W, b: Linear(W, b),
            "ReLU": lambda W, b: Activation(W, b, activations.ReLU()),
            "LeakyReLU": lambda W, b: Activation(W, b, activations.LeakyReLU(0.1)),
            "AllReLU": lambda W, b: Activation(W, b, activations.AllReLU(-0.3)),
            "Sigmoid": lambda W, b: Activation(W, b, activations.Sigmoid()),
            "Tanh": lambda W, b: Activation(W, b, activations.Tanh()),
            "SReLU": lambda W, b: SReLULayer(W, b, 0.1, -0.5, 0.2, 0.7),
            "Softmax": lambda W, b: Softmax(W, b),
            "LogSoftmax": lambda W, b: LogSoftmax(W, b),
            "LinearDropout": lambda W, b: LinearDropout(W, b, 0.7, rng=np.random.default_rng(1)),
            "ActivationDropout": lambda W, b: ActivationDropout(W, b, activations.ReLU(), 0.7,
                                                                rng=np.random.default_rng(1)),
            }, W, b


def _outputs(layer, X, C):
    Y = layer.feedforward(X)
    DX = layer.backpropagate(Y, C)
    return [Y, DX] + [getattr(layer, "D" + name) for name in layer.parameter_names]


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("name", list(_layers(np.random.default_rng(0), 1, 1)[0]))
@settings(max_examples=3, deadline=None)
@given(N=dims, D=dims, K=dims, seed=st.integers(0, 1000))
def test_every_layer_agrees_with_numpy(name, dtype, N, D, K, seed):
    rng = np.random.default_rng(seed)
    makers, W, b = _layers(rng, D, K)
    X, C = rng.standard_normal((N, D)), rng.standard_normal((N, K))
    expected = _outputs(makers[name](W.astype(dtype), b.astype(dtype)), X.astype(dtype), C.astype(dtype))
    to = lambda A: jnp.asarray(A.astype(dtype))      # noqa: E731
    actual = _outputs(makers[name](to(W), to(b)), to(X), to(C))
    for a, e in zip(actual, expected):
        assert np.asarray(a).dtype == np.asarray(e).dtype
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), rtol=100 * DTYPES[dtype], atol=100 * DTYPES[dtype])


@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization_agrees_with_numpy_with_its_running_statistics(training):
    rng = np.random.default_rng(3)
    beta, gamma, X, C = (rng.standard_normal(shape) for shape in ((1, 3), (1, 3), (5, 3), (5, 3)))
    results = []
    for convert in (np.asarray, jnp.asarray):
        layer = BatchNormalization(convert(beta), convert(gamma))
        layer.feedforward(convert(X))                     # moves the running statistics
        layer.training = training
        results.append(_outputs(layer, convert(X), convert(C)) + [layer.running_mean, layer.running_variance])
    for actual, expected in zip(*results[::-1]):
        np.testing.assert_allclose(np.asarray(actual), expected, rtol=1e-10, atol=1e-12)


def test_softmax_functions_and_losses_agree_with_numpy():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((3, 4))
    T = np.eye(4)[[0, 3, 1]]
    P = S.stable_softmax_batch(X)
    functions = [(f, (X,)) for f in (S.softmax_batch, S.stable_softmax_batch, S.log_softmax_batch,
                                      S.stable_log_softmax_batch)]
    functions += [(f, (X[:1],)) for f in (S.softmax, S.stable_softmax, S.log_softmax, S.stable_log_softmax,
                                           S.softmax_jacobian, S.log_softmax_jacobian)]
    for loss in losses.LOSSES.values():
        Y = P if loss.name in ("cross_entropy", "negative_log_likelihood") else X
        functions += [(loss, (Y, T)), (loss.gradient, (Y, T))]
    for f, args in functions:
        assert_jax_agrees(f, *args)


@pytest.mark.parametrize("rule", [GradientDescent(), Momentum(0.9), Nesterov(0.9)], ids=repr)
def test_optimizers_give_new_values_on_jax_and_agree_with_numpy(rule):
    """JAX arrays are immutable: the augmented assignments of the rules make new arrays, which
    LayerOptimizer assigns to the layer; the trajectory equals NumPy's, whose arrays are updated
    in place."""
    rng = np.random.default_rng(5)
    theta0, gradients = rng.standard_normal((3, 2)), rng.standard_normal((4, 3, 2))
    results = {}
    for convert in (np.asarray, jnp.asarray):
        theta, state = convert(theta0.copy()), rule.init_state(convert(theta0))
        for g in gradients:
            before = theta
            theta, state = rule.step(theta, convert(g), 0.1, state)
            assert (theta is before) == (convert is np.asarray)        # in place on NumPy only
        results[convert] = np.asarray(theta)
    np.testing.assert_allclose(results[jnp.asarray], results[np.asarray], rtol=1e-12)


def test_a_training_step_runs_on_jax_values_and_agrees_with_numpy():
    from nerva_edu.jax_training import to_jax
    rng = np.random.default_rng(6)
    X, T = rng.standard_normal((8, 5)), np.eye(3)[rng.integers(0, 3, 8)]
    spec = ("ReLU;BatchNormalization;SReLU;Linear", "5;6;4;3", "Nesterov(0.9)")
    numpy_mlp, jax_mlp = build_mlp(*spec), build_mlp(*spec)
    to_jax(jax_mlp)
    loss = losses.LOSSES["softmax_cross_entropy"]
    for _ in range(3):
        expected = train_step(numpy_mlp, X, T, loss, 0.05)
        assert train_step(jax_mlp, jnp.asarray(X), jnp.asarray(T), loss, 0.05) == pytest.approx(expected, rel=1e-12)
    expected = {key: getattr(layer, name) for key, (layer, name) in numpy_mlp.saved_state().items()}
    for key, (layer, name) in jax_mlp.saved_state().items():
        np.testing.assert_allclose(np.asarray(getattr(layer, name)), expected[key], rtol=1e-10, err_msg=key)
    assert M.kind(jax_mlp.layers[0].W) == "jax"
