"""Activation functions and their derivatives (spec §5, the table of activation functions).

Each activation is an object ``act`` with ``act(Z)`` = act applied to every element of Z and
``act.gradient(Z)`` = act' applied to every element of Z, as in the spec's code lines
``Y = act(Z)`` and ``DZ = hadamard(DY, act.gradient(Z))``.

Every function below is written **once**, as a formula over a module ``xp`` that offers
``where``, ``maximum``, ``tanh`` and ``exp``: NumPy, torch, ``jax.numpy``, or the SymPy stand-in ``_SymPy``
(where ``where`` becomes a ``Piecewise``). ``_elementwise`` turns such a formula into an
:class:`~nerva_edu.backends.Elementwise`, so ``apply`` runs it vectorized on arrays and
tensors and entry by entry on symbols. The result always has the dtype of the input. The
sigmoid is the one exception: its floating-point form is a rearrangement that keeps full
precision, and symbols get the definition (see ``_sigmoid``).

Parameters (Leaky ReLU's α, SReLU's a_l, t_l, a_r, t_r) are finite numbers, SymPy expressions
or torch or JAX scalars; NaN and ±∞ are rejected where they enter (:func:`check_parameter`).

The derivative conditions are those printed in the spec, including Leaky ReLU's unusual
"α if x < αx" (it equals "x < 0" for α < 1 and is the exact derivative of max(αx, x) for
every α ≠ 1; ``nerva_edu.validation.activations`` proves both).
"""

import math
import numbers

import numpy as np
import sympy as sp

from nerva_edu.backends import Elementwise, kind_name
from nerva_edu.matrix import apply

__all__ = ["ReLU", "LeakyReLU", "AllReLU", "SReLU", "Tanh", "Sigmoid", "sigmoid", "alternating_all_relus"]


def check_parameter(op, name, value):
    """An activation parameter must be a finite number, a SymPy expression or a torch or JAX scalar:
    ValueError for NaN and ±∞ (they would turn every output into NaN), TypeError for anything else."""
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise ValueError(f"{op}: {name} must be a finite number, got {value}")
        return
    if isinstance(value, sp.Basic) or kind_name(value) in ("torch", "jax"):
        return
    raise TypeError(f"{op}: {name} must be a number, a SymPy expression or a torch or JAX scalar, "
                    f"got {type(value).__name__}")


class _SymPy:
    """The few element-wise operations of the formulas below, on one SymPy scalar."""
    where = staticmethod(lambda condition, a, b: sp.Piecewise((a, condition), (b, True)))
    maximum = staticmethod(sp.Max)
    tanh = staticmethod(sp.tanh)
    exp = staticmethod(sp.exp)


class _Torch:
    """torch's element-wise operations, with plain numbers turned into tensors of X's dtype
    (``torch.where(c, 0.1, 1)`` alone would compute in the default float32)."""

    def __init__(self, torch, dtype):
        self.torch, self.dtype = torch, dtype
        self.maximum, self.tanh, self.exp = torch.maximum, torch.tanh, torch.exp

    def where(self, condition, a, b):
        return self.torch.where(condition, self.torch.as_tensor(a, dtype=self.dtype),
                                self.torch.as_tensor(b, dtype=self.dtype))


def _elementwise(name, formula):
    """An Elementwise running ``formula(xp, x)`` with xp = numpy, torch, jax.numpy or _SymPy."""
    def on_torch(X):
        import torch
        return torch.as_tensor(formula(_Torch(torch, X.dtype), X), dtype=X.dtype)

    def on_jax(X):
        import jax.numpy as jnp
        return jnp.asarray(formula(jnp, X), dtype=X.dtype)

    return Elementwise(name,
                       numpy=lambda X: np.asarray(formula(np, X), dtype=X.dtype),
                       torch=on_torch,
                       jax=on_jax,
                       sympy=lambda x: formula(_SymPy, x))


