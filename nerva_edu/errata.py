"""Errata of the Nerva specification, as executable claims.

Each entry shows a formula as the spec prints it, the corrected form that ``nerva_edu``
implements, and an ``evidence`` function that demonstrates both: it returns a short report
when the printed form fails and the corrected form holds, and raises AssertionError if
either claim stops being true. The errata appendix of the book prints these reports, and
``tests/test_errata.py`` runs them all.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np
import sympy as sp

from nerva_edu import matrix as M
from nerva_edu.symbolic import is_zero, row_vector, symbolic_matrix


@dataclass(frozen=True)
class Erratum:
    id: str
    spec_ref: str
    printed: str          # LaTeX, as printed
    corrected: str        # LaTeX, as implemented
    explanation: str
    evidence: Callable[[], str]


def _ill_typed(build):
    """True if building the expression raises SymPy's shape (or type) error."""
    try:
        build()
    except (sp.ShapeError, TypeError):
        return True
    return False


def _means():
    X = symbolic_matrix("x", 3, 2)
    printed_columns_mean = M.ones(3, like=X).T @ X / 2          # (1_mᵀX)/n with n = 2
    assert not is_zero(printed_columns_mean - M.columns_mean(X))
    assert is_zero(M.columns_mean(X) - sp.Matrix([[sum(X.col(j)) / 3 for j in range(2)]]))
    Xn = np.arange(6.0).reshape(3, 2)
    return (f"X = {Xn.tolist()}: printed columns_mean = {(Xn.sum(0) / 2).tolist()}, "
            f"the mean of each column = {M.columns_mean(Xn)[0].tolist()}")


def _dropout_mask_shape():
    K, D = 2, 3
    W, R_listed = symbolic_matrix("w", K, D), symbolic_matrix("r", K, D)
    try:
        M.hadamard(W.T, R_listed)
    except ValueError as error:
        assert M.shape(M.hadamard(W.T, symbolic_matrix("r", D, K))) == (D, K)
        return f"with R of shape (K, D) = {(K, D)}: {error}"
    raise AssertionError("Wᵀ ⊙ R with R ∈ ℝ^(K×D) did not fail")


def _activation_dropout_code_line():
    N, D, K = 4, 3, 2
    DZ, X, R = np.ones((N, K)), np.ones((N, D)), np.ones((D, K))
    printed = M.hadamard(DZ.T @ X, R.T)
    assert printed.shape == (K, D) != DZ.shape
    return (f"hadamard(DZ.T * X, R.T) has shape {printed.shape} (the shape of W, so it is DW); "
            f"DZ has shape {DZ.shape}")


def _srelu_defaults():
    from nerva_edu.activations import ReLU, SReLU
    x = np.array([[-1.0, 0.5, 2.0, 5.0]])
    srelu, relu = SReLU()(x), ReLU()(x)
    assert not np.array_equal(srelu, relu)
    assert np.array_equal(SReLU(0, 0, 1, 1)(x), relu)
    return f"x = {x[0].tolist()}: srelu with (0, 0, 0, 1) = {srelu[0].tolist()}, relu = {relu[0].tolist()}"


def _srelu_Tr():
    from nerva_edu.activations import SReLU
    al, ar, tl, tr, z = sp.symbols("a_l a_r t_l t_r z", real=True)
    f = SReLU(al, tl, ar, tr)(sp.Matrix([[z]]))[0, 0]
    point = {z: sp.Rational(1, 2), tl: 1, tr: 0}
    printed = sp.Piecewise((1 - ar, z >= tr), (0, True)).subs(point)
    derivative = sp.diff(f, tr).subs(point)
    assert derivative == 0 and printed == 1 - ar
    assert SReLU(al, tl, ar, tr).Tr(sp.Matrix([[z]]))[0, 0].subs(point) == 0
    return f"at z = 1/2, t_l = 1, t_r = 0: ∂srelu/∂t_r = {derivative}, printed T^r = {printed}"


def _bn_equation_21():
    s = sp.Symbol("sigma", positive=True)
    r = sp.Matrix(sp.symbols("r_1:3", real=True))
    assert _ill_typed(lambda: s ** sp.Rational(-1, 2) - r * r.T)
    assert (s ** sp.Rational(-1, 2) * sp.eye(2) - r * r.T).shape == (2, 2)
    return "SymPy refuses σ^(-1/2) − r·rᵀ (a scalar minus an N×N matrix); σ^(-1/2)·𝕀_N − r·rᵀ is N×N"


