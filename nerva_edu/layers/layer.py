"""The layer protocol shared by every layer (spec §4), and the checks done at layer entry.

A layer has

- ``feedforward(X) -> Y``, which keeps X and intermediate values (such as Z) on the layer;
- ``backpropagate(Y, DY) -> DX``, which sets the gradient of every parameter as an
  attribute named "D" + the parameter's name (DW, Db, Dbeta, ...) and returns DX;
- ``parameter_names``, the names of its parameter attributes, e.g. ``("W", "b")``;
- ``training``, True by default; layers that behave differently in evaluation
  (batch normalization, dropout) read it.

Parameters may be NumPy arrays, SymPy matrices or torch tensors; the input must be of the
same kind. A wrong shape raises ``ValueError`` naming the layer operation and both shapes.
"""

from nerva_edu.matrix import kind, shape


def _describe(expected):
    return "(" + ", ".join("N" if n is None else str(n) for n in expected) + ")"


def check_shape(op, name, X, expected, reason=""):
    """ValueError unless X is 2-D with the expected shape (None matches any size)."""
    actual = shape(X)
    if len(actual) != 2 or any(e is not None and e != a for e, a in zip(expected, actual)):
        raise ValueError(f"{op}: {name} has shape {tuple(actual)}, expected {_describe(expected)}{reason}")


class Layer:
    """Base class: the protocol above plus the entry checks."""

    parameter_names = ()
    training = True

    def _op(self, method):
        return f"{type(self).__name__}.{method}"

    def _check_input(self, X, D, parameter, name):
        """X must be an N×D matrix of the kind of the parameter ``name``."""
        if kind(X) != kind(parameter):
            raise TypeError(f"{self._op('feedforward')}: X is a {kind(X)} value, "
                            f"but the layer's parameters are {kind(parameter)} values")
        check_shape(self._op("feedforward"), "X", X, (None, D),
                    f" to match {name} of shape {tuple(shape(parameter))}")

    def _check_gradient(self, Y, DY):
        """DY must have the shape of the output Y of the last feedforward (N×K)."""
        if not hasattr(self, "X"):
            raise ValueError(f"{self._op('backpropagate')}: call feedforward before backpropagate")
        check_shape(self._op("backpropagate"), "DY", DY, tuple(shape(Y)), " (the shape of Y)")
