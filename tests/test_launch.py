"""The launch configuration made from the one repository setting of _config.yml: the install cell
that opens every notebook, the nbgitpuller, Binder and Colab links, the README's links, the
instructors' page directives, and that no other file names the repository."""

import builtins
import importlib.util
import json
import subprocess
import sys
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement

from nerva_edu import launch
from toc import ROOT, toc_notebooks

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO = launch.repository(CONFIG)
NOTEBOOKS = toc_notebooks()


def test_the_repository_setting_is_read_from_the_configuration():
    assert REPO == launch.Repository(CONFIG["repository"]["url"], CONFIG["repository"]["branch"])
    assert launch.repository(ROOT / "_config.yml") == REPO
    assert REPO.folder == REPO.url.rsplit("/", 1)[1]
    assert REPO.requirement == f"git+{REPO.url}@{REPO.branch}"


@pytest.mark.parametrize("config, message", [
    ({}, "no repository setting"),
    ({"repository": {"url": "https://github.com/a/b"}}, "no repository setting"),
    ({"repository": {"url": "http://github.com/a/b", "branch": "main"}}, "https://host/owner/name"),
    ({"repository": {"url": "https://github.com/a", "branch": "main"}}, "https://host/owner/name"),
    ({"repository": {"url": "https://github.com/your-org/your-book/", "branch": "main"}}, "https://host/owner/name"),
    ({"repository": {"url": "https://github.com/a/b", "branch": "a b"}}, "branch name"),
    ({"repository": {"url": "https://github.com/a/b", "branch": 3}}, "branch name"),
    ([], "no repository setting"),
])
def test_a_bad_repository_setting_is_named(config, message):
    with pytest.raises(ValueError, match=message):
        launch.repository(config)


# --- the install cell -------------------------------------------------------------------------

def first_code_cell(path):
    cells = json.loads((ROOT / path).read_text())["cells"]
    return next(cell for cell in cells if cell["cell_type"] == "code")


@pytest.mark.parametrize("path", NOTEBOOKS)
def test_every_notebook_starts_with_the_install_cell_of_the_configured_repository(path):
    cell = first_code_cell(path)
    assert cell.get("id") == launch.INSTALL_CELL_ID and "".join(cell["source"]) == launch.install_cell_source(REPO), \
        f"{path}: the first code cell is not the install cell of {REPO.url}@{REPO.branch}; run `make notebooks`"
    assert "remove-cell" in cell["metadata"].get("tags", []), f"{path}: the install cell is shown on the website"
    assert cell["outputs"] == [], f"{path}: the install cell printed something where nerva_edu is installed"


def run_install_cell(monkeypatch, missing):
    """Run the install cell here with the modules of ``missing`` hidden; the pip calls it makes."""
    calls = []
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in missing else find_spec(name, *a))
    monkeypatch.setattr(subprocess, "run", lambda argv, **kwargs: calls.append((argv, kwargs)))
    exec(launch.install_cell_source(REPO), {"__builtins__": builtins})
    return calls


def test_the_install_cell_does_nothing_where_nerva_edu_is_installed(monkeypatch):
    assert run_install_cell(monkeypatch, missing=set()) == []


@pytest.mark.parametrize("missing, extras", [({"nerva_edu"}, {"book", "cpp", "jax"}),
                                             ({"nerva_edu", "torch"}, {"book", "cpp", "jax", "torch"})])
def test_the_install_cell_installs_the_package_from_the_repository_where_it_is_missing(monkeypatch, missing, extras):
    [(argv, kwargs)] = run_install_cell(monkeypatch, missing)
    assert argv[:4] == [sys.executable, "-m", "pip", "install"] and kwargs == {"check": True}
    assert argv[argv.index("--extra-index-url") + 1] == launch.TORCH_CPU_INDEX
    requirement = Requirement(argv[-1])
    assert (requirement.name, requirement.extras, requirement.url) == ("nerva-edu", extras, REPO.requirement)
    with open(ROOT / "pyproject.toml", "rb") as file:
        import tomllib
        declared = set(tomllib.load(file)["project"]["optional-dependencies"])
    assert extras <= declared, f"the install cell asks for extras the package does not have: {extras - declared}"


def test_the_install_cell_is_inserted_before_the_first_code_cell_and_refreshed():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title"),
                                               nbformat.v4.new_code_cell("x = 1")])
    launch.with_install_cell(notebook, launch.Repository("https://github.com/old/book", "main"))
    launch.with_install_cell(notebook, REPO)
    assert [c.cell_type for c in notebook.cells] == ["markdown", "code", "code"]
    assert notebook.cells[1].source == launch.install_cell_source(REPO) and notebook.cells[2].source == "x = 1"
    assert "old/book" not in json.dumps(notebook)
    nbformat.validate(notebook)


def test_a_notebook_without_code_gets_the_install_cell_last():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Title")])
    assert launch.with_install_cell(notebook, REPO).cells[-1].id == launch.INSTALL_CELL_ID


