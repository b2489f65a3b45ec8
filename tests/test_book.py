"""The book's notebooks: all listed in _toc.yml, all executed with stored outputs, all with exercises."""

import json
import re
from pathlib import Path

import pytest

from toc import ROOT, toc_files, toc_notebooks

NOTEBOOKS = sorted(p for p in (ROOT / "book").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def code_cells(path):
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_in_the_table_of_contents(path):
    assert str(path.relative_to(ROOT).with_suffix("")) in toc_files(), \
        f"{path.relative_to(ROOT)} is not listed in _toc.yml, so the website does not show it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_was_executed_and_stored_its_outputs(path):
    cells = code_cells(path)
    unexecuted = [i for i, c in enumerate(cells) if c.get("execution_count") is None]
    assert not unexecuted, (f"{path.name}: code cells {unexecuted} were never executed, so nbval would pass "
                            f"them vacuously; run `make notebooks`")
    assert any(c["outputs"] for c in cells), f"{path.name} has no stored outputs at all"
    counts = [c["execution_count"] for c in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{path.name} was not run top to bottom in one kernel"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_errors_or_warnings_are_stored(path):
    for cell in code_cells(path):
        for output in cell["outputs"]:
            assert output["output_type"] != "error", f"{path.name}: a stored error: {output.get('evalue')}"
            assert not (output["output_type"] == "stream" and output["name"] == "stderr"), \
                f"{path.name}: stored stderr output: {''.join(output['text'])[:200]}"


CHAPTERS = [ROOT / nb for nb in toc_notebooks() if Path(nb).name[0].isdigit()]   # appendices are not chapters


def test_every_numbered_notebook_is_a_chapter():
    assert len(CHAPTERS) >= 3


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_has_goals_and_exercises_with_solutions(path):
    text = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown")
    assert "What you will learn" in text, f"{path.name} does not state its learning goals"
    exercises = re.findall(r":::\{exercise\}\s*\n:label: (\S+)", text)
    solutions = re.findall(r":::\{solution\} (\S+)", text)
    assert len(exercises) >= 2, f"{path.name} has {len(exercises)} exercises; every chapter needs at least two"
    assert sorted(exercises) == sorted(solutions), f"{path.name}: exercises and solutions do not pair up"


def test_every_toc_entry_exists():
    missing = [f for f in toc_files() if not any((ROOT / f).with_suffix(s).is_file() for s in (".ipynb", ".md"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_registered_equation_names_a_chapter_of_the_book():
    from nerva_edu.registry import all_equations
    chapters = set(toc_files())
    orphans = sorted({e.chapter for e in all_equations()} - chapters)
    assert not orphans, f"registered equations name chapters that are not in _toc.yml: {orphans}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_ends_with_a_summary_and_what_comes_next(path):
    """Every chapter of the table of contents ends with a "Summary" section that points to what comes next
    (a {doc} link to another page of the book, or a sentence on what is next)."""
    cells = [c for c in json.loads(path.read_text())["cells"] if "".join(c["source"]).strip()]
    headings = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                and re.search(r"^## Summary\s*$", "".join(c["source"]), re.M)]
    assert headings, f"{path.name} has no '## Summary' section"
    summary = "".join("".join(c["source"]) for c in cells[headings[-1]:])
    assert not re.search(r"^#{1,2} (?!Summary)", summary, re.M), f"{path.name}: the summary is not the last section"
    assert re.search(r"\{doc\}`[^`]+`|\bnext\b", summary, re.I), \
        f"{path.name}: the summary does not point to what comes next"
