"""Table 2 of the specification (§3), run entry by entry on the table's own 2-D semantics.

Table 2 spells each operation of Table 1 in NumPy (and JAX), PyTorch, TensorFlow and Eigen. ``TABLE2``
keeps every cell exactly as printed. ``run(entry, column)`` runs one cell and returns a ``Verdict``
(``validate(entry)`` the four of a row):

- the NumPy and PyTorch cells are evaluated as printed, with the names of the ``numpy`` module
  (``torch`` and ``torch.nn.functional``), so the verdict is what a reader who copies the cell gets;
- the JAX column is the NumPy cell (the table prints one column "NumPy (and JAX)"), evaluated with the
  names of ``jax.numpy`` on JAX arrays in 64-bit mode, so float64 inputs stay float64;
- an Eigen cell runs through its C++ equivalent (``Entry.cpp``): the same expression written with the
  operations of ``cpp/matrix_ops.h``, compiled with cppyy. Eigen itself is not installed, so what is
  checked is the expression, not Eigen's spelling of it;
- TensorFlow is not installed: its cells are shown, not run.

The inputs have the shapes of Table 1: X, Y ∈ ℝ^(m×n) and Z ∈ ℝ^(n×k) with m, n, k = 3, 4, 2 (all
different, so that a transposed or flattened result shows), a row vector x ∈ ℝ^(1×n) or a column vector
x ∈ ℝ^(m×1) where the operation takes one. Each cell runs twice, on values of order 1 and on values of
order 1000, and is compared, shape and values, with ``nerva_edu.matrix``, whose functions the equation
registry proves equal to Table 1's definitions in SymPy. The table's small constant e is 1e-8.
"""

import hashlib
import re
from dataclasses import dataclass, field

import numpy as np

from nerva_edu import matrix as M

SIZES = {"m": 3, "n": 4, "k": 2}
EPSILON = 1e-8
COLUMNS = ("numpy", "jax", "torch", "tensorflow", "eigen")
COLUMN_TITLES = {"numpy": "NumPy", "jax": "JAX", "torch": "PyTorch", "tensorflow": "TensorFlow", "eigen": "Eigen"}
# The column whose printed cell a column runs, where it has none of its own.
_PRINTED = {"jax": "numpy", "eigen": "cpp"}

# The element-wise function of the row apply(f, X), for each kind of value and in C++.
_F = {"numpy": np.tanh, "cpp": "[](double v) { return std::tanh(v); }"}


@dataclass(frozen=True)
class Entry:
    """One row of Table 2: the operation (Table 1's code) and its four printed spellings.

    ``cpp`` is the Eigen cell written with the operations of ``cpp/matrix_ops.h``; ``reference``
    the same operation in ``nerva_edu.matrix`` (default: the operation's own code); ``shapes``
    the input shapes that differ from the defaults, one dictionary per case; ``positive`` asks
    for positive inputs (log, square roots, reciprocals); ``corrected`` the spelling that gives
    what Table 1 promises, for a cell that does not.
    """
    operation: str
    numpy: str
    torch: str
    tensorflow: str
    eigen: str
    cpp: str
    reference: str = ""
    shapes: tuple = ({},)
    positive: bool = False
    corrected: dict = field(default_factory=dict)

    def correction(self, column):
        """The corrected spelling of this entry's cell in ``column`` (the JAX column's is the NumPy one's)."""
        return self.corrected["numpy" if column == "jax" else column]


def _keepdims(column, function, axis):
    """The corrected spelling of a reduction: keep the reduced axis (NumPy's keepdims, torch's keepdim)."""
    if column == "numpy":
        return f"{function}(X,axis={axis},keepdims=True)"
    values = ".values" if function == "max" else ""
    return f"{function}(X,dim={axis},keepdim=True){values}"


