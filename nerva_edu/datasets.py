"""Data sets for training: scikit-learn's bundled digits (the default, no network needed),
MNIST from its IDX files and CIFAR-10 from its python batches, read from a local path, and
synthetic data of any shape (by default CIFAR-10's) with learnable class means.

Every loader returns a :class:`Dataset` in the spec's row layout: X (N×D) holds one example
per row, T (N×K) the one-hot targets. A missing or corrupt file raises :class:`DatasetError`
(a ValueError) naming the file and what is wrong with it.

Data files are data. Only regular files are read (a FIFO in place of a batch would block
forever); sizes announced by a header are checked against the file and against the memory
before anything is allocated; labels must be whole numbers in 0..9, the training and test
images must have one shape, and neither set may be empty. CIFAR-10's python batches are
pickles, and a pickle can ask for any function to be called: they are read with an unpickler
that builds only what a batch holds (:class:`CifarUnpickler`) and refuses everything else.
"""

import gzip
import io
import lzma
import math
import os
import pickle
import struct
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nerva_edu.files import check_input_file
from nerva_edu.memory import check_memory

NORMALIZATIONS = {
    "unit": "divide by the largest possible pixel value, giving values in [0, 1]",
    "standard": "subtract the training set's mean and divide by its standard deviation, per feature",
    "none": "keep the raw pixel values",
}


class DatasetError(ValueError):
    """A data file is missing, unreadable or not in the expected format."""


@dataclass
class Dataset:
    name: str
    Xtrain: np.ndarray      # N×D
    Ttrain: np.ndarray      # N×K, one-hot
    Xtest: np.ndarray
    Ttest: np.ndarray
    image_shape: tuple      # one example as an image: (8, 8), (28, 28) or (3, 32, 32)

    @property
    def classes(self):
        return self.Ttrain.shape[1]

    @property
    def train_labels(self):
        return self.Ttrain.argmax(axis=1)

    @property
    def test_labels(self):
        return self.Ttest.argmax(axis=1)

    def __str__(self):
        return (f"{self.name}: {len(self.Xtrain)} training and {len(self.Xtest)} test examples, "
                f"{self.Xtrain.shape[1]} features, {self.classes} classes")


def one_hot(labels, K, dtype=np.float64):
    """The N×K matrix T with T[i, labels[i]] = 1 and zeros elsewhere (labels: whole numbers 0..K−1)."""
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"one_hot: K must be a positive integer, got {K!r}")
    labels = np.asarray(labels)
    if labels.ndim != 1 or (labels.size and (labels.dtype.kind not in "iuf" or not np.all(np.isfinite(labels))
                                             or np.any(labels != np.round(labels)))):
        raise ValueError(f"one_hot: labels must be a list of whole numbers, got {labels.dtype.name} values of shape "
                         f"{labels.shape}")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= K):
        raise ValueError(f"one_hot: labels must lie in 0..{K - 1}, got {labels.min()}..{labels.max()}")
    T = np.zeros((len(labels), K), dtype=dtype)
    T[np.arange(len(labels)), labels] = 1
    return T


def _make(name, Xtrain, ytrain, Xtest, ytest, image_shape, max_value, normalize, dtype, K=10):
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize: unknown value {normalize!r}; accepted: {', '.join(NORMALIZATIONS)}")
    check_memory(f"{name}: {len(Xtrain) + len(Xtest)} images as float64", (Xtrain.size + Xtest.size) * 8 * 3)
    Xtrain, Xtest = Xtrain.astype(np.float64), Xtest.astype(np.float64)
    if normalize == "unit":
        Xtrain, Xtest = Xtrain / max_value, Xtest / max_value
    elif normalize == "standard":
        mean, std = Xtrain.mean(axis=0), Xtrain.std(axis=0)
        std[std == 0] = 1                                    # constant features (image borders)
        Xtrain, Xtest = (Xtrain - mean) / std, (Xtest - mean) / std
    return Dataset(name, np.ascontiguousarray(Xtrain, dtype=dtype), one_hot(ytrain, K, dtype),
                   np.ascontiguousarray(Xtest, dtype=dtype), one_hot(ytest, K, dtype), image_shape)


# --- digits -----------------------------------------------------------------------------

