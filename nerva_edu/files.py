"""Reading and writing files without surprises: regular files only, outputs checked before the
work that produces them, and written atomically.

- :func:`check_input_file` refuses a missing path, a directory, and a FIFO, socket or device in
  place of a data file (reading a FIFO would block forever).
- :func:`check_output_file` refuses, before a long run starts, an output that could not be
  written at its end: a missing directory or one where no file can be created (read-only,
  full, a file system such as /proc), a directory or a non-regular file at the path. The
  command line calls it for every output option.
- :func:`write_atomically` writes a file through a temporary file in the same directory and
  renames it into place, so that a failure (a full disk, an interruption) leaves the previous
  file intact instead of half a file (:func:`write_text` for text such as JSON, :func:`save_figure`
  for a plot, whose name :func:`check_plot_file` checks first, suffix included).

Errors are ``OSError`` with a one-line message naming the path.
"""

import os
import secrets
import stat
from pathlib import Path


def _describe(mode):
    return ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else
            "not a regular file")


def _path(path, what):
    """``path`` as a Path; OSError for a name no file can have."""
    if isinstance(path, str) and "\0" in path:
        raise OSError(f"{path!r}: the {what} name contains a NUL character")
    return Path(path)


def check_input_file(path, what="file"):
    """``path`` as a Path, if it names an existing regular file; OSError otherwise."""
    path = _path(path, what)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: {what} not found") from None
    except OSError as error:
        raise OSError(f"{path}: cannot read the {what} ({error.strerror or error})") from None
    if not stat.S_ISREG(mode):
        raise OSError(f"{path}: is {_describe(mode)}, not a regular {what}")
    if not os.access(path, os.R_OK):
        raise PermissionError(f"{path}: the {what} is not readable")
    return path


def check_output_file(path, what="output file"):
    """``path`` as a Path, if a regular file can be written there; OSError otherwise."""
    path = _path(path, what)
    if path.name in ("", ".."):                 # "", ".", "/", "..", "a/..": directories
        raise IsADirectoryError(f"{str(path)!r}: the {what} must be a file name, not a directory")
    if path.exists() or path.is_symlink():
        try:
            mode = path.stat().st_mode
        except OSError as error:
            raise OSError(f"{path}: cannot write the {what} ({error.strerror or error})") from None
        if not stat.S_ISREG(mode):
            raise IsADirectoryError(f"{path}: is {_describe(mode)}; the {what} must be a regular file")
    parent = path.parent
    if not parent.is_dir():
        problem = "is not a directory" if parent.exists() else "does not exist"
        raise FileNotFoundError(f"{path}: cannot write the {what}: the directory {parent} {problem}")
    probe = _temporary(path)                  # the file write_atomically will create first
    try:
        open(probe, "xb").close()
    except OSError as error:
        raise OSError(f"{path}: cannot write the {what}: no file can be created in {parent} "
                      f"({error.strerror or error})") from None
    probe.unlink()
    return path


def _temporary(path):
    """A new name beside ``path`` (hidden, and short enough wherever ``path``'s name is allowed)."""
    return path.with_name(f".{path.name[:64]}.{secrets.token_hex(4)}.tmp")


def write_atomically(path, write, what="output file"):
    """Call ``write(file)`` on a new binary file, then move it to ``path`` (replacing any file
    there only once the writing has succeeded)."""
    path = check_output_file(path, what)
    temporary = _temporary(path)
    try:
        with open(temporary, "xb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def check_plot_file(path, what="--plot file"):
    """``path`` as a Path, if a figure can be written there in a format matplotlib knows from its
    suffix (.png, .pdf, .svg, ...); OSError or ValueError otherwise, before the work that draws it."""
    from matplotlib.figure import Figure
    if str(path).endswith(("/", os.sep)):
        raise IsADirectoryError(f"{str(path)!r}: the {what} must be a file name, not a directory")
    formats = Figure().canvas.get_supported_filetypes()
    suffix = Path(path).suffix.lstrip(".").lower()
    if suffix not in formats:
        raise ValueError(f"{path}: the {what} needs a suffix that names an image format: "
                         f"{', '.join('.' + name for name in sorted(formats))}")
    return check_output_file(path, what)


def save_figure(figure, path, what="--plot file"):
    """Write a matplotlib ``figure`` to ``path`` atomically, in the format its suffix names."""
    suffix = Path(path).suffix.lstrip(".").lower()
    write_atomically(path, lambda file: figure.savefig(file, format=suffix, dpi=120), what)


def write_text(path, text, what="output file"):
    """Write ``text`` (UTF-8) to ``path``, atomically."""
    write_atomically(path, lambda file: file.write(text.encode()), what)
