"""Where the book's notebooks run outside this repository, from one setting.

The ``repository`` entry of ``_config.yml`` (its ``url`` and ``branch``) names the repository a
course works from: a fork changes it there and nowhere else. Read by the website's header links
and launch buttons (Jupyter Book), and by the functions below: the install cell that opens every
notebook (for Colab and other hosted kernels, where ``nerva_edu`` is missing), the nbgitpuller
links that clone the notebooks into each student's home on a JupyterHub, and the launch links of
the README.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

INSTALL_CELL_ID = "install-nerva-edu"
# remove-cell: the website does not show the cell (Binder's image and the website's own
# environment have nerva_edu installed already).
INSTALL_CELL_TAGS = ["remove-cell"]
# pip's index of CPU-only torch wheels, used by the install cell only where torch is missing (a
# plain `pip install torch` on Linux brings the CUDA build, several gigabytes).
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass(frozen=True)
class Repository:
    """The book's repository: its web address (``https://host/owner/name``) and branch."""

    url: str
    branch: str

    def __post_init__(self):
        if not isinstance(self.url, str) or not re.fullmatch(r"https://[^/\s]+/[^/\s]+/[^/\s]+", self.url):
            raise ValueError(f"repository url must be https://host/owner/name, got {self.url!r}")
        if not isinstance(self.branch, str) or not re.fullmatch(r"[\w./-]+", self.branch):
            raise ValueError(f"repository branch must be a branch name, got {self.branch!r}")

    @property
    def owner_and_name(self):
        """``owner/name``, as Binder's and Colab's GitHub addresses spell the repository."""
        return self.url.split("/", 3)[3]

    @property
    def folder(self):
        """The folder a clone of the repository makes (its last path component)."""
        return self.url.rsplit("/", 1)[1].removesuffix(".git")

    @property
    def requirement(self):
        """The pip requirement that installs the package from this repository and branch."""
        return f"git+{self.url}@{self.branch}"


def repository(config):
    """The :class:`Repository` of a Jupyter Book configuration: a path to ``_config.yml`` or
    the mapping read from it."""
    if isinstance(config, (str, Path)):
        import yaml
        config = yaml.safe_load(Path(config).read_text())
    entry = config.get("repository") if isinstance(config, dict) else None
    if not isinstance(entry, dict) or "url" not in entry or "branch" not in entry:
        raise ValueError("the configuration has no repository setting with a url and a branch")
    return Repository(entry["url"], entry["branch"])


def install_command(repo, extras="torch,jax,cpp,book"):
    """The shell command that installs the package with ``extras`` from ``repo`` (torch from
    PyTorch's CPU-only index)."""
    return f'pip install --extra-index-url {TORCH_CPU_INDEX} "nerva-edu[{extras}] @ {repo.requirement}"'


def install_cell_source(repo):
    """The code of the first cell of every notebook: install nerva_edu from ``repo`` when it
    cannot be imported (the book's extras, and a CPU torch if there is no torch), else nothing."""
    return "\n".join([
        "# On Colab or another hosted kernel, install nerva_edu from the book's repository first;",
        "# where nerva_edu is installed already (this repository, Binder), this cell does nothing.",
        "import importlib.util, subprocess, sys",
        'if importlib.util.find_spec("nerva_edu") is None:',
        '    extras = "book,cpp,jax" if importlib.util.find_spec("torch") else "book,cpp,jax,torch"  # a CPU torch if none',
        f'    package = f"nerva-edu[{{extras}}] @ {repo.requirement}"',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",',
        f'                    "--extra-index-url", "{TORCH_CPU_INDEX}", package], check=True)',
    ])


def with_install_cell(notebook, repo):
    """Put the install cell of ``repo`` first among the code cells of ``notebook`` (an
    nbformat 4 notebook, changed in place and returned), replacing an older one."""
    import nbformat

    notebook.cells = [cell for cell in notebook.cells if cell.get("id") != INSTALL_CELL_ID]
    cell = nbformat.v4.new_code_cell(install_cell_source(repo), id=INSTALL_CELL_ID,
                                     metadata={"tags": list(INSTALL_CELL_TAGS)})
    first_code = next((i for i, c in enumerate(notebook.cells) if c.cell_type == "code"), len(notebook.cells))
    notebook.cells.insert(first_code, cell)
    return notebook


def _notebook_path(notebook):
    path = str(notebook)
    if not path.endswith(".ipynb") or path.startswith("/") or ".." in Path(path).parts:
        raise ValueError(f"expected a notebook path inside the repository, got {path!r}")
    return path


def nbgitpuller_url(hub_url, repo, notebook, interface="lab"):
    """The link that clones (or updates) ``repo`` into a student's home on the JupyterHub at
    ``hub_url`` through nbgitpuller, then opens ``notebook`` (a path in the repository) in
    JupyterLab (``interface="lab"``) or the classic notebook (``"tree"``)."""
    if interface not in ("lab", "tree"):
        raise ValueError(f"interface must be 'lab' or 'tree', got {interface!r}")
    if not re.fullmatch(r"https?://[^\s?#]+", str(hub_url)):
        raise ValueError(f"hub url must be an http(s) address, got {hub_url!r}")
    urlpath = f"{interface}/tree/{repo.folder}/{_notebook_path(notebook)}"
    query = urlencode({"repo": repo.url, "branch": repo.branch, "urlpath": urlpath})
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def binder_url(repo, notebook, binderhub_url="https://mybinder.org"):
    """The link that starts ``notebook`` of a GitHub ``repo`` on a BinderHub, in JupyterLab."""
    return f"{binderhub_url.rstrip('/')}/v2/gh/{repo.owner_and_name}/{repo.branch}?urlpath=lab/tree/{_notebook_path(notebook)}"


def colab_url(repo, notebook):
    """The link that opens ``notebook`` of a GitHub ``repo`` in Google Colab."""
    return f"https://colab.research.google.com/github/{repo.owner_and_name}/blob/{repo.branch}/{_notebook_path(notebook)}"


def pages_url(repo):
    """The address at which GitHub Pages publishes the website of a GitHub ``repo``."""
    owner, name = repo.owner_and_name.split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


README_START = "<!-- launch links: generated from _config.yml by tests/execute_notebooks.py -->"
README_END = "<!-- end of the launch links -->"


def readme_links(repo, notebook, binderhub_url="https://mybinder.org"):
    """The README's block of launch links for ``notebook`` (Binder, Colab, the website) and the
    install command of the package from ``repo``, between the two marker comments."""
    return "\n".join([
        README_START,
        f"[![Binder](https://mybinder.org/badge_logo.svg)]({binder_url(repo, notebook, binderhub_url)})",
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(repo, notebook)})",
        "",
        f"The website: <{pages_url(repo)}>. The repository: <{repo.url}>, branch `{repo.branch}`. The package, with",
        "everything the notebooks use (a CPU-only torch from PyTorch's index):",
        "",
        "```sh",
        install_command(repo),
        "```",
        README_END,
    ])


def with_readme_links(text, repo, notebook, binderhub_url="https://mybinder.org"):
    """``text`` (a README) with its block of launch links replaced by :func:`readme_links`."""
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"the README has no launch-links block ({README_START} ... {README_END})")
    return text[:start] + readme_links(repo, notebook, binderhub_url) + text[end + len(README_END):]
