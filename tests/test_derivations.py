"""The derivations the book shows: symbolic.derive_gradients, book.show_derivation, book.show_method."""

import numpy as np
import pytest
import sympy as sp

from nerva_edu import book
from nerva_edu.layers import Activation, Linear, SReLULayer, Softmax
from nerva_edu.symbolic import derive_gradients, symbolic_matrix
from nerva_edu.validation.layers import GenericActivation, srelu_point


class ScaledDW(Linear):
    """A linear layer with a wrong DW."""
    def backpropagate(self, Y, DY):
        DX = super().backpropagate(Y, DY)
        self.DW = 2 * self.DW
        return DX


def linear_symbols(N=2, D=3, K=2):
    return symbolic_matrix("x", N, D), symbolic_matrix("w", K, D), symbolic_matrix("b", 1, K)


@pytest.fixture
def displayed(monkeypatch):
    """What the book's helpers display: Code text and Math LaTeX, in order."""
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj.data))
    return shown


def test_derive_gradients_proves_every_gradient_of_a_layer():
    X, W, b = linear_symbols()
    derivations = derive_gradients(Linear(W, b), X)
    assert [d.name for d in derivations] == ["X", "W", "b"]
    assert all(d.proved for d in derivations)
    assert derivations[1].derived.shape == W.shape and derivations[1].difference == sp.zeros(*W.shape)


def test_derive_gradients_detects_a_wrong_gradient():
    X, W, b = linear_symbols()
    derivations = {d.name: d for d in derive_gradients(ScaledDW(W, b), X)}
    assert derivations["X"].proved and derivations["b"].proved
    assert not derivations["W"].proved
    assert sp.expand(derivations["W"].difference - derivations["W"].derived) == sp.zeros(*W.shape)


def test_derive_gradients_uses_a_loss_that_depends_on_every_output():
    # with softmax, a plain sum of the outputs is constant (every row sums to 1): its gradient would be 0
    X, W, b = linear_symbols(1, 1, 2)
    derivations = {d.name: d for d in derive_gradients(Softmax(W, b), X)}
    assert derivations["X"].proved and not sp.simplify(derivations["X"].derived[0, 0]) == 0


def test_derive_gradients_at_a_point_for_piecewise_layers():
    X, W, b = linear_symbols(3, 2, 2)
    a_l, t_l, a_r, t_r = sp.symbols("a_l t_l a_r t_r", real=True)
    derivations = derive_gradients(SReLULayer(W, b, a_l, t_l, a_r, t_r), X, at=srelu_point(overlap=True))
    assert [d.name for d in derivations] == ["X", "W", "b", "al", "tl", "ar", "tr"]
    assert all(d.proved for d in derivations)
    assert not derivations[3].derived.free_symbols - {a_l, a_r} - set(symbolic_matrix("c", 3, 2))


def test_derive_gradients_needs_symbols():
    with pytest.raises(TypeError, match="X must be a SymPy matrix"):
        derive_gradients(Linear(np.ones((2, 3)), np.ones((1, 2))), np.ones((2, 3)))


def test_show_derivation_displays_both_gradients_and_their_difference(displayed):
    X, W, b = linear_symbols()
    layer = Activation(W, b, GenericActivation())
    book.show_derivation(derive_gradients(layer, X), where=[("z", layer.Z)])
    assert len(displayed) == 1 + 3                      # the definition of z_ij, then DX, DW, Db
    assert displayed[0].startswith(r"\text{where}") and "z_{21}" in displayed[0]
    assert all("(backpropagate)" in text and "(sp.diff)" in text for text in displayed[1:])
    assert "b_{11}" not in displayed[1]                 # Z is displayed through its names z_ij


def test_show_derivation_refuses_a_difference_that_does_not_vanish(displayed):
    X, W, b = linear_symbols()
    with pytest.raises(AssertionError, match="does not vanish for DW"):
        book.show_derivation(derive_gradients(ScaledDW(W, b), X))


def test_named_expressions_are_exact():
    # display names replace expressions, also inside an expanded multiple, and nothing else
    x, w, b = sp.symbols("x w b", real=True)
    z = sp.Symbol("z", real=True)
    expression = sp.exp(2 * b + 2 * w * x) / (sp.exp(b + w * x) + 1) + x
    named = book._named(expression, [{b + w * x: z}])
    assert named == sp.exp(2 * z) / (sp.exp(z) + 1) + x
    assert sp.simplify(named.subs(z, b + w * x) - expression) == 0


def test_show_method_follows_the_method_resolution_order(monkeypatch):
    shown = []
    monkeypatch.setattr(book, "_code", lambda text, language: shown.append(text))
    book.show_method(Activation, "backpropagate")
    book.show_method(SReLULayer, "backpropagate")
    book.show_method(Linear, "feedforward")
    activation, srelu, linear = shown
    assert activation.startswith("# WithActivation.backpropagate\ndef backpropagate(self, Y, DY):")
    assert "# Linear.backpropagate" in activation and "self.DW = DY.T @ self.X" in activation
    assert [line for line in srelu.splitlines() if line.startswith("# ")] == [
        "# SReLULayer.backpropagate", "# WithActivation.backpropagate", "# Linear.backpropagate"]
    assert linear.count("# ") == 1


def test_show_method_names_a_missing_method():
    with pytest.raises(ValueError, match="Linear has no method 'backward'"):
        book.show_method(Linear, "backward")


def test_difference_prints_round_off_as_a_bound_and_larger_differences_as_values():
    assert book.difference(0.0) == book.difference(1.1e-16) == "< 1e-14"
    assert book.difference(3.2e-5) == "= 3.2e-05"
    assert book.difference(1e-14) == "= 1.0e-14"
