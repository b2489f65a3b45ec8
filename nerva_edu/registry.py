"""The equation registry: every equation the book validates, and how.

Each entry ties an equation of the spec to the code that implements it and to two checks
run on that very code: a symbolic proof in SymPy and a numeric comparison with PyTorch
(float64, autograd where gradients are involved). A check is a function of no arguments
that returns normally when the equation holds and raises ``AssertionError`` (with the
evidence) when it does not. ``nerva-edu check``, the test-suite and the equation-index
appendix all read this registry.
"""

import importlib
import inspect
from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class Equation:
    id: str                                   # e.g. "linear.backward"
    spec_ref: str                             # e.g. "§4 linear layer" or "eq. (17)"
    chapter: str                              # notebook under book/ that derives it
    code: object                              # the function or class that implements it
    sympy: Optional[Callable[[], None]] = None
    torch: Optional[Callable[[], None]] = None

    @property
    def code_name(self):
        """The dotted name of the implementing object, e.g. nerva_edu.matrix.columns_sum."""
        module = inspect.getmodule(self.code)
        return f"{module.__name__}.{self.code.__qualname__}"


EQUATIONS = {}

# Modules whose import registers their validations; extended as chapters are added.
VALIDATION_MODULES = [
    "nerva_edu.validation.matrix_ops",
    "nerva_edu.validation.optimizers",
    "nerva_edu.validation.lemmas",
    "nerva_edu.validation.layers",
    "nerva_edu.validation.activations",
    "nerva_edu.validation.softmax",
    "nerva_edu.validation.losses",
    "nerva_edu.validation.network",
]


def register(id, spec_ref, chapter, code, sympy=None, torch=None):
    """Add an equation to the registry; ids are unique."""
    if id in EQUATIONS:
        raise ValueError(f"register: equation id {id!r} is already registered")
    if sympy is None and torch is None:
        raise ValueError(f"register: equation {id!r} needs at least one check")
    EQUATIONS[id] = Equation(id, spec_ref, chapter, code, sympy, torch)


def all_equations():
    """Every registered equation, in registration order (importing the validations)."""
    for name in VALIDATION_MODULES:
        importlib.import_module(name)
    return list(EQUATIONS.values())


def run_check(check):
    """Run one check: True if it holds, False (with the reason) if not, None if absent."""
    if check is None:
        return None, ""
    try:
        check()
    except AssertionError as error:
        return False, str(error) or "assertion failed"
    return True, ""


def validate(prefix=""):
    """Run the checks of every equation whose id starts with ``prefix``.

    Returns one dict per equation: id, spec_ref, sympy and torch (True, False or None for
    "no such check"), and the reasons of any failure.
    """
    results = []
    for equation in all_equations():
        if not equation.id.startswith(prefix):
            continue
        sympy_ok, sympy_reason = run_check(equation.sympy)
        torch_ok, torch_reason = run_check(equation.torch)
        results.append({"id": equation.id, "spec_ref": equation.spec_ref, "sympy": sympy_ok, "torch": torch_ok,
                        "failures": [f"{kind}: {reason}" for kind, reason in
                                     (("sympy", sympy_reason), ("torch", torch_reason)) if reason]})
    return results


def format_table(results):
    """The results of ``validate`` as a fixed-width text table."""
    mark = {True: "ok", False: "FAIL", None: "-"}
    width = max([len("equation")] + [len(r["id"]) for r in results])
    lines = [f"{'equation':<{width}}  {'spec':<24}  sympy  torch"]
    lines += [f"{r['id']:<{width}}  {r['spec_ref']:<24}  {mark[r['sympy']]:<5}  {mark[r['torch']]}" for r in results]
    failed = sum(1 for r in results if r["failures"])
    lines.append(f"{len(results)} equations, {failed} with a failed check")
    return "\n".join(lines)
