"""A Sphinx extension for the instructors' page, with two directives made from _config.yml:

- ``nbgitpuller-links``: one link per notebook of the book that clones the repository into a
  student's home on the course's JupyterHub (nbgitpuller) and opens that notebook there;
- ``package-install``: the pip command that installs the package from the repository (for a
  hub's image, or any Python environment).

Everything comes from _config.yml, as Jupyter Book passes it to Sphinx: the repository's ``url``
and ``branch`` (``html_theme_options.repository_url``, ``repository_branch``) and the hub
(``launch_buttons.jupyterhub_url``). The links are made by ``nerva_edu.launch.nbgitpuller_url``,
the same functions the tests check.
"""

from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from nerva_edu.launch import Repository, install_command, nbgitpuller_url


def course_settings(config):
    """The repository and the hub address that _config.yml gives, from Sphinx's ``config``."""
    options = config.html_theme_options
    repo = Repository(options.get("repository_url"), options.get("repository_branch"))
    return repo, options.get("launch_buttons", {}).get("jupyterhub_url")


def book_notebooks(env):
    """The notebooks of the book, as paths in the repository, in the order of their names."""
    paths = (Path(env.doc2path(doc)) for doc in env.found_docs)
    return sorted(str(path.relative_to(env.srcdir)) for path in paths if path.suffix == ".ipynb")


class NbgitpullerLinks(SphinxDirective):
    """The hub and repository, then a bullet list: each notebook's path, linked to its nbgitpuller
    address on the hub."""

    def run(self):
        repo, hub = course_settings(self.config)
        if not hub:
            raise self.error("nbgitpuller-links: _config.yml sets no launch_buttons.jupyterhub_url")
        lead = nodes.paragraph("", "For the hub at ", nodes.literal(text=hub), nodes.Text(f" and {repo.url}, branch "),
                               nodes.literal(text=repo.branch), nodes.Text(":"))
        items = nodes.bullet_list()
        for notebook in book_notebooks(self.env):
            link = nodes.reference("", "", nodes.literal(text=notebook), refuri=nbgitpuller_url(hub, repo, notebook))
            items += nodes.list_item("", nodes.paragraph("", "", link))
        return [lead, items]


class PackageInstall(SphinxDirective):
    """A shell code block: pip installing the package, with every extra, from the repository."""

    def run(self):
        repo, _ = course_settings(self.config)
        command = install_command(repo)
        return [nodes.literal_block(command, command, language="sh")]


def setup(app):
    app.add_directive("nbgitpuller-links", NbgitpullerLinks)
    app.add_directive("package-install", PackageInstall)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
