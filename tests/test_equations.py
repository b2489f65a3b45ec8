"""Every registered equation of spec §4–6 (layers, activations, softmax, losses, lemmas and
properties) passes its SymPy proof and its torch comparison; the checks detect wrong code;
the spec's printed forms that are wrong (errata) really fail; ``nerva-edu check --json``."""

import json
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from nerva_edu import matrix as M
from nerva_edu import registry
from nerva_edu.activations import SReLU
from nerva_edu.layers import Linear
from nerva_edu.symbolic import is_zero, row_vector, symbolic_matrix
from nerva_edu.softmax import softmax
from nerva_edu.validation import layers as layer_validation
from nerva_edu.validation import losses as loss_validation

MODULES = ["nerva_edu.validation.layers", "nerva_edu.validation.activations", "nerva_edu.validation.softmax",
           "nerva_edu.validation.losses", "nerva_edu.validation.lemmas"]
EQUATIONS = [e for e in registry.all_equations() if e.sympy.__module__ in MODULES or
             (e.torch is not None and e.torch.__module__ in MODULES)]


def test_the_expected_equations_are_registered():
    ids = {e.id for e in EQUATIONS}
    for expected in ["linear.backward", "activation.backward", "srelu.backward", "softmax_layer.backward",
                     "log_softmax_layer.backward", "batch_norm.backward", "batch_norm.evaluation",
                     "linear_dropout.backward", "activation_dropout.backward", "relu.derivative",
                     "srelu.parameter_derivatives", "softmax.jacobian", "log_softmax.jacobian",
                     "log_softmax.derivation", "softmax_cross_entropy.gradient", "negative_log_likelihood.gradient",
                     "lemma.product_rule.5", "lemma.chain_rule.9", "property.10", "property.15"]:
        assert expected in ids
    assert all(e.sympy is not None for e in EQUATIONS)


@pytest.mark.parametrize("kind", ["sympy", "torch"])
@pytest.mark.parametrize("equation", EQUATIONS, ids=lambda e: e.id)
def test_registered_equation_holds(equation, kind):
    ok, reason = registry.run_check(getattr(equation, kind))
    assert ok is not False, reason


# --- the checks can fail --------------------------------------------------------------------

class ScaledDX(Linear):
    """A linear layer with a wrong DX."""
    def backpropagate(self, Y, DY):
        return 2 * super().backpropagate(Y, DY)


def build_wrong_linear(values, N, D, K):
    X, W, b = layer_validation._linear_parameters(values, N, D, K)
    return ScaledDX(W, b), X, {}


def test_layer_checks_detect_a_wrong_gradient():
    with pytest.raises(AssertionError, match="ScaledDX DX"):
        layer_validation.sympy_gradients(build_wrong_linear, [(2, 2, 2)])()
    with pytest.raises(AssertionError, match="ScaledDX DX vs autograd"):
        layer_validation.torch_gradients(build_wrong_linear, [(2, 2, 2)])()


def test_loss_checks_detect_a_wrong_gradient():
    from nerva_edu import losses as L
    wrong = lambda y, t: 3 * (y - t)      # noqa: E731
    wrong.__name__ = "wrong"
    with pytest.raises(AssertionError, match="∇_y squared_error: difference does not vanish"):
        loss_validation._sympy(L.squared_error, wrong, L.squared_error_batch, L.squared_error_batch_gradient)()
    with pytest.raises(AssertionError, match="wrong vs autograd"):
        loss_validation._autograd(L.squared_error, wrong, L.squared_error_batch, L.squared_error_batch_gradient)()


# --- errata: the printed forms that fail ---------------------------------------------------------

def test_erratum_srelu_Tr_condition_with_overlapping_thresholds():
    """Printed: T^r = 1 − a_r if z ≥ t_r. With t_r < z ≤ t_l the first piece applies, so ∂srelu/∂t_r = 0."""
    al, ar, tl, tr, z = sp.symbols("a_l a_r t_l t_r z", real=True)
    f = SReLU(al, tl, ar, tr)(sp.Matrix([[z]]))[0, 0]
    point = {z: sp.Rational(1, 2), tl: 1, tr: 0}
    printed = sp.Piecewise((1 - ar, z >= tr), (0, True))
    assert sp.diff(f, tr).subs(point) == 0
    assert printed.subs(point) == 1 - ar
    assert SReLU(al, tl, ar, tr).Tr(sp.Matrix([[z]]))[0, 0].subs(point) == 0


def test_erratum_derivation_28_third_step():
    """Printed: Diag(1/y)·(Diag(y) − yᵀy) = 𝕀_D − Diag(y)·yᵀ·y; it is 𝕀_D − Diag(1/y)·yᵀ·y."""
    y = row_vector("y", 3, positive=True)
    step1 = M.Diag(M.reciprocal(y)) @ (M.Diag(y) - y.T @ y)
    printed = M.identity(3, like=y) - M.Diag(y) @ y.T @ y
    assert not is_zero(step1 - printed)


def test_erratum_lce_derivative_of_log_sigmoid():
    """Printed: d/dt log σ(t) = 1 − log σ(t); it is 1 − σ(t)."""
    t = sp.Symbol("t", real=True)
    sigma = 1 / (1 + sp.exp(-t))
    assert sp.simplify(sp.diff(sp.log(sigma), t) - (1 - sigma)) == 0
    assert sp.simplify(sp.diff(sp.log(sigma), t) - (1 - sp.log(sigma))) != 0


def test_erratum_batch_nll_is_ill_typed():
    """Printed: L_NLL(Y, T) = −1_Nᵀ·log((Y ⊙ T)·1_K)·1_K: a 1×1 times a K×1 matrix (K > 1)."""
    N, K = 2, 3
    Y, T = symbolic_matrix("y", N, K, positive=True), symbolic_matrix("t", N, K, positive=True)
    inner = -M.ones(N, like=Y).T @ M.log(M.hadamard(Y, T) @ M.ones(K, like=Y))
    with pytest.raises(sp.ShapeError):
        inner @ M.ones(K, like=Y)


def test_erratum_linear_dropout_mask_shape():
    """Notation list: R ∈ ℝ^(K×D); but Wᵀ ⊙ R needs R ∈ ℝ^(D×K) (for K ≠ D)."""
    K, D = 2, 3
    W, R_as_listed = symbolic_matrix("w", K, D), symbolic_matrix("r", K, D)
    with pytest.raises(ValueError, match="hadamard"):
        M.hadamard(W.T, R_as_listed)


def test_erratum_log_softmax_label_is_the_stable_softmax():
    """Printed 'log-softmax(X) = e^Z ⊙ (1/(e^Z·1_D)·1_Dᵀ)' is the stable softmax, not log-softmax."""
    from nerva_edu.softmax import log_softmax_batch, stable_softmax_batch
    X = np.array([[0.5, -1.0, 2.0]])
    assert not np.allclose(stable_softmax_batch(X), log_softmax_batch(X))
    assert np.allclose(stable_softmax_batch(X), softmax(X))


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
        assert set(row) == {"id", "spec_ref", "sympy", "torch"}
        assert row["sympy"] is True and row["torch"] in (True, None)
