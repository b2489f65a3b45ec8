"""The package as a reader outside this repository gets it.

`python -m build` makes the sdist and, from it, the wheel. A fresh virtual environment in a
temporary folder gets what Binder installs (binder/requirements.txt, then the pip command of
binder/postBuild with the wheel in place of the repository and the extra `test` for nbval): torch's
CPU wheel, then the wheel with its extras at the versions of requirements.txt (pip's cache serves
them). There, from another folder: the command's version, `nerva-edu check --only linear`, a
sparse training step on the C++ backend (whose headers must come from the wheel), and a notebook
under nbval. The same environment runs the first cell of the notebooks, as Colab would, against a
clone of this repository's last commit.
"""

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import nbformat
import pytest

import nerva_edu
from nerva_edu import launch
from toc import ROOT

NOTEBOOK = "book/03-matrix-operations.ipynb"      # the matrix table, on NumPy, SymPy, torch and C++
EXTRAS = "torch,jax,cpp,book,test"
PIP_QUIET = ["--quiet", "--disable-pip-version-check", "--no-compile", "--no-warn-script-location"]


@pytest.fixture(scope="module")
def work():
    """A temporary folder outside the repository, removed at the end."""
    folder = Path(tempfile.mkdtemp(prefix="nerva-edu-package-"))
    assert ROOT not in folder.parents
    yield folder
    # A gigabyte of files: removed in the background, so that the tests do not wait for the disk.
    subprocess.Popen(["rm", "-rf", str(folder)], start_new_session=True)


@pytest.fixture(scope="module")
def dist(work):
    """The sdist and the wheel, built with `python -m build` (the wheel from the sdist)."""
    out = work / "dist"
    result = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(ROOT)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"python -m build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    [sdist], [wheel] = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
    return sdist, wheel


def pins():
    """requirements.txt as {name: version}."""
    lines = (ROOT / "requirements.txt").read_text().split()
    return {name.lower().replace("_", "-"): version for name, version in (line.split("==") for line in lines)}


def test_the_wheel_holds_the_library_its_headers_and_its_metadata(dist):
    _, wheel = dist
    names = set(zipfile.ZipFile(wheel).namelist())
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "nerva_edu").rglob("*.py")}
    headers = {f"nerva_edu/include/{p.name}" for p in (ROOT / "cpp").glob("*.h")}
    assert headers and sources - names == set() and headers - names == set(), \
        f"the wheel lacks {sorted((sources | headers) - names)}"
    info = f"nerva_edu-{nerva_edu.__version__}.dist-info"
    assert f"{info}/licenses/LICENSE" in names
    metadata = email.message_from_bytes(zipfile.ZipFile(wheel).read(f"{info}/METADATA"))
    assert metadata["Version"] == nerva_edu.__version__
    assert metadata["License-Expression"] == "BSL-1.0" and "Boost Software License" in (ROOT / "LICENSE").read_text()
    assert metadata["Requires-Python"] == ">=3.11" and metadata["Author"]
    assert f"Source, {launch.repository(ROOT / '_config.yml').url}" in metadata.get_all("Project-URL")
    assert set(metadata.get_all("Provides-Extra")) == set(EXTRAS.split(","))
    requires = metadata.get_all("Requires-Dist")
    assert f'torch=={pins()["torch"]}; extra == "torch"' in requires, requires
    assert f'cppyy=={pins()["cppyy"]}; extra == "cpp"' in requires, requires
    unpinned = [r.split(";")[0] for r in requires if re.split(r"[=<>~; \[]", r)[0].lower() not in pins()]
    assert not unpinned, f"the package needs {unpinned}, which requirements.txt does not pin"


def test_the_sdist_holds_what_the_wheel_is_built_from(dist):
    sdist, _ = dist
    top = sdist.name.removesuffix(".tar.gz")
    names = set(tarfile.open(sdist).getnames())
    needed = ["pyproject.toml", "setup.py", "_config.yml", "LICENSE", "README.md", "requirements.txt",
              *(f"cpp/{p.name}" for p in (ROOT / "cpp").glob("*.h"))]
    missing = [name for name in needed if f"{top}/{name}" not in names]
    assert not missing, f"the sdist lacks {missing}"


def test_chapter_titles_are_found_from_the_book_folder_when_the_package_is_installed(tmp_path, monkeypatch):
    """The equation index names chapters by their titles: with the package installed from its
    wheel, the chapters are those of the book folder the notebook runs in."""
    from nerva_edu.book import chapter_title
    (tmp_path / "book").mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A chapter\n\ntext")]),
                   tmp_path / "book" / "zz-only-here.ipynb")
    monkeypatch.chdir(tmp_path / "book")
    assert chapter_title("book/zz-only-here") == "A chapter"
    with pytest.raises(ValueError, match="no notebook book/zz-missing.ipynb"):
        chapter_title("book/zz-missing")


def run(env, *argv, cwd, timeout=300):
    """Run argv with the environment's bin/ first on PATH, from cwd; return the completed process."""
    variables = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    variables.update(PATH=f"{env / 'bin'}{os.pathsep}{os.environ['PATH']}", VIRTUAL_ENV=str(env))
    return subprocess.run([str(a) for a in argv], cwd=cwd, env=variables, capture_output=True, text=True,
                          timeout=timeout)


def check(result, what):
    assert result.returncode == 0, f"{what} failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def binder_requirements(folder):
    """binder/requirements.txt without its index option: pip finds torch's CPU wheel where its
    configuration says (the course's workflow sets PyTorch's CPU index, which serves it on Binder)."""
    path = folder / "binder-requirements.txt"
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    path.write_text("\n".join(line for line in lines if not line.startswith("--extra-index-url")) + "\n")
    return path


