"""Small helpers for the book's notebooks: show library source, run validations.

The chapters never copy library code into a cell; they show it from its source with
``show``, so the book and the library cannot drift apart.
"""

import inspect
from pathlib import Path

from nerva_edu.cpp import CPP_DIR
from nerva_edu.registry import format_table, validate


def _code(text, language):
    from IPython.display import Code, display
    display(Code(text, language=language))


def show(*objects):
    """Display the source code of library functions or classes, highlighted."""
    _code("\n\n".join(inspect.getsource(obj).rstrip() for obj in objects), "python")


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
    """The first heading of a chapter notebook such as "book/03-matrix-operations"."""
    import json
    path = Path(__file__).resolve().parent.parent / f"{chapter}.ipynb"
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
