"""Table 2 of the spec, cell by cell: NumPy and PyTorch as printed, JAX with the NumPy cell on jax.numpy,
Eigen through its C++ equivalent."""

import pytest

from nerva_edu import table2
from nerva_edu.errata import ERRATA

REDUCTIONS = [f"{kind}_{reduction}(X)" for kind in ("columns", "rows") for reduction in ("sum", "max", "mean")]

# Every cell that does not give what Table 1 promises; all others must be "ok".
NOT_AS_PROMISED = ({(operation, column): "shape" for operation in ["diag(X)"] + REDUCTIONS
                    for column in ("numpy", "torch")}
                   | {("Diag(x)", "numpy"): "wrong", ("log_sigmoid(X)", "eigen"): "unsafe"})
# The JAX column runs the NumPy cell: jax.numpy keeps NumPy's semantics, deviations and corrections included.
JAX_NOT_AS_PROMISED = {(operation, "jax"): status for (operation, column), status in NOT_AS_PROMISED.items()
                       if column == "numpy"}


def test_the_table_has_every_operation_of_table_2_once():
    operations = [entry.operation for entry in table2.TABLE2]
    assert len(operations) == 27 and len(set(operations)) == 27


@pytest.mark.parametrize("column", ["numpy", "jax", "torch", "eigen"])
@pytest.mark.parametrize("entry", table2.TABLE2, ids=lambda entry: entry.operation)
def test_every_cell_runs_with_the_expected_verdict(entry, column):
    verdict = table2.run(entry, column)
    expected = (NOT_AS_PROMISED | JAX_NOT_AS_PROMISED).get((entry.operation, column), "ok")
    assert verdict.status == expected, verdict.detail


def test_the_jax_column_runs_the_numpy_cell_on_jax_arrays():
    import jax
    entry = table2.entry("X * Z")
    assert table2.run(entry, "jax").code == entry.numpy
    value = table2.evaluate("jax", entry.numpy, table2._cases(entry, 1.0)[0])
    assert isinstance(value, jax.Array) and value.dtype == "float64"


@pytest.mark.parametrize("operation", sorted(operation for operation, _ in JAX_NOT_AS_PROMISED))
def test_the_numpy_corrections_correct_the_jax_cells(operation):
    entry = table2.entry(operation)
    verdict = table2.run(entry, "jax", entry.correction("jax"))
    assert verdict.passed, verdict.detail


@pytest.mark.parametrize("operation, column", sorted(NOT_AS_PROMISED))
def test_every_failing_cell_has_a_corrected_spelling_that_passes(operation, column):
    entry = table2.entry(operation)
    verdict = table2.run(entry, column, entry.corrected[column])
    assert verdict.passed, verdict.detail


def test_corrections_are_given_only_for_failing_cells():
    corrected = {(entry.operation, column) for entry in table2.TABLE2 for column in entry.corrected}
    assert corrected == set(NOT_AS_PROMISED)


def test_tensorflow_is_shown_not_run():
    verdicts = [table2.run(entry, "tensorflow") for entry in table2.TABLE2]
    assert {verdict.status for verdict in verdicts} == {"not run"}
    assert [verdict.code for verdict in verdicts] == [entry.tensorflow for entry in table2.TABLE2]


def test_every_failing_cell_is_an_erratum():
    ids = {erratum.id for erratum in ERRATA}
    assert {"table2.one_dimensional", "table2.numpy_Diag", "table2.eigen_log_sigmoid"} <= ids


@pytest.mark.parametrize("operation, column, code, status", [
    ("rows_sum(X)", "numpy", "2 * sum(X,axis=1,keepdims=True)", "wrong"),      # wrong values
    ("columns_sum(X)", "numpy", "sum(X,axis=1,keepdims=True).T", "wrong"),     # the other orientation
    ("columns_sum(X)", "torch", "sum(X,dim=0,keepdim=True).T", "shape"),       # right values, a column
    ("log_sigmoid(X)", "numpy", "log(1 / (1 + exp(-X)))", "unsafe"),           # overflows at 1000
    ("X + Y", "numpy", "X + Z", "error"),                                      # raises
    ("X + Y", "eigen", "X + Z", "error"),                                      # C++ refuses the shapes
    ("X * Z", "eigen", "hadamard(X, Y)", "wrong"),                             # wrong shape in C++
    ("Diag(x)", "torch", "diag(x.flatten())[:1]", "wrong"),
    ("rows_sum(X)", "jax", "sum(X,axis=0,keepdims=True)", "wrong"),            # the other axis in JAX
    ("X + Y", "jax", "X + Z", "error"),                                        # JAX refuses the shapes
])
def test_the_checks_can_fail(operation, column, code, status):
    verdict = table2.run(table2.entry(operation), column, code)
    assert verdict.status == status, verdict.detail


def test_an_unknown_operation_is_named():
    with pytest.raises(ValueError, match="no entry 'rows_sums"):
        table2.entry("rows_sums(X)")


def test_an_unknown_column_is_refused():
    with pytest.raises(ValueError, match="cannot run the column 'tensorflow'"):
        table2.evaluate("tensorflow", "X", {})


def test_the_cpp_operators_name_a_shape_error():
    verdict = table2.run(table2.entry("X - Y"), "eigen", "X - Z")
    assert verdict.status == "error" and "X - Y: shapes must be equal, got (3, 4) and (4, 2)" in verdict.detail