def _reduction(name, function, axis, cpp_name):
    numpy, torch = f"{function}(X,axis={axis})", f"{function}(X,dim={axis})"
    if function == "max":
        torch += ".values"
    tf = f"reduce_{function}(X,axis={axis})"
    eigen = f"X.{'colwise' if axis == 0 else 'rowwise'}().{'maxCoeff' if function == 'max' else function}()"
    return Entry(f"{name}(X)", numpy, torch, tf, eigen, f"{cpp_name}(X)",
                 corrected={column: _keepdims(column, function, axis) for column in ("numpy", "torch")})


TABLE2 = [
    Entry("zeros(m,n)", "zeros((m,n))", "zeros(m,n)", "zeros([m,n])", "Zero(m,n)", "zeros(m, n)"),
    Entry("ones(m,n)", "ones((m,n))", "ones(m,n)", "ones([m,n])", "Ones(m,n)", "ones(m, n)"),
    Entry("identity(n)", "eye(n)", "eye(n)", "eye(n)", "Identity(n,n)", "identity(n)"),
    Entry("X.T", "X.T", "X.T", "X.T", "X.transpose()", "transpose(X)"),
    Entry("c * X", "c * X", "c * X", "c * X", "c * X", "c * X"),
    Entry("X + Y", "X + Y", "X + Y", "X + Y", "X + Y", "X + Y"),
    Entry("X - Y", "X - Y", "X - Y", "X - Y", "X - Y", "X - Y"),
    Entry("X * Z", "X @ Z", "X @ Z", "X @ Z", "X * Z", "product(X, Z)", reference="X @ Z"),
    Entry("hadamard(X,Y)", "X * Y", "X * Y", "multiply(X,Y)", "X.array() * Y.array()", "hadamard(X, Y)"),
    Entry("diag(X)", "diag(X)", "diag(X)", "diag_part(X)", "X.diagonal()", "diag(X)",
          shapes=({"X": ("n", "n")},),
          corrected={"numpy": "diag(X).reshape(-1,1)", "torch": "diag(X).reshape(-1,1)"}),
    Entry("Diag(x)", "diag(x)", "diag(x.flatten())", "diag(reshape(x,[-1]))", "x.asDiagonal()", "Diag(x)",
          shapes=({"x": (1, "n")}, {"x": ("m", 1)}), corrected={"numpy": "diag(x.flatten())"}),
    Entry("elements_sum(X)", "sum(X)", "sum(X)", "reduce_sum(X)", "X.sum()", "elements_sum(X)"),
    Entry("column_repeat(x,n)", "tile(x,(1,n))", "x.repeat(1,n)", "tile(x,[1,n])", "x.replicate(1,n)",
          "column_repeat(x, n)", shapes=({"x": ("m", 1)},)),
    Entry("row_repeat(x,m)", "tile(x,(m,1))", "x.repeat(m,1)", "tile(x,[m,1])", "x.replicate(m,1)",
          "row_repeat(x, m)", shapes=({"x": (1, "n")},)),
    _reduction("columns_sum", "sum", 0, "columns_sum"),
    _reduction("rows_sum", "sum", 1, "rows_sum"),
    _reduction("columns_max", "max", 0, "columns_max"),
    _reduction("rows_max", "max", 1, "rows_max"),
    _reduction("columns_mean", "mean", 0, "columns_mean"),
    _reduction("rows_mean", "mean", 1, "rows_mean"),
    Entry("apply(f,X)", "f(X)", "f(X)", "f(X)", "X.unaryExpr(f)", "apply(f, X)"),
    Entry("exp(X)", "exp(X)", "exp(X)", "exp(X)", "X.array().exp()", "exp(X)"),
    Entry("log(X)", "log(X)", "log(X)", "log(X)", "X.array().log()", "log(X)", positive=True),
    Entry("reciprocal(X)", "1 / X", "1 / X", "inverse(X)", "X.array().inverse()", "reciprocal(X)", positive=True),
    Entry("sqrt(X)", "sqrt(X)", "sqrt(X)", "sqrt(X)", "X.array().sqrt()", "sqrt(X)", positive=True),
    Entry("inv_sqrt(X)", "reciprocal(sqrt(X+e))", "reciprocal(sqrt(X+e))", "reciprocal(sqrt(X+e))",
          "reciprocal(sqrt(X.array()+e))", "reciprocal(sqrt(X + e * ones(X.rows(), X.cols())))",
          reference="inv_sqrt(X, e)", positive=True),
    Entry("log_sigmoid(X)", "-logaddexp(0,-X)", "-softplus(-X)", "-softplus(-X)", "-log1p(exp(-X.array()))",
          "-1.0 * apply(log1p, exp(-1.0 * X))",
          corrected={"eigen": "log_sigmoid(X)"}),
]