def postbuild_install():
    """The arguments of postBuild's pip install, with the extra `test` (nbval) and the wheel for '.'."""
    line = next(line for line in (ROOT / "binder" / "postBuild").read_text().splitlines() if " pip install " in line)
    args = line.split(" pip install ", 1)[1].split()
    assert args == ["--no-cache-dir", "-c", "requirements.txt", '".[torch,jax,cpp,book]"'], line
    return ["-c", ROOT / "requirements.txt"]


@pytest.fixture(scope="module")
def env(work, dist):
    """A fresh virtual environment with Binder's pip steps: torch, then the wheel and its extras."""
    _, wheel = dist
    env = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=120)
    check(run(env, env / "bin/python", "-m", "pip", "install", *PIP_QUIET, "-r", binder_requirements(work),
              cwd=work, timeout=900), "pip install -r binder/requirements.txt")
    check(run(env, env / "bin/python", "-m", "pip", "install", *PIP_QUIET, *postbuild_install(),
              f"{wheel}[{EXTRAS}]", cwd=work, timeout=900), "pip install of the wheel (binder/postBuild)")
    return env


@pytest.fixture(scope="module")
def elsewhere(work):
    folder = work / "elsewhere"
    folder.mkdir()
    return folder


def test_the_installed_package_is_the_wheel_with_its_headers(env, elsewhere):
    out = check(run(env, "python", "-c", "import nerva_edu, nerva_edu.cpp as c; print(nerva_edu.__file__); "
                    "print(c.CPP_DIR); print(sorted(p.name for p in c.CPP_DIR.glob('*.h')))", cwd=elsewhere),
                "import nerva_edu")
    module, headers, names = out.splitlines()
    site = str(env / "lib")
    assert module.startswith(site) and headers.startswith(site), f"nerva_edu is not the installed wheel: {out}"
    assert names == str(sorted(p.name for p in (ROOT / "cpp").glob("*.h")))
    assert check(run(env, "nerva-edu", "--version", cwd=elsewhere), "nerva-edu --version").strip() == \
        f"nerva-edu {nerva_edu.__version__}"


def test_the_extras_are_satisfied_by_the_pins(env, dist):
    """Nothing more to install for every extra, and no broken requirement (pip check)."""
    _, wheel = dist
    out = check(run(env, "python", "-m", "pip", "install", "--dry-run", "--no-index", *PIP_QUIET[1:],
                    f"{wheel}[{EXTRAS}]", cwd=env), "pip install --dry-run of the extras")
    assert "Would install" not in out, out
    check(run(env, "python", "-m", "pip", "check", cwd=env), "pip check")


def test_check_linear_runs_from_the_wheel(env, elsewhere):
    out = check(run(env, "nerva-edu", "check", "--only", "linear", cwd=elsewhere), "nerva-edu check --only linear")
    assert re.search(r"^linear\.backward +.+ ok +ok$", out, re.M) and "0 with a failed check" in out, out


def test_a_sparse_training_step_on_the_cpp_backend_runs_from_the_wheel(env, elsewhere):
    out = check(run(env, "nerva-edu", "train", "--backend", "cpp", "--density", "0.1", "--epochs", "1",
                    "--no-progress", cwd=elsewhere), "nerva-edu train --backend cpp")
    assert re.search(r"epoch +1 +loss \d+\.\d+", out), out


def test_a_notebook_passes_nbval_from_the_wheel(env, elsewhere):
    shutil.copy(ROOT / NOTEBOOK, elsewhere)
    shutil.copy(ROOT / "tests" / "nbval_sanitize.cfg", elsewhere)
    # cppyy's first import in a fresh environment builds its pre-compiled header and says so on stdout,
    # which the notebook's outputs do not hold: build it here, whatever ran before in this environment
    check(run(env, "python", "-c", "import cppyy", cwd=elsewhere, timeout=600), "import cppyy")
    out = check(run(env, "python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "--nbval", "--nbval-current-env",
                    "--nbval-sanitize-with", "nbval_sanitize.cfg", Path(NOTEBOOK).name, cwd=elsewhere, timeout=600),
                f"nbval on {NOTEBOOK}")
    assert re.search(r"\d+ passed", out) and "failed" not in out, out


def test_the_install_cell_installs_the_package_from_a_clone_of_the_repository(env, elsewhere, dist):
    """The first cell of the notebooks, where nerva_edu is missing, installs it from the repository
    (here this repository's last commit, through git as from the repository's URL on Colab)."""
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.strip()
    repo = launch.repository(ROOT / "_config.yml")
    cell = launch.install_cell_source(repo).replace(repo.requirement, f"git+file://localhost{ROOT}@{commit}")
    check(run(env, "python", "-m", "pip", "uninstall", "--yes", "--quiet", "nerva-edu", cwd=elsewhere), "uninstall")
    try:
        check(run(env, "python", "-c", cell, cwd=elsewhere, timeout=600), "the install cell")
        out = check(run(env, "python", "-c", "import nerva_edu.cpp as c; print(c.CPP_DIR / 'matrix_ops.h')",
                        cwd=elsewhere), "import nerva_edu after the install cell")
        assert Path(out.strip()).is_file() and out.startswith(str(env)), out
        assert check(run(env, "python", "-c", cell, cwd=elsewhere), "the install cell, again") == ""
    finally:   # the other tests use the wheel
        _, wheel = dist
        check(run(env, "python", "-m", "pip", "install", *PIP_QUIET, "--no-deps", "--force-reinstall", wheel,
                  cwd=elsewhere), "reinstalling the wheel")
