"""Validation of the activation functions and their derivatives (spec §5, table of activations).

SymPy: each derivative, with the conditions as printed, equals ``sp.diff`` of the function.
The functions are piecewise, so the proof runs once per piece: the thresholds are written
relative to x (for instance t_l = x + p with a positive symbol p puts x strictly inside the
left piece), which makes every condition decidable while x, the slopes and the offsets
stay symbolic. The kinks themselves, where no derivative exists, are excluded. For SReLU
this covers the three pieces and the two orders of overlapping thresholds (t_l ≥ t_r), and
the derivatives in a_l, t_l, a_r, t_r used by the SReLU layer.
Numeric (with the torch and the JAX oracle): on random float64 inputs, ``act.gradient``
equals the oracle's automatic derivative of ``act``; the SReLU layer's A^l, T^l, A^r, T^r give
the oracle's gradients in the four parameters; tanh and the sigmoid agree with the
framework's own functions, also at ±1e4.
"""

import numpy as np
import sympy as sp

from nerva_edu import activations
from nerva_edu import matrix as M
from nerva_edu.activations import AllReLU, LeakyReLU, ReLU, Sigmoid, SReLU, Tanh
from nerva_edu.registry import register
from nerva_edu.symbolic import assert_equal
from nerva_edu.validation import as_numpy, assert_close

CHAPTER = "book/05-activation-functions"

x = sp.Symbol("x", real=True)
p, q = sp.symbols("p q", positive=True)
al, ar = sp.symbols("a_l a_r", real=True)
tl, tr = sp.symbols("t_l t_r", real=True)


def _scalar(act, method, value):
    """The entry of act.<method> applied to the 1×1 matrix [value]."""
    return getattr(act, method)(sp.Matrix([[value]]))[0, 0]


def _derivative_pieces(make, pieces):
    """SymPy check: act'(x) = d/dx act(x) on every piece, given as substitutions."""
    def check():
        act = make()
        f, derivative = _scalar(act, "__call__", x), _scalar(act, "gradient", x)
        for where, substitution in pieces.items():
            assert_equal(derivative.subs(substitution), sp.diff(f, x).subs(substitution), f"{act}' for {where}")
    return check


def _autodiff(make, scale=2.0):
    """Numeric check: act.gradient(X) equals the oracle's derivative of elements_sum(act(X))."""
    def check(oracle):
        act = make()
        X = oracle.array(np.random.default_rng(5).standard_normal((4, 5)) * scale)
        [expected] = oracle.grad(lambda X: M.elements_sum(act(X)), [X])
        assert_close(act.gradient(X), expected, f"{act}' vs {oracle.name} autodiff")
    return check


NEGATIVE, POSITIVE = {x: -p}, {x: p}
SIGNS = {"x < 0": NEGATIVE, "x > 0": POSITIVE}
alpha = sp.Symbol("alpha", real=True)


def _leaky_relu_printed_condition():
    """Leaky ReLU' as printed ("α if x < αx"): the derivative of max(αx, x), for α = 1/10
    (where the condition means x < 0), for α = 3 (where it means x > 0) and α = −2."""
    for a in (sp.Rational(1, 10), sp.Integer(3), sp.Integer(-2)):
        _derivative_pieces(lambda: LeakyReLU(a), SIGNS)()


def _all_relu_derivative():
    _derivative_pieces(lambda: AllReLU(alpha), SIGNS)()


# SReLU: thresholds relative to x, so that x lies strictly inside one piece.
SRELU_PIECES = {
    "x < t_l < t_r": {tl: x + p, tr: x + p + q},
    "t_l < x < t_r": {tl: x - p, tr: x + q},
    "t_l < t_r < x": {tl: x - p - q, tr: x - p},
    "t_r < x < t_l (overlap: first piece)": {tl: x + p, tr: x - q},
    "t_r < t_l < x (overlap: last piece)": {tl: x - p, tr: x - p - q},
}


def _srelu_derivative():
    _derivative_pieces(lambda: SReLU(al, tl, ar, tr), SRELU_PIECES)()


def _srelu_parameter_derivatives():
    """A^l, T^l, A^r, T^r are the derivatives of srelu in a_l, t_l, a_r, t_r on every piece."""
    act = SReLU(al, tl, ar, tr)
    f = _scalar(act, "__call__", x)
    for method, parameter in (("Al", al), ("Tl", tl), ("Ar", ar), ("Tr", tr)):
        expected = sp.diff(f, parameter)
        for where, substitution in SRELU_PIECES.items():
            assert_equal(_scalar(act, method, x).subs(substitution), expected.subs(substitution),
                         f"{method} = ∂srelu/∂{parameter} for {where}")


