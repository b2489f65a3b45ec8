"""Every registered equation of spec §4–6 (layers, activations, softmax, losses, lemmas and
properties, backpropagation through a whole network) passes its SymPy proof and its torch and JAX
comparisons, and every equation with a torch check has a JAX check; the checks detect wrong code;
printed forms that look wrong but are right; ``nerva-edu check --json``. (The errata are
executable claims in ``nerva_edu.errata``, run by tests/test_errata.py.)"""

import json
import subprocess
import sys

import numpy as np
import pytest

from nerva_edu import registry
from nerva_edu.layers import Linear
from nerva_edu.validation import layers as layer_validation
from nerva_edu.validation import losses as loss_validation

MODULES = ["nerva_edu.validation.layers", "nerva_edu.validation.activations", "nerva_edu.validation.softmax",
           "nerva_edu.validation.losses", "nerva_edu.validation.lemmas", "nerva_edu.validation.network"]
EQUATIONS = [e for e in registry.all_equations() if e.sympy.__module__ in MODULES or
             (e.numeric is not None and e.numeric.__module__ in MODULES)]


def test_the_expected_equations_are_registered():
    ids = {e.id for e in EQUATIONS}
    for expected in ["linear.backward", "activation.backward", "srelu.backward", "softmax_layer.backward",
                     "log_softmax_layer.backward", "batch_norm.backward", "batch_norm.evaluation",
                     "linear_dropout.backward", "activation_dropout.backward", "relu.derivative",
                     "srelu.parameter_derivatives", "softmax.jacobian", "log_softmax.jacobian",
                     "log_softmax.derivation", "softmax_cross_entropy.gradient", "negative_log_likelihood.gradient",
                     "lemma.product_rule.5", "lemma.chain_rule.9", "property.10", "property.15", "network.depth1",
                     "network.depth2", "network.depth3", "network.batch_norm", "network.softmax",
                     "network.log_softmax", "network.inductive_step"]:
        assert expected in ids
    assert all(e.sympy is not None for e in EQUATIONS)


@pytest.mark.parametrize("kind", ["sympy", "torch", "jax"])
@pytest.mark.parametrize("equation", EQUATIONS, ids=lambda e: e.id)
def test_registered_equation_holds(equation, kind):
    ok, reason = registry.run_check(getattr(equation, kind))
    assert ok is not False, reason


def test_every_equation_with_a_torch_check_has_a_jax_check():
    equations = registry.all_equations()
    assert [e.id for e in equations if e.torch is not None and e.jax is None] == []
    assert sum(e.jax is not None for e in equations) >= 60


def test_a_torch_only_comparison_needs_a_numeric_check():
    with pytest.raises(ValueError, match="a torch-only comparison needs a numeric check beside it"):
        registry.register("no.such.equation", "§0", "book/03-matrix-operations", Linear, sympy=lambda: None,
                          torch_only=lambda: None)


# --- the checks can fail --------------------------------------------------------------------

class ScaledDX(Linear):
    """A linear layer with a wrong DX."""
    def backpropagate(self, Y, DY):
        return 2 * super().backpropagate(Y, DY)


def build_wrong_linear(values, N, D, K):
    X, W, b = layer_validation._linear_parameters(values, N, D, K)
    return ScaledDX(W, b), X, {}


@pytest.mark.parametrize("oracle", ["torch", "jax"])
def test_layer_checks_detect_a_wrong_gradient(oracle):
    with pytest.raises(AssertionError, match="ScaledDX DX"):
        layer_validation.sympy_gradients(build_wrong_linear, [(2, 2, 2)])()
    with pytest.raises(AssertionError, match=f"ScaledDX DX vs {oracle} autodiff"):
        layer_validation.autodiff_gradients(build_wrong_linear, [(2, 2, 2)])(registry.oracle(oracle))


@pytest.mark.parametrize("oracle", ["torch", "jax"])
def test_loss_checks_detect_a_wrong_gradient(oracle):
    from nerva_edu import losses as L
    wrong = lambda y, t: 3 * (y - t)      # noqa: E731
    wrong.__name__ = "wrong"
    with pytest.raises(AssertionError, match="∇_y squared_error: difference does not vanish"):
        loss_validation._sympy(L.squared_error, wrong, L.squared_error_batch, L.squared_error_batch_gradient)()
    with pytest.raises(AssertionError, match=f"wrong vs {oracle} autodiff"):
        loss_validation._autodiff(L.squared_error, wrong, L.squared_error_batch,
                                  L.squared_error_batch_gradient)(registry.oracle(oracle))


# --- printed forms checked and found right (the errata are in nerva_edu.errata) ------------------


def test_printed_leaky_relu_condition_is_right_for_every_alpha():
    """'α if x < αx' is unusual but correct: it is where max(αx, x) = αx, for every α ≠ 1."""
    x = np.linspace(-3, 3, 13)
    for alpha in (0.1, 3.0, -2.0):
        slope = np.where(alpha * x > x, alpha, 1.0)
        assert np.array_equal(np.where(x < alpha * x, alpha, 1.0), slope)


# --- the command line ---------------------------------------------------------------------------

def test_check_writes_json_and_exits_0(tmp_path):
    path = tmp_path / "check.json"
    result = subprocess.run([sys.executable, "-m", "nerva_edu.cli", "check", "--only", "softmax", "--json", str(path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "softmax.jacobian" in result.stdout
    rows = json.loads(path.read_text())
    assert {row["id"] for row in rows} >= {"softmax.jacobian", "softmax_layer.backward",
                                           "softmax_cross_entropy.gradient"}
    for row in rows:
        assert set(row) == {"id", "spec_ref", "sympy", "torch", "jax"}
        assert row["sympy"] is True and row["torch"] in (True, None) and row["jax"] == row["torch"]


def test_a_framework_that_is_not_installed_is_a_column_not_run(monkeypatch):
    import importlib.util
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jax" else find_spec(name, *a))
    [result] = registry.validate("linear.backward")
    assert (result["sympy"], result["torch"], result["jax"], result["failures"]) == (True, True, None, [])
    table = registry.format_table([result])
    assert "jax: not installed, its checks were not run (pip install 'nerva-edu[jax]')" in table