def load_digits(normalize="unit", dtype=np.float64, test_fraction=0.2, split_seed=0):
    """scikit-learn's bundled 8×8 digits (1797 images, pixel values 0..16), split into
    training and test sets by a fixed seeded permutation (by default round(0.2 · 1797) = 359 test
    and 1438 training images)."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"load_digits: test_fraction must lie strictly between 0 and 1, got {test_fraction}")
    from sklearn.datasets import load_digits as sklearn_digits
    digits = sklearn_digits()
    order = np.random.default_rng(split_seed).permutation(len(digits.target))
    n_test = round(test_fraction * len(order))
    test, train = order[:n_test], order[n_test:]
    return _make("digits", digits.data[train], digits.target[train], digits.data[test], digits.target[test],
                 (8, 8), 16.0, normalize, dtype)


# --- MNIST (IDX files) --------------------------------------------------------------------

MNIST_FILES = {"train_images": "train-images-idx3-ubyte", "train_labels": "train-labels-idx1-ubyte",
               "test_images": "t10k-images-idx3-ubyte", "test_labels": "t10k-labels-idx1-ubyte"}


def _find(directory, stem):
    for candidate in (directory / stem, directory / (stem + ".gz")):
        if candidate.exists():
            return candidate
    raise DatasetError(f"MNIST: missing file {directory / stem} (or {stem}.gz) in {directory}")


def _input_file(path):
    """``path`` if it is a readable regular file; DatasetError naming it otherwise."""
    try:
        return check_input_file(path, "data file")
    except OSError as error:
        raise DatasetError(str(error)) from None


def read_idx(path, ndim):
    """An unsigned-byte IDX array (gzipped or not) with ``ndim`` dimensions:
    magic 0x00 0x00 0x08 ndim, then ndim big-endian 32-bit sizes, then the bytes. The sizes
    the header announces are checked against the file (and the memory) before the data is read."""
    path = _input_file(path)
    try:
        with open(path, "rb") as file:
            compressed = file.read(2) == b"\x1f\x8b"
        with (gzip.open if compressed else open)(path, "rb") as file:
            header = file.read(4 + 4 * ndim)
            if len(header) < 4 + 4 * ndim:
                raise DatasetError(f"{path}: file too short for an IDX header ({len(header)} bytes)")
            magic = header[:4]
            if magic[:2] != b"\0\0" or magic[2] != 0x08 or magic[3] != ndim:
                raise DatasetError(f"{path}: not an unsigned-byte IDX file with {ndim} dimension(s) "
                                   f"(magic number {magic.hex()}, expected 000008{ndim:02x})")
            sizes = struct.unpack(f">{ndim}I", header[4:])
            count = math.prod(sizes)                  # exact: the product of four 32-bit sizes may be 2^128
            announced = f"header announces {'×'.join(map(str, sizes))} = {count} values but the file holds"
            if not compressed and path.stat().st_size - len(header) != count:
                raise DatasetError(f"{path}: {announced} {path.stat().st_size - len(header)}")
            check_memory(f"{path}: the {'×'.join(map(str, sizes))} values its header announces", count)
            body = file.read(count + 1)               # one byte more: a longer file is an error too
    except DatasetError:
        raise
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(f"{path}: not a readable gzip file ({error})") from None
    if len(body) != count:
        raise DatasetError(f"{path}: {announced} {'more' if len(body) > count else len(body)}")
    return np.frombuffer(body, dtype=np.uint8).reshape(sizes)


def _labels(path, labels, count, K=10):
    """``labels`` (whole numbers in 0..K−1, one per image) as a 1-D int64 array."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise DatasetError(f"{path}: labels must be a list of numbers, got an array of shape {labels.shape}")
    if len(labels) != count:
        raise DatasetError(f"{path}: {len(labels)} labels for {count} images")
    if labels.size and labels.dtype.kind not in "iu":
        raise DatasetError(f"{path}: labels must be whole numbers 0..{K - 1}, got {labels.dtype.name} values "
                           f"such as {labels[0]!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= K):
        bad = labels.max() if labels.max() >= K else labels.min()
        raise DatasetError(f"{path}: label {bad} is out of range 0..{K - 1}")
    return labels.astype(np.int64)


def _check_sets(train_path, test_path, train_images, test_images):
    """Both sets non-empty, with images of one shape."""
    for path, images in ((train_path, train_images), (test_path, test_images)):
        if len(images) == 0 or 0 in images.shape[1:]:
            raise DatasetError(f"{path}: no images (the data has shape {images.shape})")
    if train_images.shape[1:] != test_images.shape[1:]:
        raise DatasetError(f"{test_path}: the test images have shape {'×'.join(map(str, test_images.shape[1:]))}, "
                           f"but the training images {'×'.join(map(str, train_images.shape[1:]))}")


def load_mnist(path, normalize="unit", dtype=np.float64):
    """MNIST from a directory holding the four IDX files (each may be gzipped)."""
    directory = Path(path)
    if not directory.is_dir():
        raise DatasetError(f"MNIST: {directory} is not a directory (expected the four IDX files in it)")
    parts = {}
    for split in ("train", "test"):
        images_path = _find(directory, MNIST_FILES[f"{split}_images"])
        labels_path = _find(directory, MNIST_FILES[f"{split}_labels"])
        images = read_idx(images_path, 3)
        labels = _labels(labels_path, read_idx(labels_path, 1), len(images))
        parts[split] = (images_path, images, labels)
    (train_path, train_images, ytrain), (test_path, test_images, ytest) = parts["train"], parts["test"]
    _check_sets(train_path, test_path, train_images, test_images)
    return _make("mnist", train_images.reshape(len(train_images), -1), ytrain,
                 test_images.reshape(len(test_images), -1), ytest, train_images.shape[1:], 255.0, normalize, dtype)


# --- CIFAR-10 (python batches) ------------------------------------------------------------

CIFAR_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR_TEST = "test_batch"
CIFAR_FOLDER = "cifar-10-batches-py"


# numpy's function that rebuilds a pickled array: the one ndarray.__reduce__ names (a pickle asks
# for it as numpy.core.multiarray._reconstruct, the name when the files were written, or as
# numpy._core.multiarray._reconstruct, its name since NumPy 2)
_RECONSTRUCT = np.ndarray((0,)).__reduce__()[0]


class _NDArray:
    """Stands for numpy.ndarray in a pickle: an argument of _reconstruct, never called."""

    def __init__(self, *args):
        raise pickle.UnpicklingError("refused to call numpy.ndarray")


def _reconstruct(cls, shape, dtype):
    """numpy's _reconstruct for an empty ndarray of ``dtype`` (its contents come from the pickle's
    BUILD step, checked by NumPy against the shape it announces)."""
    if cls is not _NDArray:
        raise pickle.UnpicklingError("_reconstruct: refused a class other than numpy.ndarray")
    return _RECONSTRUCT(np.ndarray, (0,), dtype)


class CifarUnpickler(pickle.Unpickler):
    """An unpickler that builds only what a CIFAR-10 python batch holds: a dict with bytes or str
    keys, lists, strings, numbers, and NumPy arrays by numpy's ``_reconstruct`` (which needs
    ``numpy.ndarray`` and ``numpy.dtype``), as the files were written by Python 2's cPickle.
    Any other global (``os.system``, ``builtins.eval``, a class) is refused before it is looked
    up, so a crafted file cannot run anything."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"): _reconstruct,
               ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
               ("numpy", "ndarray"): _NDArray,
               ("numpy", "dtype"): np.dtype}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: a CIFAR-10 batch holds only dicts, "
                                         f"lists, strings, numbers and NumPy arrays")
        return self.ALLOWED[module, name]

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refused a persistent id")


def _unpickle_batch(name, data):
    """(images, labels) of one CIFAR-10 batch: a dict with b'data' (N×3072 uint8, N ≥ 1) and
    b'labels' (N whole numbers 0..9; b'batch_label' and b'filenames' are not used)."""
    try:
        batch = CifarUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as error:                       # pickle raises many kinds on bad input
        raise DatasetError(f"{name}: not a CIFAR-10 python batch (unpickling failed: {error})") from None
    if not isinstance(batch, dict) or any(not isinstance(key, (bytes, str)) for key in batch):
        raise DatasetError(f"{name}: not a CIFAR-10 python batch (expected a dict with keys b'data', b'labels')")
    batch = {key.encode() if isinstance(key, str) else key: value for key, value in batch.items()}
    if b"data" not in batch or b"labels" not in batch:
        raise DatasetError(f"{name}: not a CIFAR-10 python batch (expected a dict with keys b'data', b'labels')")
    images, labels = batch[b"data"], batch[b"labels"]
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        raise DatasetError(f"{name}: data must be an array of uint8 pixel values, got "
                           f"{getattr(images, 'dtype', type(images).__name__)}")
    if images.ndim != 2 or images.shape[1] != 3072 or len(images) == 0:
        raise DatasetError(f"{name}: data has shape {images.shape}, expected (N, 3072) with N ≥ 1")
    if not isinstance(labels, (list, tuple, np.ndarray)):
        raise DatasetError(f"{name}: labels must be a list of numbers 0..9, got {type(labels).__name__}")
    if not isinstance(labels, np.ndarray):
        wrong = next((label for label in labels if type(label) is not int), None)
        if wrong is not None:
            raise DatasetError(f"{name}: labels must be whole numbers 0..9, got {wrong!r}")
        wrong = next((label for label in labels if not 0 <= label <= 9), None)    # also beyond int64
        if wrong is not None:
            raise DatasetError(f"{name}: label {wrong} is out of range 0..9")
    return images, _labels(name, labels, len(images))


def _cifar_reader(path):
    """A function name -> (where, bytes) reading CIFAR-10 batches from a directory or a .tar.gz
    (``where`` names the file, for messages)."""
    path = Path(path)
    if path.is_dir():
        folder = path / CIFAR_FOLDER if (path / CIFAR_FOLDER).is_dir() else path

        def read(name):
            if not (folder / name).exists():
                raise DatasetError(f"CIFAR-10: missing file {folder / name}")
            file = _input_file(folder / name)
            check_memory(str(file), file.stat().st_size)
            return str(file), file.read_bytes()
        return read
    if not path.exists():
        raise DatasetError(f"CIFAR-10: {path} does not exist (expected a directory or a .tar.gz)")
    _input_file(path)
    try:
        with tarfile.open(path) as archive:
            members = archive.getmembers()
            contents = {name: _read_member(path, archive, members, name) for name in (*CIFAR_TRAIN, CIFAR_TEST)}
    except tarfile.ReadError:
        raise DatasetError(f"{path}: not a readable tar archive (plain, or compressed with gzip, bzip2 or "
                           f"xz)") from None
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as error:
        raise DatasetError(f"{path}: not a readable tar archive ({error})") from None
    return contents.__getitem__


def _read_member(path, archive, members, name):
    """The bytes of the one regular file ``name`` (or ``.../name``) in the archive."""
    found = [m for m in members if m.isfile() and (m.name == name or m.name.endswith("/" + name))]
    if not found:
        raise DatasetError(f"{path}: the archive has no member {CIFAR_FOLDER}/{name}")
    if len(found) > 1:
        raise DatasetError(f"{path}: the archive has {len(found)} members named {name}: "
                           f"{', '.join(m.name for m in found)}")
    check_memory(f"{path}: {found[0].name}", found[0].size)
    return f"{path}: {found[0].name}", archive.extractfile(found[0]).read()


def load_cifar10(path, normalize="unit", dtype=np.float64):
    """CIFAR-10 from the python batches: a directory (holding them, or holding
    cifar-10-batches-py/) or the cifar-10-python.tar.gz archive. Each row of X is one
    image in the batches' layout: 1024 red, then 1024 green, then 1024 blue values."""
    read = _cifar_reader(path)
    train = [_unpickle_batch(*read(name)) for name in CIFAR_TRAIN]
    Xtest, ytest = _unpickle_batch(*read(CIFAR_TEST))
    Xtrain = np.concatenate([images for images, _ in train])
    ytrain = np.concatenate([labels for _, labels in train])
    return _make("cifar10", Xtrain, ytrain, Xtest, ytest, (3, 32, 32), 255.0, normalize, dtype)


# --- synthetic ----------------------------------------------------------------------------

SYNTHETIC_DEFAULTS = {"examples": 50000, "features": 3072, "classes": 10, "seed": 0}


def parse_synthetic(spec):
    """The fields of ``synthetic:examples=N,features=D,classes=K,seed=S`` (every field optional,
    defaults: the shape of CIFAR-10's training set)."""
    fields = dict(SYNTHETIC_DEFAULTS)
    for item in filter(None, spec.split(",")):
        key, sep, value = item.partition("=")
        if key not in fields or not sep:
            raise ValueError(f"dataset synthetic: cannot use {item!r}; accepted: "
                             f"{', '.join(f'{k}=INT' for k in SYNTHETIC_DEFAULTS)}")
        if not value.isdigit() or (key != "seed" and int(value) < 1) or (key == "classes" and int(value) < 2):
            raise ValueError(f"dataset synthetic: {key} must be a whole number "
                             f"{'>= 0' if key == 'seed' else '>= 2' if key == 'classes' else '>= 1'}, got {value!r}")
        fields[key] = int(value)
    return fields


def load_synthetic(spec="", normalize="unit", dtype=np.float64):
    """Learnable synthetic data of a chosen shape: each class c has a mean vector mu_c with entries
    drawn from N(0, 1/4), and an example of class c (drawn uniformly) is mu_c plus N(0, 1) noise
    in every feature. ``examples`` training examples and a fifth as many test examples (at least one).
    The values are not pixels: normalize "unit" and "none" keep them, "standard" standardizes them."""
    fields = parse_synthetic(spec)
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize: unknown value {normalize!r}; accepted: {', '.join(NORMALIZATIONS)}")
    N, D, K = fields["examples"], fields["features"], fields["classes"]
    M = max(1, N // 5)
    size = np.dtype(dtype).itemsize          # the class means (float32), and per example its features
    check_memory(f"synthetic: {N + M} examples of {D} features in {K} classes",   # (drawn, shifted, converted)
                 4 * K * D + (N + M) * (D * (size + 8) + K * size))              # and its one-hot target
    rng = np.random.default_rng(fields["seed"])
    mu = (0.5 * rng.standard_normal((K, D))).astype(np.float32)

    def draw(count):
        labels = rng.integers(0, K, count)
        X = rng.standard_normal((count, D), dtype=np.float32)
        X += mu[labels]
        return X, labels

    (Xtrain, ytrain), (Xtest, ytest) = draw(N), draw(M)
    if normalize == "standard":
        mean, std = Xtrain.mean(axis=0), Xtrain.std(axis=0)
        std[std == 0] = 1
        Xtrain, Xtest = (Xtrain - mean) / std, (Xtest - mean) / std
    image_shape = (3, 32, 32) if D == 3072 else (D,)
    return Dataset(f"synthetic:{','.join(f'{k}={v}' for k, v in fields.items())}",
                   np.ascontiguousarray(Xtrain, dtype=dtype), one_hot(ytrain, K, dtype),
                   np.ascontiguousarray(Xtest, dtype=dtype), one_hot(ytest, K, dtype), image_shape)


LOADERS = {"mnist": load_mnist, "cifar10": load_cifar10}


def dataset_files(text):
    """The files that :func:`load_dataset` may read for ``text`` (those that exist or not): the path
    itself, and for a directory every file a loader looks for in it. An output must not be one of them."""
    name, _, path = text.partition(":")
    if name not in LOADERS or not path:
        return []
    path = Path(os.path.expanduser(path))
    if name == "mnist":
        names = [stem + suffix for stem in MNIST_FILES.values() for suffix in ("", ".gz")]
        return [path, *(path / n for n in names)]
    names = [*CIFAR_TRAIN, CIFAR_TEST]
    return [path, *(folder / n for folder in (path, path / CIFAR_FOLDER) for n in names)]


def load_dataset(text, normalize="unit", dtype=np.float64):
    """A data set named as on the command line: ``digits``, ``mnist:PATH``, ``cifar10:PATH`` or
    ``synthetic[:FIELDS]`` (:func:`load_synthetic`)
    (a leading ``~`` in PATH is the home directory: shells do not expand it after the colon)."""
    if text == "digits":
        return load_digits(normalize, dtype)
    name, _, path = text.partition(":")
    if name == "synthetic":
        return load_synthetic(path, normalize, dtype)
    if name not in LOADERS or not path:
        raise ValueError(f"dataset: cannot use {text!r}; accepted: digits, mnist:PATH, cifar10:PATH, "
                         f"synthetic[:examples=N,features=D,classes=K,seed=S]")
    return LOADERS[name](os.path.expanduser(path), normalize, dtype)