class _Activation:
    """An element-wise activation: ``act(X)`` applies the function, ``act.gradient(X)`` its derivative."""

    function: Elementwise
    derivative: Elementwise

    def __call__(self, X):
        return apply(self.function, X)

    def gradient(self, X):
        return apply(self.derivative, X)

    def __repr__(self):
        return self.function.__name__


class ReLU(_Activation):
    """relu(x) = max(0, x), computed as 0 if x < 0 else x;  relu'(x) = 0 if x < 0, 1 otherwise."""
    function = _elementwise("relu", lambda xp, x: xp.where(x < 0, 0, x))
    derivative = _elementwise("relu'", lambda xp, x: xp.where(x < 0, 0, 1))


class LeakyReLU(_Activation):
    """leaky-relu(x) = max(αx, x);  leaky-relu'(x) = α if x < αx, 1 otherwise (as printed)."""

    def __init__(self, alpha):
        check_parameter("LeakyReLU", "alpha", alpha)
        self.alpha = alpha
        self.function = _elementwise(f"leaky_relu({alpha})", lambda xp, x: xp.maximum(alpha * x, x))
        self.derivative = _elementwise(f"leaky_relu'({alpha})", lambda xp, x: xp.where(x < alpha * x, alpha, 1))


class AllReLU(_Activation):
    """all-relu(x) = αx if x < 0, x otherwise;  all-relu'(x) = α if x < 0, 1 otherwise.

    In a network the sign of α alternates over the layers: see :func:`alternating_all_relus`.
    """

    def __init__(self, alpha):
        check_parameter("AllReLU", "alpha", alpha)
        self.alpha = alpha
        self.function = _elementwise(f"all_relu({alpha})", lambda xp, x: xp.where(x < 0, alpha * x, x))
        self.derivative = _elementwise(f"all_relu'({alpha})", lambda xp, x: xp.where(x < 0, alpha, 1))


def alternating_all_relus(alpha, count):
    """All-ReLU activations for hidden layers 2, 3, 4, ...: parameters −α, α, −α, ... (spec §5)."""
    return [AllReLU(-alpha if i % 2 == 0 else alpha) for i in range(count)]


class SReLU(_Activation):
    """The S-shaped ReLU with parameters a_l, t_l, a_r, t_r (defaults 0, 0, 0, 1, as in the spec).

    The spec says the defaults correspond to ReLU; they do not: with a_r = 0 the right piece
    is the constant t_r = 1, so srelu(x) = min(max(x, 0), 1). ReLU is a_l, t_l, a_r = 0, 0, 1
    (any t_r). See the errata appendix.

    srelu(x) = t_l + a_l(x − t_l) if x ≤ t_l;  x if t_l < x < t_r;  t_r + a_r(x − t_r) if x ≥ t_r,
    where overlapping cases (t_l ≥ t_r) take the first alternative. Besides the derivative
    in x, the SReLU layer needs the derivatives in the four parameters (spec §4, srelu layer):
    ``Al(Z)``, ``Tl(Z)``, ``Ar(Z)``, ``Tr(Z)`` are the matrices A^l, T^l, A^r, T^r.

    The parameters may be numbers, SymPy symbols or torch or JAX scalars (for autograd).
    """

    def __init__(self, al=0, tl=0, ar=0, tr=1):
        for name, value in (("al", al), ("tl", tl), ("ar", ar), ("tr", tr)):
            check_parameter("SReLU", name, value)
        self.al, self.tl, self.ar, self.tr = al, tl, ar, tr
        # The first alternative wins: z is "left" when z ≤ t_l, "right" when not left and z ≥ t_r.
        def srelu(xp, z):
            return xp.where(z <= tl, tl + al * (z - tl), xp.where(z < tr, z, tr + ar * (z - tr)))

        def srelu_prime(xp, z):
            return xp.where(z <= tl, al, xp.where(z < tr, 1, ar))

        self.function = _elementwise("srelu", srelu)
        self.derivative = _elementwise("srelu'", srelu_prime)
        # ∂srelu/∂a_l, ∂srelu/∂t_l, ∂srelu/∂a_r, ∂srelu/∂t_r, element-wise.
        self._Al = _elementwise("A^l", lambda xp, z: xp.where(z <= tl, z - tl, 0))
        self._Tl = _elementwise("T^l", lambda xp, z: xp.where(z <= tl, 1 - al, 0))
        self._Ar = _elementwise("A^r", lambda xp, z: xp.where((z <= tl) | (z < tr), 0, z - tr))
        # The spec prints the condition of T^r as "z ≥ t_r"; with overlapping cases the first
        # alternative wins, so T^r must also be 0 when z ≤ t_l (see the errata appendix).
        self._Tr = _elementwise("T^r", lambda xp, z: xp.where((z <= tl) | (z < tr), 0, 1 - ar))

    def Al(self, Z):
        """A^l: ∂srelu(z)/∂a_l = z − t_l if z ≤ t_l, else 0."""
        return apply(self._Al, Z)

    def Tl(self, Z):
        """T^l: ∂srelu(z)/∂t_l = 1 − a_l if z ≤ t_l, else 0."""
        return apply(self._Tl, Z)

    def Ar(self, Z):
        """A^r: ∂srelu(z)/∂a_r = 0 if z ≤ t_l or z < t_r, else z − t_r."""
        return apply(self._Ar, Z)

    def Tr(self, Z):
        """T^r: ∂srelu(z)/∂t_r = 0 if z ≤ t_l or z < t_r, else 1 − a_r."""
        return apply(self._Tr, Z)