# --- links ----------------------------------------------------------------------------------

def test_nbgitpuller_link_clones_the_repository_and_opens_the_notebook():
    url = urlparse(launch.nbgitpuller_url("https://hub.example.org/", REPO, "book/01-introduction.ipynb"))
    assert (url.scheme, url.netloc, url.path) == ("https", "hub.example.org", "/hub/user-redirect/git-pull")
    assert parse_qs(url.query) == {"repo": [REPO.url], "branch": [REPO.branch],
                                   "urlpath": [f"lab/tree/{REPO.folder}/book/01-introduction.ipynb"]}
    classic = launch.nbgitpuller_url("http://localhost:8000", REPO, "book/x.ipynb", interface="tree")
    assert parse_qs(urlparse(classic).query)["urlpath"] == [f"tree/tree/{REPO.folder}/book/x.ipynb"]


@pytest.mark.parametrize("args, message", [
    (("hub.example.org", "book/a.ipynb"), "http"),
    (("https://hub.example.org", "book/a.md"), "notebook path"),
    (("https://hub.example.org", "/etc/a.ipynb"), "notebook path"),
    (("https://hub.example.org", "../a.ipynb"), "notebook path"),
])
def test_bad_link_arguments_are_named(args, message):
    hub, notebook = args
    with pytest.raises(ValueError, match=message):
        launch.nbgitpuller_url(hub, REPO, notebook)
    with pytest.raises(ValueError, match="interface"):
        launch.nbgitpuller_url("https://hub.example.org", REPO, "book/a.ipynb", interface="voila")


def test_binder_and_colab_links_name_the_repository_branch_and_notebook():
    notebook = NOTEBOOKS[0]
    assert launch.binder_url(REPO, notebook) == \
        f"https://mybinder.org/v2/gh/{REPO.owner_and_name}/{REPO.branch}?urlpath=lab/tree/{notebook}"
    assert launch.colab_url(REPO, notebook) == \
        f"https://colab.research.google.com/github/{REPO.owner_and_name}/blob/{REPO.branch}/{notebook}"


def test_the_readme_links_are_made_from_the_configuration():
    readme = (ROOT / "README.md").read_text()
    block = launch.readme_links(REPO, NOTEBOOKS[0], CONFIG["launch_buttons"]["binderhub_url"])
    assert block in readme, "README.md: the launch links are not those of _config.yml; run `make notebooks`"
    assert launch.with_readme_links(readme, REPO, NOTEBOOKS[0], CONFIG["launch_buttons"]["binderhub_url"]) == readme
    with pytest.raises(ValueError, match="no launch-links block"):
        launch.with_readme_links("# a README", REPO, NOTEBOOKS[0])


# --- the instructors' page directives (the website's build runs them: test_site_browser) ------

def load_course_links():
    spec = importlib.util.spec_from_file_location("course_links", ROOT / "_ext" / "course_links.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_extension_reads_the_settings_jupyter_book_passes_to_sphinx():
    from jupyter_book.config import yaml_to_sphinx
    sphinx_config = SimpleNamespace(**yaml_to_sphinx(CONFIG)[0])
    repo, hub = load_course_links().course_settings(sphinx_config)
    assert (repo, hub) == (REPO, CONFIG["launch_buttons"]["jupyterhub_url"])


def test_the_extension_lists_the_notebooks_of_the_book(tmp_path):
    for name in ("book/b.ipynb", "book/a.ipynb", "book/c.md"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).touch()
    env = SimpleNamespace(srcdir=str(tmp_path), found_docs={"book/a", "book/b", "book/c"},
                          doc2path=lambda doc: str(next(tmp_path.glob(f"{doc}.*"))))
    assert load_course_links().book_notebooks(env) == ["book/a.ipynb", "book/b.ipynb"]


# --- no other file names the repository ------------------------------------------------------

def repository_files():
    """The files of the repository (tracked and new ones, without those .gitignore names)."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in sorted(set(listed.split("\0"))) if name and (ROOT / name).is_file()]


def test_no_file_but_the_configuration_names_the_repository():
    """A course changes the repository in _config.yml only: every other mention is made from it
    (the notebooks' install cells, the README's launch links) and checked above."""
    readme_block = launch.readme_links(REPO, NOTEBOOKS[0], CONFIG["launch_buttons"]["binderhub_url"])
    install_cell = launch.install_cell_source(REPO)
    offenders = []
    for path in repository_files():
        if path == ROOT / "_config.yml":
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        if path.suffix == ".ipynb":
            text = "\n".join("".join(c["source"]) for c in json.loads(text)["cells"]
                             if c.get("id") != launch.INSTALL_CELL_ID)
        elif path == ROOT / "README.md":
            text = text.replace(readme_block, "")
        if REPO.owner_and_name in text or (path.suffix != ".ipynb" and install_cell in text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, (f"these files name the repository {REPO.owner_and_name} themselves instead of "
                           f"reading it from _config.yml: {offenders}")