def _softmax_label():
    from nerva_edu.softmax import log_softmax_batch, softmax_batch, stable_softmax_batch
    X = np.array([[0.5, -1.0, 2.0]])
    Z = X - M.column_repeat(M.rows_max(X), 3)
    printed = M.hadamard(M.exp(Z), M.column_repeat(M.reciprocal(M.rows_sum(M.exp(Z))), 3))
    assert np.allclose(printed, softmax_batch(X)) and np.allclose(printed, stable_softmax_batch(X))
    assert not np.allclose(printed, log_softmax_batch(X))
    return (f"x = {X[0].tolist()}: the printed right-hand side = {np.round(printed[0], 4).tolist()} = softmax(x); "
            f"log-softmax(x) = {np.round(log_softmax_batch(X)[0], 4).tolist()}")


def _derivation_28():
    y = row_vector("y", 3, positive=True)
    step = M.Diag(M.reciprocal(y)) @ (M.Diag(y) - y.T @ y)
    printed = M.identity(3, like=y) - M.Diag(y) @ y.T @ y
    corrected = M.identity(3, like=y) - M.Diag(M.reciprocal(y)) @ y.T @ y
    assert not is_zero(step - printed) and is_zero(step - corrected)
    assert is_zero(corrected - (M.identity(3, like=y) - M.ones(3, like=y) @ y))
    return "Diag(1/y)·(Diag(y) − yᵀy) − (𝕀 − Diag(y)·yᵀy) ≠ 0, while with Diag(1/y) the difference simplifies to 0"


def _lce_derivation():
    t = sp.Symbol("t", real=True)
    sigma = 1 / (1 + sp.exp(-t))
    derivative = sp.diff(sp.log(sigma), t)
    assert sp.simplify(derivative - (1 - sigma)) == 0
    assert sp.simplify(derivative - (1 - sp.log(sigma))) != 0
    value = float(derivative.subs(t, 0)), float((1 - sp.log(sigma)).subs(t, 0))
    return f"at t = 0: d/dt log σ(t) = {value[0]:.4f}, the printed 1 − log σ(t) = {value[1]:.4f}"


def _nll_batch():
    N, K = 2, 3
    Y, T = symbolic_matrix("y", N, K, positive=True), symbolic_matrix("t", N, K, positive=True)
    inner = -M.ones(N, like=Y).T @ M.log(M.hadamard(Y, T) @ M.ones(K, like=Y))
    assert inner.shape == (1, 1) and _ill_typed(lambda: inner @ M.ones(K, like=Y))
    return f"−1_Nᵀ·log((Y⊙T)·1_K) is already 1×1; multiplying by 1_K ({K}×1) raises ShapeError"


def _init_labels():
    rng = np.random.default_rng(0)
    D, K = 400, 100
    samples = {"U(±1/√D)": rng.uniform(-1, 1, 200_000) / np.sqrt(D),
               "U(±√6/√(D+K))": rng.uniform(-1, 1, 200_000) * np.sqrt(6 / (D + K)),
               "N(0, √(2/D))": rng.normal(0, np.sqrt(2 / D), 200_000)}
    expected = {"U(±1/√D)": 1 / (3 * D), "U(±√6/√(D+K))": 2 / (D + K), "N(0, √(2/D))": 2 / D}
    for name, values in samples.items():
        assert abs(values.var() / expected[name] - 1) < 0.02
    return ("sample variances (D = 400, K = 100): " +
            ", ".join(f"{name}: {values.var():.2e}" for name, values in samples.items()) +
            f"; Glorot's normalized initialization has variance 2/(D+K) = {2 / (D + K):.2e}, He's 2/D = {2 / D:.2e}")


def _time_based():
    from nerva_edu.schedulers import TimeBased
    eta0, d = 0.1, 0.1
    printed = [eta0]
    for i in range(20):
        printed.append(printed[-1] / (1 + d * i))
    assert printed[20] < eta0 / 2e5 and abs(TimeBased(eta0, d)(20) - eta0 / 3) < 1e-15
    return f"η₀ = 0.1, d = 0.1: the printed recursion gives η₂₀ = {printed[20]:.2e}; η₀/(1 + 20d) = {eta0 / 3:.4f}"


