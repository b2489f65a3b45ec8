"""The notebooks of the website, read from _toc.yml (printed one per line when run)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def toc_files():
    """Every file entry of _toc.yml, as written there (paths without suffix)."""
    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("file", "root"):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, list):
            for item in node:
                yield from walk(item)
    return list(walk(yaml.safe_load((ROOT / "_toc.yml").read_text())))


def toc_notebooks():
    """The notebooks listed in _toc.yml, relative to the repository root."""
    return [f"{entry}.ipynb" for entry in toc_files() if (ROOT / f"{entry}.ipynb").is_file()]


if __name__ == "__main__":
    print("\n".join(toc_notebooks()))
