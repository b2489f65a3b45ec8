"""Every code block in an exercise solution runs, in the namespace its chapter builds.

A chapter's code cells are executed in order (IPython magics and shell escapes are skipped), then
each ```python block of each {solution} runs in that namespace. A solution that raises fails the test, naming the exercise.
"""

import json
import re

import pytest

from toc import ROOT, toc_notebooks

SOLUTION = re.compile(r":::\{solution\} (\S+)(.*?)\n:::", re.S)
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def chapter_solutions(path):
    cells = json.loads(path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return [(label, block) for label, body in SOLUTION.findall(text) for block in PYTHON_BLOCK.findall(body)]


def runnable_cells(path):
    for cell in json.loads(path.read_text())["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code":
            continue
        yield "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))


CHAPTERS = [ROOT / nb for nb in toc_notebooks() if chapter_solutions(ROOT / nb)]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_solutions_run(path, monkeypatch, capsys):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(path.parent)
    monkeypatch.setattr(plt, "show", lambda *args, **kwargs: plt.close("all"))
    from IPython.display import display
    namespace = {"__name__": "__main__", "display": display}    # a builtin in IPython kernels
    for source in runnable_cells(path):
        exec(compile(source, f"{path.name} (cell)", "exec"), namespace)
    for label, block in chapter_solutions(path):
        try:
            exec(compile(block, f"{path.name} solution {label}", "exec"), namespace)
        except Exception as error:
            pytest.fail(f"{path.name}: the solution of {label} raises {type(error).__name__}: {error}")
    plt.close("all")
