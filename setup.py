"""What pyproject.toml cannot say by itself about the nerva-edu package.

- The C++ headers stay in the repository's ``cpp/``; the package ``nerva_edu.include`` is that
  folder, so a wheel installs them as ``nerva_edu/include/*.h`` (``nerva_edu.cpp`` finds them
  there, or in ``cpp/`` when it runs from the sources).
- The project's URLs come from the one repository setting of ``_config.yml``.
"""

from pathlib import Path

import yaml
from setuptools import find_packages, setup

config = yaml.safe_load(Path(__file__).with_name("_config.yml").read_text())
url, branch = config["repository"]["url"], config["repository"]["branch"]

setup(
    packages=find_packages(include=["nerva_edu", "nerva_edu.*"]) + ["nerva_edu.include"],
    package_dir={"nerva_edu.include": "cpp"},
    package_data={"nerva_edu.include": ["*.h"]},
    project_urls={"Source": url, "Issues": f"{url}/issues", "Changelog": f"{url}/commits/{branch}"},
)
