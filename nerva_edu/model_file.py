"""The file format of a saved model, for dense and sparse MLPs alike: data only, checked whole.

A model file is an ``.npz`` archive (NumPy's zip of ``.npy`` arrays, no pickle) holding

- ``format``: the text ``nerva-edu model 1``;
- ``kind``: ``dense`` or ``sparse``;
- ``architecture``: a JSON list with one object per layer (its class, activation and
  sizes, and whatever else predictions depend on, such as batch normalization's ε);
- ``inputs`` (optional): a JSON object describing the inputs the model was trained on, such as
  the command line's ``{"normalize": "standard"}`` (:func:`read_inputs`);
- one array per saved quantity, named as the model names them: for a dense MLP Nerva's
  ``W1, b1, W2, ...`` and ``al1, ..., beta1, gamma1, running_mean1, running_variance1``;
  for a sparse MLP ``indptr1, indices1, values1, b1, ...``.

:func:`write_model` writes such a file atomically. :func:`read_model` reads one against what
the model expects, and returns every array only when all of them are right: the format and
kind, an architecture equal to the model's, exactly the expected names, and for each array
its dtype class, its shape (checked in the ``.npy`` header, before any data is read, so a
crafted header cannot make it allocate terabytes) and its values. Anything else raises
:class:`ModelFileError` (a ValueError) naming the file and what is wrong, and the model is
left untouched.
"""

import json
import zipfile
import zlib

import numpy as np

from nerva_edu.files import check_input_file, write_atomically
from nerva_edu.memory import check_memory

FORMAT = "nerva-edu model 1"
_TEXT_LIMIT = 1 << 20               # characters of the architecture's JSON
_DEFLATE_RATIO = 1100               # deflate expands at most about 1032 times


class ModelFileError(ValueError):
    """A model file that cannot be read, or does not fit the model."""


def write_model(path, kind, architecture, arrays, inputs=None):
    """Write ``arrays`` (a dict name -> NumPy array) with the format, kind, architecture and (if given)
    the description ``inputs`` of the model's inputs to ``path``."""
    entries = {"format": np.array(FORMAT), "kind": np.array(kind), "architecture": np.array(json.dumps(architecture))}
    if inputs is not None:
        entries["inputs"] = np.array(json.dumps(inputs))
    overlap = entries.keys() & arrays.keys()
    if overlap:
        raise ValueError(f"write_model: reserved names {sorted(overlap)}")
    write_atomically(path, lambda file: np.savez(file, **entries, **{k: np.asarray(v) for k, v in arrays.items()}),
                     "model file")


def describe(architecture):
    """A one-line summary of an architecture, for messages."""
    return "; ".join(" ".join(str(value) for value in layer.values()) for layer in architecture) or "no layers"


def _header(path, archive, name):
    """(shape, dtype) of the member ``name``.npy, read from its header only, after checking that
    its data fits in the member (as stored and as decompressed) and in memory."""
    info = archive.getinfo(name + ".npy")
    with archive.open(info) as member:
        version = np.lib.format.read_magic(member)
        read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
        if read is None:
            raise ValueError(f"unsupported .npy version {version}")
        shape, _, dtype = read(member)
    count = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if count > info.file_size or info.file_size > _DEFLATE_RATIO * info.compress_size + 4096:
        raise ModelFileError(f"{path}: {name}'s header announces {count} bytes of data, which the file does not hold")
    check_memory(f"{path}: {name}", count)
    return shape, dtype


def _array(archive, name):
    with archive.open(name + ".npy") as member:
        return np.lib.format.read_array(member, allow_pickle=False)


def _text(path, archive, name):
    shape, dtype = _header(path, archive, name)
    if shape != () or dtype.kind != "U" or dtype.itemsize // 4 > _TEXT_LIMIT:
        raise ModelFileError(f"{path}: {name!r} is not a text entry (shape {shape}, dtype {dtype})")
    return str(_array(archive, name))


