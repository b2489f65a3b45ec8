"""The equation registry: every equation the book validates, and how.

Each entry ties an equation of the spec to the code that implements it and to the checks
run on that very code: a symbolic proof in SymPy, and a numeric comparison in float64
written once against an *oracle* (``nerva_edu.validation.oracles``: automatic
differentiation where gradients are involved) and run twice, with torch and with JAX, two
frameworks that share no code. A few equations add a comparison with a torch library
function that JAX has no counterpart of (such as ``torch.optim.SGD`` and
``torch.nn.BatchNorm1d``); it runs in the torch column only. A check returns normally when the equation holds and
raises ``AssertionError`` (with the evidence) when it does not. ``nerva-edu check``, the
test-suite and the equation-index appendix all read this registry.
"""

import importlib
import importlib.util
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
    numeric: Optional[Callable[[object], None]] = None     # numeric(oracle): run with torch and with JAX
    torch_only: Optional[Callable[[], None]] = None        # a comparison with torch's library, after numeric

    @property
    def torch(self):
        """The torch check (the numeric check with the torch oracle, then any torch-only
        comparison), or None."""
        if self.numeric is None:
            return None

        def check():
            self.numeric(oracle("torch"))
            if self.torch_only is not None:
                self.torch_only()
        return check

    @property
    def jax(self):
        """The JAX check (the numeric check with the JAX oracle), or None."""
        return None if self.numeric is None else lambda: self.numeric(oracle("jax"))

    @property
    def code_name(self):
        """The dotted name of the implementing object, e.g. nerva_edu.matrix.columns_sum."""
        module = inspect.getmodule(self.code)
        return f"{module.__name__}.{self.code.__qualname__}"


EQUATIONS = {}
CHECKS = ("sympy", "torch", "jax")               # the columns of every result

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


def oracle(name):
    """The oracle of nerva_edu.validation.oracles named "torch" or "jax"."""
    from nerva_edu.validation.oracles import oracle as make
    return make(name)


def register(id, spec_ref, chapter, code, sympy=None, numeric=None, torch_only=None):
    """Add an equation to the registry; ids are unique. ``numeric(oracle)`` is run with the
    torch and the JAX oracle; ``torch_only()`` only in the torch column, and only beside a
    numeric check (so that every equation with a torch check has a JAX check)."""
    if id in EQUATIONS:
        raise ValueError(f"register: equation id {id!r} is already registered")
    if sympy is None and numeric is None:
        raise ValueError(f"register: equation {id!r} needs at least one check")
    if torch_only is not None and numeric is None:
        raise ValueError(f"register: equation {id!r}: a torch-only comparison needs a numeric check beside it")
    EQUATIONS[id] = Equation(id, spec_ref, chapter, code, sympy, numeric, torch_only)


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

    Returns one dict per equation: id, spec_ref, sympy, torch and jax (True, False or None
    for "no such check" or a framework that is not installed), and the reasons of any failure.
    """
    results, missing = [], missing_frameworks()
    for equation in all_equations():
        if not equation.id.startswith(prefix):
            continue
        result, failures = {"id": equation.id, "spec_ref": equation.spec_ref}, []
        for kind in CHECKS:
            result[kind], reason = (None, "") if kind in missing else run_check(getattr(equation, kind))
            if reason:
                failures.append(f"{kind}: {reason}")
        results.append({**result, "failures": failures})
    return results


def missing_frameworks():
    """The numeric columns (torch, jax) whose framework is not installed: their checks are not
    run, and the table says so."""
    return [kind for kind in CHECKS[1:] if importlib.util.find_spec(kind) is None]


def format_table(results):
    """The results of ``validate`` as a fixed-width text table."""
    mark = {True: "ok", False: "FAIL", None: "-"}
    width = max([len("equation")] + [len(r["id"]) for r in results])
    lines = [f"{'equation':<{width}}  {'spec':<24}  sympy  torch  jax"]
    lines += [f"{r['id']:<{width}}  {r['spec_ref']:<24}  {mark[r['sympy']]:<5}  {mark[r['torch']]:<5}  {mark[r['jax']]}"
              for r in results]
    failed = sum(1 for r in results if r["failures"])
    lines.append(f"{len(results)} equations, {failed} with a failed check")
    lines += [f"{kind}: not installed, its checks were not run (pip install 'nerva-edu[{kind}]')"
              for kind in missing_frameworks()]
    return "\n".join(lines)