def _srelu_parameter_autodiff(oracle, al_, tl_, ar_, tr_):
    """The sums of C ⊙ A^l, ... equal the oracle's gradients of elements_sum(srelu(X) ⊙ C) in the
    four parameters."""
    rng = np.random.default_rng(6)
    X, C = oracle.array(2 * rng.standard_normal((6, 5))), oracle.array(rng.standard_normal((6, 5)))
    parameters = [oracle.scalar(v) for v in (al_, tl_, ar_, tr_)]
    expected = oracle.grad(lambda *p: M.elements_sum(M.hadamard(SReLU(*p)(X), C)), parameters)
    act = SReLU(*parameters)
    for method, gradient in zip(("Al", "Tl", "Ar", "Tr"), expected):
        assert_close(M.elements_sum(M.hadamard(getattr(act, method)(X), C)), gradient,
                     f"SReLU {method} vs {oracle.name} autodiff")


def _srelu_numeric(oracle):
    _autodiff(lambda: SReLU(0.1, -0.5, 0.2, 0.7))(oracle)
    _autodiff(lambda: SReLU(0.1, 0.5, 0.2, -0.3))(oracle)          # overlapping thresholds


def _srelu_parameter_numeric(oracle):
    _srelu_parameter_autodiff(oracle, 0.1, -0.5, 0.2, 0.7)
    _srelu_parameter_autodiff(oracle, 0.1, 0.5, 0.2, -0.3)          # overlapping thresholds


class _SymbolsAsNumbers(activations._SymPy):
    """The SymPy operations, under another name: the formulas take their floating-point branch."""


def _sigmoid_function():
    """σ on symbols is the spec's 1/(1 + e^(−x)); the floating-point form e^m/(e^m + e^(m−x)),
    m = min(x, 0), equals it for x < 0, x = 0 and x > 0; and σ(x)·σ(−x) (the derivative as
    computed) equals the spec's σ(x)(1 − σ(x))."""
    sigma = 1 / (1 + sp.exp(-x))
    assert_equal(_scalar(Sigmoid(), "__call__", x), sigma, "σ(x) on symbols")
    floating = activations._sigmoid(_SymbolsAsNumbers, x)
    for where, substitution in {"x < 0": NEGATIVE, "x = 0": {x: 0}, "x > 0": POSITIVE}.items():
        assert_equal(floating.subs(substitution), sigma.subs(substitution), f"σ(x) as computed on floats, {where}")
    assert_equal(_scalar(Sigmoid(), "gradient", x), sigma * (1 - sigma), "σ'(x) = σ(x)·σ(−x) = σ(x)(1 − σ(x))")


def _tanh_function():
    assert_equal(_scalar(Tanh(), "__call__", x).rewrite(sp.exp), (sp.exp(x) - sp.exp(-x)) / (sp.exp(x) + sp.exp(-x)),
                 "tanh(x)")


def _function(act, reference):
    """Numeric check: act agrees with the oracle's function named ``reference``, also at ±1e4,
    on the oracle's values and on NumPy."""
    def check(oracle):
        X = oracle.array(np.array([[-1e4, -30.0, -1.0, 0.0, 1.0, 30.0, 1e4]]))
        expected = getattr(oracle, reference)(X)
        assert_close(act(X), expected, f"{act} vs {oracle.name}, including ±1e4")
        assert_close(act(as_numpy(X)), expected, f"{act} (NumPy) vs {oracle.name}, including ±1e4")
    return check


def _smooth(make):
    return _derivative_pieces(make, {"every x": {}})


register("relu.derivative", "§5 ReLU", CHAPTER, ReLU, sympy=_derivative_pieces(ReLU, SIGNS), numeric=_autodiff(ReLU))
register("leaky_relu.derivative", "§5 Leaky ReLU", CHAPTER, LeakyReLU, sympy=_leaky_relu_printed_condition,
         numeric=_autodiff(lambda: LeakyReLU(0.1)))
register("all_relu.derivative", "§5 All-ReLU", CHAPTER, AllReLU, sympy=_all_relu_derivative,
         numeric=_autodiff(lambda: AllReLU(-0.3)))
register("srelu.derivative", "§5 SReLU", CHAPTER, SReLU, sympy=_srelu_derivative, numeric=_srelu_numeric)
register("srelu.parameter_derivatives", "§4 srelu layer", CHAPTER, SReLU, sympy=_srelu_parameter_derivatives,
         numeric=_srelu_parameter_numeric)
register("tanh.function", "§5 tanh", CHAPTER, Tanh, sympy=_tanh_function, numeric=_function(Tanh(), "tanh"))
register("tanh.derivative", "§5 tanh", CHAPTER, Tanh, sympy=_smooth(Tanh), numeric=_autodiff(Tanh))
register("sigmoid.function", "§5 sigmoid", CHAPTER, Sigmoid, sympy=_sigmoid_function,
         numeric=_function(Sigmoid(), "sigmoid"))
register("sigmoid.derivative", "§5 sigmoid", CHAPTER, Sigmoid, sympy=_smooth(Sigmoid), numeric=_autodiff(Sigmoid))