def _multi_step():
    from nerva_edu.schedulers import MultiStep
    milestones, gamma, i = (2, 4), 0.5, 8
    printed_exponent = sum(i // m for m in milestones)
    assert printed_exponent == 6 and MultiStep(1.0, gamma, milestones)(i) == gamma ** 2
    return (f"milestones {{2, 4}} at i = 8: the printed exponent is {printed_exponent}; two milestones have passed, "
            f"so Γ² is meant")


def _table2_one_dimensional():
    from nerva_edu import table2
    flattened = [(e, column) for e in table2.TABLE2 for column in ("numpy", "torch")
                 if table2.run(e, column).status == "shape"]
    expected = {"diag(X)"} | {f"{kind}_{reduction}(X)" for kind in ("columns", "rows")
                              for reduction in ("sum", "max", "mean")}
    assert {e.operation for e, _ in flattened} == expected and len(flattened) == 2 * len(expected)
    assert all(table2.run(e, column, e.corrected[column]).passed for e, column in flattened)
    X = np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0], [4.0, 6.0, 9.0]])
    printed = X - np.max(X, axis=1)                      # Z = X − rows_max(X)·1ᵀ with the printed cell
    corrected = X - np.max(X, axis=1, keepdims=True)
    assert not np.all(printed.max(axis=1) == 0) and np.all(corrected.max(axis=1) == 0)
    example = table2.run(table2.entry("columns_sum(X)"), "numpy")
    return (f"{len(flattened)} cells give 1-D results, e.g. {example.code}: {example.detail} "
            f"A 1-D result is then broadcast as a row: for a 3×3 X, X − max(X,axis=1) raises nothing and subtracts "
            f"the maximum of row i from column i (the rows' maxima become {printed.max(axis=1).tolist()}, not 0); "
            f"with keepdims=True they are {corrected.max(axis=1).tolist()}")


def _table2_numpy_Diag():
    from nerva_edu import table2
    entry = table2.entry("Diag(x)")
    printed = table2.run(entry, "numpy")
    assert printed.status == "wrong" and table2.run(entry, "numpy", entry.corrected["numpy"]).passed
    x = np.array([[2.0, 3.0, 4.0]])
    assert np.diag(x).shape == (1,) and np.array_equal(np.diag(x.flatten()), M.Diag(x))
    return (f"np.diag of a 2-D array extracts its diagonal instead of building a matrix: for x = {x.tolist()}, "
            f"diag(x) = {np.diag(x).tolist()}; diag(x.flatten()) is the 3×3 Diag(x) (the PyTorch cell's form)")


def _table2_eigen_log_sigmoid():
    from nerva_edu import table2
    entry = table2.entry("log_sigmoid(X)")
    verdicts = {column: table2.run(entry, column) for column in ("numpy", "torch", "eigen")}
    assert verdicts["eigen"].status == "unsafe" and verdicts["numpy"].passed and verdicts["torch"].passed
    assert table2.run(entry, "eigen", entry.corrected["eigen"]).passed
    x = np.array([[-700.0, -710.0, -1000.0]])
    printed = table2.evaluate("eigen", entry.cpp, {"X": x})
    assert np.isfinite(printed[0, 0]) and np.all(np.isinf(printed[0, 1:]))
    return (f"in C++ ({entry.cpp}), for x = {x[0].tolist()}: {printed[0].tolist()}, while log σ(x) = "
            f"{M.log_sigmoid(x)[0].tolist()}: e^(−x) overflows once −x exceeds about 709. "
            f"The NumPy and PyTorch cells stay finite")