class Tanh(_Activation):
    """tanh(x) = (e^x − e^(−x)) / (e^x + e^(−x));  tanh'(x) = 1 − tanh(x)²."""
    function = _elementwise("tanh", lambda xp, x: xp.tanh(x))
    derivative = _elementwise("tanh'", lambda xp, x: 1 - xp.tanh(x) ** 2)


def _sigmoid(xp, x):
    """σ(x) = 1 / (1 + e^(−x)).

    On symbols this is the definition itself (exact, and the form a derivation shows). On
    numbers it is computed as e^m / (e^m + e^(m−x)) with m = min(x, 0), which is the same
    function (divide by e^m) but evaluates e^(−x) only for x ≥ 0 and e^x only for x < 0: no
    exponent is positive, so nothing overflows, and there is no subtraction to cancel, so the
    result is within a few ulps for every float (1/(1 + e^(−x)) overflows below −709, and
    (1 + tanh(x/2))/2 cancels for x ≪ 0). The exponent m − x is taken as min(−x, 0), its value
    for every x, which also gives σ(−∞) = 0 (where m − x would be −∞ + ∞ = NaN). This is the one
    activation whose symbolic and numeric forms differ; ``nerva_edu.validation.activations``
    proves them equal.
    """
    if xp is _SymPy:
        return 1 / (1 + sp.exp(-x))
    m, m_minus_x = xp.where(x < 0, x, 0), xp.where(x < 0, 0, -x)
    return xp.exp(m) / (xp.exp(m) + xp.exp(m_minus_x))


class Sigmoid(_Activation):
    """σ(x) = 1 / (1 + e^(−x));  σ'(x) = σ(x)(1 − σ(x)), computed as σ(x)·σ(−x).

    1 − σ(x) = σ(−x) (multiply 1 − 1/(1 + e^(−x)) = e^(−x)/(1 + e^(−x)) by e^x/e^x), and the
    product form keeps the relative precision where σ(x) is close to 1: for x = 20,
    1 − σ(x) ≈ 2·10⁻⁹ computed as a difference keeps only about 7 of its 16 digits.
    """
    function = _elementwise("sigmoid", _sigmoid)
    derivative = _elementwise("sigmoid'", lambda xp, x: _sigmoid(xp, x) * _sigmoid(xp, -x))


def sigmoid(X):
    """σ(X), element-wise (used by the logistic cross-entropy loss)."""
    return apply(Sigmoid.function, X)
