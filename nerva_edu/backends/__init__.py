"""Value kinds: NumPy arrays, SymPy matrices, torch tensors and JAX arrays.

Each backend module implements the raw computations of the matrix-operation table for one
kind of value, with identical function names, plus two helpers the layers need:
``from_numpy(R, like)`` (a NumPy array as a value of the kind and dtype of ``like``, for
dropout masks) and ``constant(X)`` (X cut from automatic differentiation, for running
statistics). ``backend_of`` picks the module once per call from the type of the value;
SymPy, torch and JAX are imported only when a value of their kind is seen, so training on
NumPy never pays for them. JAX values include the tracers that ``jax.grad``, ``jax.vjp``
and ``jax.jit`` pass through the code.
"""

import importlib

_MODULES = {"numpy": "nerva_edu.backends.numpy_ops",
            "sympy": "nerva_edu.backends.sympy_ops",
            "torch": "nerva_edu.backends.torch_ops",
            "jax": "nerva_edu.backends.jax_ops"}

# Exact types seen before, mapped to their backend: the common case is one dict lookup.
_BY_TYPE = {}


def backend_named(name):
    """The backend module for a kind name: "numpy", "sympy", "torch" or "jax"."""
    return importlib.import_module(_MODULES[name])


def kind_name(value):
    """The kind of a value ("numpy", "sympy", "torch" or "jax"), judged by the package that
    defines its type (or a base type); None for anything else."""
    for cls in type(value).__mro__:
        package = cls.__module__.partition(".")[0]
        if package == "numpy" and cls.__name__ == "ndarray":
            return "numpy"
        if package == "torch" and cls.__name__ == "Tensor":
            return "torch"
        if package == "sympy" and cls.__name__ == "MatrixBase":
            return "sympy"
        if package in ("jax", "jaxlib") and cls.__name__.rpartition(".")[2] in ("Array", "Tracer"):
            return "jax"                 # jax.Array's __name__ is "jaxlib._jax.Array"; tracers
    return None


def backend_of(value):
    """The backend module for the kind of ``value``; TypeError for anything else."""
    backend = _BY_TYPE.get(type(value))
    if backend is None:
        name = kind_name(value)
        if name is None:
            raise TypeError(f"expected a NumPy array, a SymPy matrix, a torch tensor or a JAX array, "
                            f"got {type(value).__module__}.{type(value).__qualname__}")
        backend = _BY_TYPE[type(value)] = backend_named(name)
    return backend


class Elementwise:
    """A function of one real number with one implementation per value kind.

    ``numpy``, ``torch`` and ``jax`` act on whole arrays at once (fast); ``sympy`` acts on
    one symbolic scalar and is mapped over the matrix. ``apply(f, X)`` picks the right one.
    """

    def __init__(self, name, numpy, torch, jax, sympy):
        self.__name__ = name
        self.numpy, self.torch, self.jax, self.sympy = numpy, torch, jax, sympy

    def __repr__(self):
        return f"Elementwise({self.__name__})"