@dataclass(frozen=True)
class Verdict:
    """The outcome of one cell: ``status`` is "ok", "shape" (a result of another shape than Table 1
    promises), "wrong" (other values), "unsafe" (wrong only for large inputs), "error" (it raises)
    or "not run"; ``detail`` is the evidence in one sentence."""
    column: str
    code: str
    status: str
    detail: str

    @property
    def passed(self):
        return self.status == "ok"


def _shape(value):
    return tuple(value.shape) if hasattr(value, "shape") else ()


def _to_numpy(value):
    if hasattr(value, "detach"):
        return value.detach().numpy().astype(np.float64)
    return np.asarray(value, dtype=np.float64)


def _cases(entry, scale):
    """The inputs of every case of an entry: one dictionary of named values per case."""
    rng = np.random.default_rng(2)
    m, n, k = SIZES["m"], SIZES["n"], SIZES["k"]
    cases = []
    for overrides in entry.shapes:
        shapes = {"X": (m, n), "Y": (m, n), "Z": (n, k), "x": (1, n)}
        shapes.update({name: tuple(SIZES.get(d, d) for d in shape) for name, shape in overrides.items()})
        if entry.positive:
            values = {name: scale * rng.uniform(0.5, 2.0, shape) for name, shape in shapes.items()}
        else:
            values = {name: scale * rng.standard_normal(shape) for name, shape in shapes.items()}
        cases.append(values | {"c": 1.5, "e": EPSILON, "m": m, "n": n})
    return cases


def _describe_shapes(values, code):
    names = [name for name in ("X", "Y", "Z", "x") if re.search(rf"\b{name}\b", code)]
    return ", ".join(f"{name} {values[name].shape[0]}×{values[name].shape[1]}" for name in names)


def _numpy_names():
    return dict(vars(np))


def _torch_names():
    import torch
    import torch.nn.functional as F
    return dict(vars(torch)) | {"softplus": F.softplus}


def _jax_names():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    return dict(vars(jnp))


def evaluate(column, code, values):
    """The value of ``code`` in the framework of ``column`` ("numpy", "jax", "torch" or "eigen", the
    last through C++) on the named inputs: NumPy arrays X, Y, Z, x and numbers c, e, m, n."""
    if column == "numpy":
        return eval(code, _numpy_names() | {"f": _F["numpy"]} | values)
    if column == "jax":
        names = _jax_names()
        arrays = {name: names["asarray"](v) if isinstance(v, np.ndarray) else v for name, v in values.items()}
        return eval(code, names | {"f": names["tanh"]} | arrays)
    if column == "torch":
        import torch
        tensors = {name: torch.tensor(v) if isinstance(v, np.ndarray) else v for name, v in values.items()}
        return eval(code, _torch_names() | {"f": torch.tanh} | tensors)
    if column == "eigen":
        return _run_cpp(code, values)
    raise ValueError(f"table2: cannot run the column {column!r}")


def _reference(entry, values):
    code = entry.reference or entry.operation
    return eval(code, {name: getattr(M, name) for name in M.__all__} | {"f": _F["numpy"]} | values)


def _disagreement(actual, expected):
    """The index of the first entry where actual and expected differ (inf equals inf, nan equals nan),
    or None when they agree."""
    scale = np.max(np.abs(expected[np.isfinite(expected)]), initial=1.0)
    differs = ~np.isclose(actual, expected, rtol=1e-9, atol=1e-12 * scale, equal_nan=True)
    return tuple(int(i) for i in np.argwhere(differs)[0]) if differs.any() else None


