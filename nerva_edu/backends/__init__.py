"""Value kinds: NumPy arrays, SymPy matrices and torch tensors.

Each backend module implements the raw computations of the matrix-operation table for one
kind of value, with identical function names. ``backend_of`` picks the module once per
call from the type of the value; SymPy and torch are imported only when a value of their
kind is seen, so training on NumPy never pays for them.
"""

import importlib

_MODULES = {"numpy": "nerva_edu.backends.numpy_ops",
            "sympy": "nerva_edu.backends.sympy_ops",
            "torch": "nerva_edu.backends.torch_ops"}

# Exact types seen before, mapped to their backend: the common case is one dict lookup.
_BY_TYPE = {}


def backend_named(name):
    """The backend module for a kind name: "numpy", "sympy" or "torch"."""
    return importlib.import_module(_MODULES[name])


def _kind_name(value):
    """The kind of a value, judged by the package that defines its type (or a base type)."""
    for cls in type(value).__mro__:
        package = cls.__module__.partition(".")[0]
        if package == "numpy" and cls.__name__ == "ndarray":
            return "numpy"
        if package == "torch" and cls.__name__ == "Tensor":
            return "torch"
        if package == "sympy" and cls.__name__ == "MatrixBase":
            return "sympy"
    return None


def backend_of(value):
    """The backend module for the kind of ``value``; TypeError for anything else."""
    backend = _BY_TYPE.get(type(value))
    if backend is None:
        name = _kind_name(value)
        if name is None:
            raise TypeError(f"expected a NumPy array, a SymPy matrix or a torch tensor, "
                            f"got {type(value).__module__}.{type(value).__qualname__}")
        backend = _BY_TYPE[type(value)] = backend_named(name)
    return backend


class Elementwise:
    """A function of one real number with one implementation per value kind.

    ``numpy`` and ``torch`` act on whole arrays at once (fast); ``sympy`` acts on one
    symbolic scalar and is mapped over the matrix. ``apply(f, X)`` picks the right one.
    """

    def __init__(self, name, numpy, torch, sympy):
        self.__name__ = name
        self.numpy, self.torch, self.sympy = numpy, torch, sympy

    def __repr__(self):
        return f"Elementwise({self.__name__})"
