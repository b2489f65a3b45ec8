"""Two independent automatic differentiations behind one interface: torch and JAX.

The numeric checks of the registry are written once, against an *oracle*, and run with
both: a check takes the library's code, runs it on the oracle's float64 values, and
compares what the code computes (a gradient DX, DW, ...) with what the oracle's automatic
differentiation computes for the same function. Two frameworks that share no code agree
with the batch matrix-form equations, or the check says where they do not.

An oracle offers

- ``array(A)`` and ``scalar(a)``: float64 values of its kind from NumPy arrays and numbers;
- ``vjp(f, inputs, DY)``: the vector-Jacobian product DY·J of f at ``inputs``, that is the
  gradients of elements_sum(f(*inputs) ⊙ DY) with respect to every input (a list, one
  gradient of the shape of each input, zeros for an input f does not use). With a scalar
  f and DY = 1 these are the gradients of f (``grad``);
- ``jacobian(f, x)``: the Jacobian of a row-vector function at a row vector x (D×D);
- the framework's own functions used as references: ``softmax``, ``log_softmax``,
  ``log_sigmoid``, ``sigmoid``, ``tanh`` (rows of a batch for the softmax functions).

torch differentiates by recording the operations on tensors (``torch.autograd.grad``); JAX
by tracing the function (``jax.vjp``), which runs the library's code on tracers, so a check
with JAX also shows that the code never updates a value in place. JAX computes in float32
unless 64-bit mode is on: the JAX oracle switches it on when it is first used
(``jax.config.update("jax_enable_x64", True)``), which is what these float64 checks need;
it stays on for the rest of the process.
"""

import numpy as np


class TorchOracle:
    """Reverse-mode automatic differentiation by torch.autograd, in float64."""

    name = "torch"

    def __init__(self):
        import torch
        self.torch = torch

    def array(self, A):
        return self.torch.tensor(np.asarray(A, dtype=np.float64))

    def scalar(self, a):
        return self.torch.tensor(float(a), dtype=self.torch.float64)

    def vjp(self, f, inputs, DY):
        inputs = [value.detach().clone().requires_grad_(True) for value in inputs]
        return list(self.torch.autograd.grad(f(*inputs), inputs, grad_outputs=DY, materialize_grads=True))

    def grad(self, f, inputs):
        return self.vjp(f, inputs, self.scalar(1))

    def jacobian(self, f, x):
        D = x.shape[1]
        return self.torch.autograd.functional.jacobian(f, x).reshape(D, D)

    def softmax(self, X):
        return self.torch.softmax(X, dim=1)

    def log_softmax(self, X):
        return self.torch.log_softmax(X, dim=1)

    def log_sigmoid(self, X):
        return self.torch.nn.functional.logsigmoid(X)

    def sigmoid(self, X):
        return self.torch.sigmoid(X)

    def tanh(self, X):
        return self.torch.tanh(X)


class JaxOracle:
    """Reverse-mode automatic differentiation by jax.vjp, in float64 (64-bit mode on)."""

    name = "jax"

    def __init__(self):
        import jax
        jax.config.update("jax_enable_x64", True)
        self.jax, self.jnp = jax, jax.numpy

    def array(self, A):
        return self.jnp.asarray(np.asarray(A, dtype=np.float64))

    def scalar(self, a):
        return self.jnp.asarray(float(a), dtype=self.jnp.float64)

    def vjp(self, f, inputs, DY):
        _, pullback = self.jax.vjp(f, *inputs)
        return list(pullback(DY))

    def grad(self, f, inputs):
        return self.vjp(f, inputs, self.scalar(1))

    def jacobian(self, f, x):
        D = x.shape[1]
        return self.jax.jacrev(f)(x).reshape(D, D)

    def softmax(self, X):
        return self.jax.nn.softmax(X, axis=1)

    def log_softmax(self, X):
        return self.jax.nn.log_softmax(X, axis=1)

    def log_sigmoid(self, X):
        return self.jax.nn.log_sigmoid(X)

    def sigmoid(self, X):
        return self.jax.nn.sigmoid(X)

    def tanh(self, X):
        return self.jnp.tanh(X)


ORACLES = {"torch": TorchOracle, "jax": JaxOracle}
_MADE = {}


def oracle(name):
    """The oracle named "torch" or "jax" (made once, when first asked for)."""
    if name not in _MADE:
        _MADE[name] = ORACLES[name]()
    return _MADE[name]
