"""Binder's environment files (binder/, read by repo2docker) and the course's CI workflow
(.github/workflows/book.yml): they parse, they are pinned to the versions of requirements.txt,
and the workflow is valid GitHub Actions syntax (check-jsonschema, with the schema of GitHub
workflows that it ships). test_package.py runs Binder's pip steps in a fresh environment."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

from nerva_edu import launch
from toc import ROOT

BINDER = ROOT / "binder"
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


def pinned(name):
    for line in (ROOT / "requirements.txt").read_text().split():
        if line.lower().startswith(f"{name.lower()}=="):
            return line.split("==")[1]
    raise AssertionError(f"requirements.txt does not pin {name}")


def lines(path):
    """The lines of path without comments and blank lines."""
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_binder_has_only_the_configuration_files_repo2docker_reads():
    assert sorted(p.name for p in BINDER.iterdir()) == ["apt.txt", "postBuild", "requirements.txt", "runtime.txt"]


def test_binder_runs_the_python_of_the_book():
    assert lines(BINDER / "runtime.txt") == [f"python-{PYTHON}"]


def test_binder_installs_a_cpp_compiler_for_cppyy():
    packages = lines(BINDER / "apt.txt")
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", p) for p in packages), packages
    assert "g++" in packages


def test_binder_requirements_are_torch_cpu_wheel_at_the_pinned_version():
    options = [line for line in lines(BINDER / "requirements.txt") if line.startswith("-")]
    requirements = [Requirement(line) for line in lines(BINDER / "requirements.txt") if not line.startswith("-")]
    assert options == [f"--extra-index-url {launch.TORCH_CPU_INDEX}"]
    assert [(r.name, str(r.specifier)) for r in requirements] == [("torch", f"=={pinned('torch')}+cpu")]


def test_binder_postbuild_is_a_bash_script_that_installs_the_package_with_the_pins():
    script = BINDER / "postBuild"
    text = script.read_text()
    assert text.startswith("#!/bin/bash\n") and script.stat().st_mode & 0o111, "postBuild must be an executable bash script"
    assert re.search(r"^set -e", text, re.M), "postBuild must stop at the first error (set -e)"
    subprocess.run(["bash", "-n", str(script)], check=True)
    install = re.search(r'pip install .*-c requirements\.txt "\.\[([\w,]+)\]"$', text, re.M)
    assert install, "postBuild must pip install the repository with the pins of requirements.txt"
    with open(ROOT / "pyproject.toml", "rb") as file:
        extras = set(tomllib.load(file)["project"]["optional-dependencies"])
    assert set(install.group(1).split(",")) <= extras


# --- the course's CI -------------------------------------------------------------------------

def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def lint(path):
    checker = Path(sys.executable).with_name("check-jsonschema")
    return subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_the_workflow_is_valid_github_actions_syntax():
    result = lint(WORKFLOW)
    assert result.returncode == 0, f"{WORKFLOW.relative_to(ROOT)}:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize("breakage", [
    lambda text: text.replace("    runs-on: ubuntu-24.04\n    container", "    container", 1),   # a job without runs-on
    lambda text: text.replace("      - uses: actions/checkout@v4", "      - uses: [actions/checkout@v4]", 1),
    lambda text: text.replace("permissions:\n  contents: read", "permissions:\n  contents: maybe", 1),
])
def test_the_linter_rejects_a_broken_workflow(tmp_path, breakage):
    broken = breakage(WORKFLOW.read_text())
    assert broken != WORKFLOW.read_text()
    (tmp_path / "book.yml").write_text(broken)
    assert lint(tmp_path / "book.yml").returncode != 0


def steps(job):
    return workflow()["jobs"][job]["steps"]


def test_the_workflow_runs_make_test_then_publishes_the_website():
    runs = [step.get("run", "") for step in steps("test")]
    assert "make test" in runs and "make book" in runs and runs.index("make test") < runs.index("make book")
    [upload] = [s for s in steps("test") if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload["with"]["path"] == "_build/html"
    deploy = workflow()["jobs"]["deploy"]
    assert deploy["needs"] == "test" and deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]


def test_the_workflow_is_pinned_like_requirements_txt():
    jobs = workflow()["jobs"]
    actions = [s["uses"] for job in jobs.values() for s in job["steps"] if "uses" in s]
    unpinned = [a for a in actions if not re.fullmatch(r"[\w-]+/[\w-]+@v\d+(\.\d+)*", a)]
    assert actions and not unpinned, f"actions not pinned to a version: {unpinned}"
    image = jobs["test"]["container"]
    assert re.fullmatch(rf"python:{re.escape(PYTHON)}\.\d+-bookworm", image), image
    assert jobs["test"]["env"]["PIP_EXTRA_INDEX_URL"] == launch.TORCH_CPU_INDEX   # for Binder's requirements
    torch = [s["run"] for s in steps("test") if "torch" in s.get("run", "")]
    assert torch and f'"torch=={pinned("torch")}+cpu"' in torch[0] and launch.TORCH_CPU_INDEX in torch[0]


def test_the_workflow_needs_no_tool_that_make_install_does_not_provide():
    """make install installs Debian's chromium (apt) and MathJax (npm): the image has apt, and
    the workflow sets up npm; check-jsonschema, the linter, is pinned in requirements.txt."""
    assert any(s.get("uses", "").startswith("actions/setup-node@") for s in steps("test"))
    assert pinned("check-jsonschema") and shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