def read_model(path, kind, architecture, expected):
    """The arrays of the model file ``path`` as a dict, checked against ``kind``, ``architecture``
    and ``expected`` (a dict name -> (shape, dtype kinds, check)): ``shape`` a tuple (None
    matches any size), ``dtype kinds`` a string of NumPy dtype kinds (``"f"`` floating,
    ``"iu"`` integers), ``check`` None or a function array -> error text or None. Floating
    arrays must be finite. ModelFileError otherwise."""
    try:
        check_input_file(path, "model file")
    except OSError as error:
        raise ModelFileError(str(error)) from None
    try:
        with zipfile.ZipFile(path) as archive:
            return _read(path, archive, kind, architecture, expected)
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, UnicodeError,
            RuntimeError) as error:             # RuntimeError: an encrypted member or an unknown compression
        raise ModelFileError(f"{path}: cannot read the model file ({type(error).__name__}: {error})") from None


def read_inputs(path):
    """The ``inputs`` entry of the model file ``path`` (a dict), or None where it has none;
    ModelFileError for an entry that is not a JSON object."""
    try:
        with zipfile.ZipFile(path) as archive:
            if "inputs.npy" not in archive.namelist():
                return None
            inputs = json.loads(_text(path, archive, "inputs"))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError, UnicodeError, RuntimeError,
            RecursionError) as error:
        raise ModelFileError(f"{path}: cannot read the model file's inputs entry ({type(error).__name__}: "
                             f"{error})") from None
    if not isinstance(inputs, dict):
        raise ModelFileError(f"{path}: the inputs entry is not a JSON object")
    return inputs


def _read(path, archive, kind, architecture, expected):
    members = archive.namelist()
    names = [member.removesuffix(".npy") for member in members]
    if len(set(names)) != len(names) or any(not member.endswith(".npy") for member in members):
        raise ModelFileError(f"{path}: not a model file (its members are not distinct .npy arrays)")
    if "format" not in names or _text(path, archive, "format") != FORMAT:
        raise ModelFileError(f"{path}: not a nerva-edu model file (no entry 'format' = {FORMAT!r}); "
                             f"files are written by save_weights or --save")
    file_kind = _text(path, archive, "kind") if "kind" in names else None
    if file_kind != kind:
        raise ModelFileError(f"{path}: holds a {file_kind} model; this model is {kind}")
    try:
        file_architecture = json.loads(_text(path, archive, "architecture")) if "architecture" in names else None
    except (json.JSONDecodeError, RecursionError) as error:
        raise ModelFileError(f"{path}: the architecture entry is not valid JSON ({error})") from None
    if file_architecture != architecture:
        shown = describe(file_architecture) if isinstance(file_architecture, list) and all(
            isinstance(layer, dict) for layer in file_architecture) else repr(file_architecture)[:200]
        raise ModelFileError(f"{path}: the file holds the network [{shown}], not this one [{describe(architecture)}]")
    arrays = set(names) - {"format", "kind", "architecture", "inputs"}
    if arrays != set(expected):
        missing, extra = sorted(set(expected) - arrays), sorted(arrays - set(expected))
        raise ModelFileError(f"{path}: " + "; ".join(
            text for text in (f"missing {', '.join(missing)}" if missing else "",
                              f"unexpected {', '.join(extra)}" if extra else "") if text))
    for name, (shape, kinds, _) in expected.items():                 # headers first: nothing large is read
        file_shape, dtype = _header(path, archive, name)
        if dtype.kind not in kinds:
            raise ModelFileError(f"{path}: {name} has dtype {dtype}; expected {_kinds(kinds)}")
        if len(file_shape) != len(shape) or any(s is not None and s != f for s, f in zip(shape, file_shape)):
            raise ModelFileError(f"{path}: {name} has shape {file_shape}, the model needs "
                                 f"({', '.join('N' if s is None else str(s) for s in shape)}{',' * (len(shape) == 1)})")
    values = {}
    for name, (_, _, check) in expected.items():
        value = _array(archive, name)
        if value.dtype.kind == "f" and not np.all(np.isfinite(value)):
            raise ModelFileError(f"{path}: {name} holds values that are not finite (NaN or ±∞)")
        problem = check(value) if check else None
        if problem:
            raise ModelFileError(f"{path}: {name} {problem}")
        values[name] = value
    return values


def _kinds(kinds):
    return " or ".join({"f": "floating-point values", "i": "signed integers", "u": "unsigned integers"}[k]
                       for k in kinds)
