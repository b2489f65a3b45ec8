import os
import sys
from pathlib import Path

from hypothesis import settings

sys.path.insert(0, str(Path(__file__).parent))   # tests/toc.py is importable as `toc`

# Local runs explore new random examples (and replay failures from .hypothesis/); CI runs the
# same derandomized examples every time, so a submission's result does not depend on luck.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