ERRATA = [
    Erratum("table1.means", "§3 Table 1",
            r"\mathrm{columns\_mean}(X) = (1_m^\top X)/n,\quad \mathrm{rows\_mean}(X) = (X 1_n)/m",
            r"\mathrm{columns\_mean}(X) = (1_m^\top X)/m,\quad \mathrm{rows\_mean}(X) = (X 1_n)/n",
            "A column of an m×n matrix has m entries, a row has n: the divisors are swapped.", _means),
    Erratum("notation.dropout_mask", "§4 notation",
            r"R\in\mathbb{R}^{K\times D}", r"R\in\mathbb{R}^{D\times K}",
            "R multiplies Wᵀ (D×K) element-wise in Y = X(Wᵀ ⊙ R) + 1_N·b, so it must have that shape.",
            _dropout_mask_shape),
    Erratum("activation_dropout.code", "§4 activation dropout layer",
            r"\texttt{DZ = hadamard(DZ.T * X, R.T)}", r"\texttt{DW = hadamard(DZ.T * X, R.T)}",
            "The code line computes the weight gradient (the equation beside it is DW = (DZᵀX) ⊙ Rᵀ); "
            "assigning it to DZ would overwrite DZ with a K×D matrix.", _activation_dropout_code_line),
    Erratum("srelu.defaults", "§5 SReLU",
            r"a_l, t_l, a_r, t_r = 0, 0, 0, 1 \text{ corresponds to ReLU}",
            r"a_l, t_l, a_r, t_r = 0, 0, 0, 1 \text{ gives } \min(\max(x, 0), 1);\ \text{ReLU needs } a_r = 1",
            "With a_r = 0 the right piece t_r + a_r(x − t_r) is the constant 1. The library keeps the spec's "
            "defaults and documents what they give.", _srelu_defaults),
    Erratum("srelu.Tr", "§4 srelu layer",
            r"T^r_{ij} = 1 - a_r \text{ if } Z_{ij}\ge t_r,\ 0 \text{ otherwise}",
            r"T^r_{ij} = 0 \text{ if } Z_{ij}\le t_l \lor Z_{ij} < t_r,\ 1 - a_r \text{ otherwise}",
            "When the pieces overlap (t_l ≥ t_r) the spec takes the first alternative, as A^r's condition does; "
            "T^r must follow the same rule.", _srelu_Tr),
    Erratum("batch_norm.21", "eq. (21)",
            r"\sigma^{-\frac12} - r^j\frac{\sigma^{-\frac32}}{2}\frac{2(r^j)^\top}{N}",
            r"\sigma^{-\frac12}\,\mathbb{I}_N - r^j\frac{\sigma^{-\frac32}}{2}\frac{2(r^j)^\top}{N}",
            "The Jacobian ∂r/∂r is the identity matrix, not 1; the printed form subtracts a matrix from a scalar. "
            "(22) is right.", _bn_equation_21),
    Erratum("softmax.table_label", "§5.1",
            r"\text{log-softmax}(X) = e^Z\odot\big(\tfrac{1}{e^Z 1_D}1_D^\top\big)",
            r"\text{stable-softmax}(X) = e^Z\odot\big(\tfrac{1}{e^Z 1_D}1_D^\top\big)",
            "The right-hand side is the batch version of the stable softmax printed just above it; the label "
            "log-softmax belongs to the next line.", _softmax_label),
    Erratum("derivation.28", "eq. (28)",
            r"\tfrac{\partial}{\partial y}\log(y)\,\tfrac{\partial}{\partial x}\mathrm{softmax}(x) \overset{(??)}{=} "
            r"\mathrm{Diag}(\tfrac1y)\big(\mathrm{Diag}(y) - y^\top y\big) = \mathbb{I}_D - \mathrm{Diag}(y)\,y^\top y",
            r"\tfrac{\partial}{\partial y}\log(y)\,\tfrac{\partial}{\partial x}\mathrm{softmax}(x) \overset{(26)}{=} "
            r"\mathrm{Diag}(\tfrac1y)\big(\mathrm{Diag}(y) - y^\top y\big) = \mathbb{I}_D - \mathrm{Diag}(\tfrac1y)\,y^\top y",
            "The step after the one marked (??) keeps Diag(y) where Diag(1/y) is distributed; the reference (??) "
            "is eq. (26), the Jacobian of softmax. The final result (27) is right.", _derivation_28),
    Erratum("logistic_cross_entropy.derivation", "§6.1",
            r"\tfrac{d}{dt}\log(\sigma(t)) = 1 - \log(\sigma(t))",
            r"\tfrac{d}{dt}\log(\sigma(t)) = 1 - \sigma(t)",
            "The 'well known fact' has a stray log; the gradient (32) that the derivation reaches is right.",
            _lce_derivation),
    Erratum("negative_log_likelihood.batch", "eq. (33)",
            r"\mathcal{L}_{NLL}(Y,T) = -1_N^\top\log((Y\odot T)1_K)\,1_K",
            r"\mathcal{L}_{NLL}(Y,T) = -1_N^\top\log((Y\odot T)1_K)",
            "The trailing 1_K makes the expression ill-typed for K > 1.", _nll_batch),
    Erratum("init.table_labels", "§7",
            r"\text{Normalized Xavier: } U(\pm\tfrac{1}{\sqrt D}),\quad \text{He: } U(\pm\tfrac{\sqrt6}{\sqrt{D+K}}),\quad \text{(unlabeled): } \mathcal{N}(0,\sqrt{2/D})",
            r"\text{Xavier: } U(\pm\tfrac{1}{\sqrt D}),\quad \text{Normalized Xavier: } U(\pm\tfrac{\sqrt6}{\sqrt{D+K}}),\quad \text{He: } \mathcal{N}(0,\sqrt{2/D})",
            "The labels are shifted down by one row: Glorot and Bengio's 'normalized initialization' is "
            "U(±√6/√(D+K)) and He et al.'s is N(0, √(2/D)). This reading rests on the text copy of the spec "
            "that this project has, where each distribution is followed by a name and the last one has none; "
            "the typeset table may pair them differently. The evidence, the variance of each distribution, "
            "holds either way.", _init_labels),
    Erratum("scheduler.time_based", "§9",
            r"\eta_{i+1} = \frac{\eta_i}{1 + d\cdot i}", r"\eta_i = \frac{\eta_0}{1 + d\cdot i}",
            "The recursion compounds the decay, η_i = η₀/∏_{j<i}(1 + d·j), and collapses; time-based decay "
            "is η₀/(1 + d·i), as in Keras's SGD decay argument and InverseTimeDecay.", _time_based),
    Erratum("scheduler.multi_step", "§9",
            r"\eta_i = \eta_0\,\Gamma^{\sum_j \lfloor i/m_j\rfloor}", r"\eta_i = \eta_0\,\Gamma^{\sum_j [\,i\ge m_j\,]}",
            "A milestone decays the rate once, when it is reached (torch's MultiStepLR); the printed exponent "
            "keeps decaying at every multiple of every milestone.", _multi_step),
    Erratum("table2.one_dimensional", "§3 Table 2, NumPy and PyTorch",
            r"\texttt{sum(X,axis=0)},\ \texttt{max(X,dim=1).values},\ \texttt{diag(X)},\ \dots",
            r"\texttt{sum(X,axis=0,keepdims=True)},\ \texttt{max(X,dim=1,keepdim=True).values},\ "
            r"\texttt{diag(X).reshape(-1,1)},\ \dots",
            "The six reductions (columns_ and rows_ sum, max, mean) and diag drop an axis in NumPy and PyTorch: "
            "Table 1 promises a 1×n row or an m×1 column, the cells return a 1-D array, which later "
            "broadcasts as a row. Keeping the axis restores the promised shape.", _table2_one_dimensional),
    Erratum("table2.numpy_Diag", "§3 Table 2, NumPy",
            r"\mathrm{Diag}(x):\ \texttt{diag(x)}", r"\mathrm{Diag}(x):\ \texttt{diag(x.flatten())}",
            "For a row or column vector stored as a 2-D array, np.diag returns its (one-element) diagonal; it "
            "builds a diagonal matrix only from a 1-D array.", _table2_numpy_Diag),
    Erratum("table2.eigen_log_sigmoid", "§3 Table 2, Eigen",
            r"\mathrm{log\_sigmoid}(X):\ \texttt{-log1p(exp(-X.array()))}",
            r"\mathrm{log\_sigmoid}(X) = \min(X, 0) - \log(1 + e^{-|X|})",
            "The printed form computes e^(−x), which overflows for large negative x and turns log σ(x) ≈ x into "
            "−inf. Checked through its C++ equivalent in cpp/matrix_ops.h (Eigen is not installed here); the "
            "corrected form is the one matrix_ops.h implements.", _table2_eigen_log_sigmoid),
]
