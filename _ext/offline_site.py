"""A Sphinx extension that makes the nerva-edu website work offline, without console errors.

1. MathJax 3 is served from the site itself: the Makefile installs the pinned ``mathjax``
   npm package (package.json, package-lock.json) into node_modules/, and after an HTML
   build its ``es5/`` bundle is copied to ``_static/mathjax/``, which ``mathjax_path`` in
   _config.yml points at. Building without it is an error, not a page with raw LaTeX.
2. Sphinx 7.4 writes an inline script twice when an extension registers it with
   ``app.add_js_file(None, body=...)`` after the builder started (the builder keeps it
   under the name ``None``, ``prepare_writing`` adds it again under ``''``). sphinx-thebe
   does that for ``const THEBE_JS_URL = ...``, and the second copy raises "Uncaught
   SyntaxError: Identifier 'THEBE_JS_URL' has already been declared" on every page of a
   default Jupyter Book 1 site. Each page here gets every script once.
"""

import shutil
from pathlib import Path

from sphinx.errors import ExtensionError

MATHJAX_BUNDLE = Path("node_modules", "mathjax", "es5")


def _mathjax_source(app):
    return Path(app.confdir, MATHJAX_BUNDLE)


def check_mathjax(app):
    """Refuse to build HTML that would load MathJax from nowhere."""
    if app.builder.format == "html" and not (_mathjax_source(app) / "tex-mml-chtml.js").is_file():
        raise ExtensionError(f"offline_site: MathJax is missing from {_mathjax_source(app)}; "
                             "run `make install` (or `npm ci`) in the repository first")


def copy_mathjax(app, exception):
    """Copy the MathJax bundle next to the other static files of the built site."""
    if exception is None and app.builder.format == "html":
        shutil.copytree(_mathjax_source(app), Path(app.outdir, "_static", "mathjax"), dirs_exist_ok=True)


def unique_scripts(app, pagename, templatename, context, doctree):
    """Keep the first of scripts that differ only in being named ``None`` or ``''``."""
    scripts, seen = context.get("script_files", []), set()
    unique = []
    for script in scripts:
        key = (script.filename or "", script.priority, tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("builder-inited", check_mathjax)
    app.connect("build-finished", copy_mathjax)
    app.connect("html-page-context", unique_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
