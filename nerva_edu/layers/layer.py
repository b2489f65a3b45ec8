"""The layer protocol shared by every layer (spec §4), and the checks done at layer entry.

A layer has

- ``feedforward(X) -> Y``, which keeps X and intermediate values (such as Z) on the layer;
- ``backpropagate(Y, DY) -> DX``, which sets the gradient of every parameter as an
  attribute named "D" + the parameter's name (DW, Db, Dbeta, ...) and returns DX;
- ``output_size``, K, the number of columns of Y;
- ``parameter_names``, the names of its parameter attributes, e.g. ``("W", "b")``;
- ``training``, True by default; layers that behave differently in evaluation
  (batch normalization, dropout) read it.

Parameters may be NumPy arrays, SymPy matrices or torch tensors; the input must be of the
same kind (``TypeError`` otherwise, also for Y and DY). A wrong shape raises ``ValueError``
naming the layer operation and both shapes.
"""

from nerva_edu.matrix import kind, shape


def _describe(expected):
    return "(" + ", ".join("N" if n is None else str(n) for n in expected) + ")"


def kind_of(op, name, X):
    """The kind of X (see ``nerva_edu.matrix.kind``); TypeError naming op and X otherwise."""
    try:
        return kind(X)
    except TypeError as error:
        raise TypeError(f"{op}: {name}: {error}") from None


def check_shape(op, name, X, expected, reason=""):
    """ValueError unless X is 2-D with the expected shape (None matches any size); TypeError
    unless it is a value of a supported kind."""
    kind_of(op, name, X)
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
        if kind_of(self._op("feedforward"), "X", X) != kind(parameter):
            raise TypeError(f"{self._op('feedforward')}: X is a {kind(X)} value, "
                            f"but the layer's parameters are {kind(parameter)} values")
        check_shape(self._op("feedforward"), "X", X, (None, D),
                    f" to match {name} of shape {tuple(shape(parameter))}")

    def _check_gradient(self, Y, DY):
        """Y must be the output of the last feedforward (N×K, N the rows of its X) and DY must
        have the shape of Y, both of the kind of X."""
        op = self._op("backpropagate")
        if not hasattr(self, "X"):
            raise ValueError(f"{op}: call feedforward before backpropagate")
        for name, value in (("Y", Y), ("DY", DY)):
            if kind_of(op, name, value) != kind(self.X):
                raise TypeError(f"{op}: {name} is a {kind(value)} value, but the layer's input X was a "
                                f"{kind(self.X)} value")
        check_shape(op, "Y", Y, (shape(self.X)[0], self.output_size), " (the output of the last feedforward)")
        check_shape(op, "DY", DY, tuple(shape(Y)), " (the shape of Y)")
