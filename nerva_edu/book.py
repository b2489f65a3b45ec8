"""Small helpers for the book's notebooks: show library source, run validations.

The chapters never copy library code into a cell; they show it from its source with
``show``, so the book and the library cannot drift apart.
"""

import inspect
import textwrap
from pathlib import Path

import sympy as sp

from nerva_edu.cpp import CPP_DIR
from nerva_edu.registry import format_table, validate


def _code(text, language):
    from IPython.display import Code, display
    display(Code(text, language=language))


def difference(d, resolution=1e-14):
    """A maximum absolute difference d as the chapters print it after its name: "= 3.2e-05", or
    "< 1e-14" where it is the round-off of float64, whose last digits vary with the machine's vector
    units and libraries (a printed 1.1e-16 on one machine is 0.0e+00 on another)."""
    return f"< {resolution:.0e}" if d < resolution else f"= {d:.1e}"


def show(*objects):
    """Display the source code of library functions or classes, highlighted."""
    _code("\n\n".join(inspect.getsource(obj).rstrip() for obj in objects), "python")


def show_method(cls, name):
    """Display the method ``name`` that runs for an object of class ``cls``: the definition found
    first along the method resolution order, followed by each definition it reaches through
    ``super().name(...)``, each headed by a comment naming its class."""
    parts = []
    for base in cls.__mro__:
        if name in vars(base):
            source = inspect.getsource(vars(base)[name]).rstrip()
            parts.append(f"# {base.__name__}.{name}\n{textwrap.dedent(source)}")
            if f"super().{name}(" not in source:
                break
    if not parts:
        raise ValueError(f"show_method: {cls.__name__} has no method {name!r}")
    _code("\n\n".join(parts), "python")


def show_derivation(derivations, where=()):
    """Display, for each ``nerva_edu.symbolic.Derivation``, what ``backpropagate`` returns next to
    the gradient ``sp.diff`` derives from the loss, and their simplified difference; raise
    AssertionError if a difference does not vanish.

    ``where`` is a list of pairs (letter, Z): the entries of each matrix of expressions Z (for
    instance a layer's pre-activation X·Wᵀ + 1_N·b) are displayed as letter_ij, so that the
    matrices stay short; their definitions are displayed first. Name only matrices whose entries
    are independent (a centred batch, whose entries sum to zero, is not)."""
    from IPython.display import Math, display
    groups = []
    for k, (letter, Z) in enumerate(where):
        symbols = sp.Matrix(*Z.shape, lambda i, j: sp.Symbol(f"{letter}_{{{i + 1}{j + 1}}}", real=True))
        groups.append({Z[i, j]: symbols[i, j] for i in range(Z.rows) for j in range(Z.cols)})
        display(Math(r"\text{where}\quad " + sp.latex(symbols) + " = " + sp.latex(_named(Z, groups[:k]))))
    for d in derivations:
        D = rf"\mathsf{{D}}{_latex_name(d.name)}"
        display(Math(rf"\begin{{aligned}}&{D}\ \text{{(backpropagate)}} &&= {sp.latex(_named(d.computed, groups))}\\"
                     rf"&\partial\mathcal{{L}}/\partial {_latex_name(d.name)}\ \text{{(sp.diff)}} &&= "
                     rf"{sp.latex(_named(d.derived, groups))}\\"
                     rf"&\text{{difference, simplified}} &&= {sp.latex(d.difference)}\end{{aligned}}"))
    failed = [d.name for d in derivations if not d.proved]
    assert not failed, f"show_derivation: the difference does not vanish for D{', D'.join(failed)}"


_GREEK = {"beta": r"\beta", "gamma": r"\gamma", "al": "a_l", "tl": "t_l", "ar": "a_r", "tr": "t_r"}


def _latex_name(name):
    return _GREEK.get(name, name)


def _named(A, groups):
    """A with the expressions of each group {expression: name} replaced by their names (for
    display only). SymPy expands a multiple such as 2·(z-expression) inside e^(...),
    so every sum is first written as a combination of the named expressions plus a rest."""
    for names in groups:
        A = A.replace(lambda e: isinstance(e, sp.Add), lambda e: _combination(e, names)).subs(names)
    return A


def _combination(e, names):
    """The sum e as k_1·name_1 + k_2·name_2 + ... + rest, whenever that shortens it."""
    rest, named = sp.expand(e), 0
    for expression, symbol in names.items():
        expression = sp.expand(expression)
        monomial = sp.Add.make_args(expression)[0].as_coeff_Mul()[1]
        k = rest.coeff(monomial) / expression.coeff(monomial)
        if k != 0 and k.is_number:
            shorter = sp.expand(rest - k * expression)
            if len(sp.Add.make_args(shorter)) < len(sp.Add.make_args(rest)):
                rest, named = shorter, named + k * symbol
    return named + rest if named != 0 else e


def show_cpp(header, start, end=None):
    """Display the lines of ``cpp/<header>`` from the first line containing ``start`` up to
    and including the first later line containing ``end`` (default: the next blank line)."""
    lines = (CPP_DIR / header).read_text().splitlines()
    first = next(i for i, line in enumerate(lines) if start in line)
    last = next(i for i in range(first + 1, len(lines))
                if (end in lines[i] if end is not None else not lines[i].strip()))
    _code("\n".join(lines[first:last + (1 if end is not None else 0)]), "c++")


def check_equations(*prefixes):
    """Run the registered validations whose id starts with one of ``prefixes``, print one
    table, and raise AssertionError listing the failures if any check fails."""
    results = [result for prefix in prefixes for result in validate(prefix)]
    print(format_table(results))
    failures = [f"{r['id']}: {f}" for r in results for f in r["failures"]]
    assert results and not failures, "\n".join(failures) or f"no equations start with {prefixes!r}"


def chapter_title(chapter):
    """The first heading of a chapter notebook such as "book/03-matrix-operations", found beside
    the package in a source checkout, else from the working folder (a notebook of ``book/``)
    when the package is installed from its wheel."""
    import json
    roots = [Path(__file__).resolve().parent.parent, Path.cwd(), Path.cwd().parent]
    path = next((root / f"{chapter}.ipynb" for root in roots if (root / f"{chapter}.ipynb").is_file()), None)
    if path is None:
        raise ValueError(f"chapter_title: no notebook {chapter}.ipynb beside nerva_edu or in {Path.cwd()}")
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"]) if cell["cell_type"] == "markdown" else ""
        if source.startswith("# "):
            return source.splitlines()[0][2:].strip()
    raise ValueError(f"chapter_title: {path} has no '# ' heading")


def equation_index():
    """The equation index: every registered equation with its spec reference, the chapter that
    derives it, the code that implements it and the outcome of its three checks (SymPy, torch,
    JAX), as a Markdown table (the checks are run here)."""
    from IPython.display import Markdown
    from nerva_edu.registry import all_equations
    status = {r["id"]: r for r in validate()}
    mark = {True: "✔ proved", False: "✘ FAILS", None: "—"}
    lines = ["| equation | spec | derived in | implemented by | SymPy | torch | JAX |", "|---|---|---|---|---|---|---|"]
    for equation in all_equations():
        result = status[equation.id]
        numeric = " | ".join(mark[result[kind]].replace("proved", "agrees") for kind in ("torch", "jax"))
        lines.append(f"| `{equation.id}` | {equation.spec_ref} | {chapter_title(equation.chapter)} | "
                     f"`{equation.code_name}` | {mark[result['sympy']]} | {numeric} |")
    failed = [r["id"] for r in status.values() if r["failures"]]
    return Markdown("\n".join(lines)), len(status), failed