def run(entry, column, code=None):
    """Run one cell (its printed code, or ``code``) and return its Verdict."""
    code = code if code is not None else getattr(entry, _PRINTED.get(column, column))
    if column == "tensorflow":
        return Verdict(column, code, "not run", "TensorFlow is not installed here: shown, not run.")
    for scale, status in ((1.0, "wrong"), (1000.0, "unsafe")):
        for values in _cases(entry, scale):
            with np.errstate(all="ignore"):
                expected = _to_numpy(_reference(entry, values))
                try:
                    actual = evaluate(column, code, values)
                except Exception as error:  # a printed cell may raise anything: that is the verdict
                    return Verdict(column, code, "error", f"raises {type(error).__name__}: {error}")
            inputs = _describe_shapes(values, code)
            if _shape(actual) != expected.shape:
                actual = _to_numpy(actual)
                reshaped = actual.size == expected.size and _disagreement(actual.reshape(expected.shape),
                                                                          expected) is None
                return Verdict(column, code, "shape" if reshaped else "wrong",
                               f"for {inputs} it gives shape {actual.shape}, Table 1 promises {expected.shape}"
                               + ((" (the right values, flattened)." if actual.ndim < 2 else
                                   " (the right values, in another shape).") if reshaped else
                                  f": {np.array2string(actual, precision=4)}."))
            i = _disagreement(_to_numpy(actual), expected)
            if i is not None:
                where = "values of order 1000" if scale > 1 else "values of order 1"
                return Verdict(column, code, status,
                               f"for {inputs} ({where}) entry {i} is {float(_to_numpy(actual)[i]):.6g} "
                               f"where {entry.operation} is {float(expected[i]):.6g}.")
    return Verdict(column, code, "ok", "shape and values as Table 1 defines them.")


def validate(entry):
    """The verdicts of the cells of an entry, one per column of ``COLUMNS``."""
    return [run(entry, column) for column in COLUMNS]


def entry(operation):
    """The entry of Table 2 whose operation is ``operation`` (as printed, e.g. "rows_sum(X)")."""
    for candidate in TABLE2:
        if candidate.operation == operation:
            return candidate
    raise ValueError(f"table2: no entry {operation!r}; the entries are: "
                     + ", ".join(e.operation for e in TABLE2))


# --- the Eigen column in C++ ------------------------------------------------------------------

def cpp_cell(code):
    """The C++ function that computes ``code`` (an expression over cpp/matrix_ops.h in X, Y, Z, x,
    c, m, n, e, f and log1p), compiled once per process: its name is made from the code."""
    import cppyy

    from nerva_edu import cpp
    nerva = cpp.include("matrix_ops.h").nerva_edu
    name = "cell_" + hashlib.sha1(code.encode()).hexdigest()[:16]
    if not hasattr(getattr(nerva, "table2", None), name):
        cppyy.cppdef(f"""
        namespace nerva_edu {{ namespace table2 {{
        inline auto {name}(const Matrix& X, const Matrix& Y, const Matrix& Z, const Matrix& x,
                           double c, long m, long n, double e) {{
          auto f = {_F["cpp"]};
          auto log1p = [](double v) {{ return std::log1p(v); }};
          (void)Y; (void)Z; (void)x; (void)c; (void)m; (void)n; (void)e; (void)f; (void)log1p;
          return {code};
        }}
        }} }}""")
    return getattr(nerva.table2, name)


def _run_cpp(code, values):
    """Run ``code`` in C++ on copies of the inputs (missing matrices are 1×1 zeros, numbers 0)."""
    from nerva_edu import cpp
    matrices = [cpp.to_cpp(values.get(name, np.zeros((1, 1)))) for name in ("X", "Y", "Z", "x")]
    numbers = [values.get(name, 0) for name in ("c", "m", "n", "e")]
    return cpp.to_numpy(cpp_cell(code)(*matrices, *numbers))
