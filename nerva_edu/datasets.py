"""Data sets for training: scikit-learn's bundled digits (the default, no network needed),
MNIST from its IDX files and CIFAR-10 from its python batches, read from a local path.

Every loader returns a :class:`Dataset` in the spec's row layout: X (N×D) holds one example
per row, T (N×K) the one-hot targets. A missing or corrupt file raises :class:`DatasetError`
(a ValueError) naming the file and what is wrong with it.
"""

import gzip
import io
import os
import pickle
import struct
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

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
    """The N×K matrix T with T[i, labels[i]] = 1 and zeros elsewhere."""
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= K):
        raise ValueError(f"one_hot: labels must lie in 0..{K - 1}, got {labels.min()}..{labels.max()}")
    T = np.zeros((len(labels), K), dtype=dtype)
    T[np.arange(len(labels)), labels] = 1
    return T


def _make(name, Xtrain, ytrain, Xtest, ytest, image_shape, max_value, normalize, dtype, K=10):
    if normalize not in NORMALIZATIONS:
        raise ValueError(f"normalize: unknown value {normalize!r}; accepted: {', '.join(NORMALIZATIONS)}")
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
    training and test sets by a fixed seeded permutation (360 test images by default)."""
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
        if candidate.is_file():
            return candidate
    raise DatasetError(f"MNIST: missing file {directory / stem} (or {stem}.gz) in {directory}")


def read_idx(path, ndim):
    """An unsigned-byte IDX array (gzipped or not) with ``ndim`` dimensions:
    magic 0x00 0x00 0x08 ndim, then ndim big-endian 32-bit sizes, then the bytes."""
    path = Path(path)
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
    except FileNotFoundError:
        raise DatasetError(f"{path}: file not found") from None
    except (OSError, EOFError) as error:
        raise DatasetError(f"{path}: not a readable gzip file ({error})") from None
    if len(data) < 4 + 4 * ndim:
        raise DatasetError(f"{path}: file too short for an IDX header ({len(data)} bytes)")
    magic = data[:4]
    if magic[:2] != b"\0\0" or magic[2] != 0x08 or magic[3] != ndim:
        raise DatasetError(f"{path}: not an unsigned-byte IDX file with {ndim} dimension(s) "
                           f"(magic number {magic.hex()}, expected 000008{ndim:02x})")
    sizes = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = data[4 + 4 * ndim:]
    if len(body) != int(np.prod(sizes)):
        raise DatasetError(f"{path}: header announces {'×'.join(map(str, sizes))} = {int(np.prod(sizes))} "
                           f"values but the file holds {len(body)}")
    return np.frombuffer(body, dtype=np.uint8).reshape(sizes)


def _labels(path, labels, count, K=10):
    if len(labels) != count:
        raise DatasetError(f"{path}: {len(labels)} labels for {count} images")
    if labels.size and labels.max() >= K:
        raise DatasetError(f"{path}: label {labels.max()} is out of range 0..{K - 1}")
    return labels


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
        parts[split] = (images.reshape(len(images), -1), labels, images.shape[1:])
    (Xtrain, ytrain, shape), (Xtest, ytest, _) = parts["train"], parts["test"]
    return _make("mnist", Xtrain, ytrain, Xtest, ytest, tuple(shape), 255.0, normalize, dtype)


# --- CIFAR-10 (python batches) ------------------------------------------------------------

CIFAR_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]
CIFAR_TEST = "test_batch"
CIFAR_FOLDER = "cifar-10-batches-py"


def _unpickle_batch(name, data):
    try:
        batch = pickle.load(io.BytesIO(data), encoding="bytes")
    except Exception as error:                       # pickle raises many kinds on bad input
        raise DatasetError(f"{name}: not a CIFAR-10 python batch (unpickling failed: {error})") from None
    if not isinstance(batch, dict) or b"data" not in batch or b"labels" not in batch:
        raise DatasetError(f"{name}: not a CIFAR-10 python batch (expected a dict with keys b'data', b'labels')")
    images = np.asarray(batch[b"data"])
    if images.ndim != 2 or images.shape[1] != 3072:
        raise DatasetError(f"{name}: data has shape {images.shape}, expected (N, 3072)")
    return images, _labels(name, np.asarray(batch[b"labels"]), len(images))


def _cifar_reader(path):
    """A function name -> bytes reading CIFAR-10 batches from a directory or a .tar.gz."""
    path = Path(path)
    if path.is_dir():
        folder = path / CIFAR_FOLDER if (path / CIFAR_FOLDER).is_dir() else path

        def read(name):
            try:
                return (folder / name).read_bytes()
            except FileNotFoundError:
                raise DatasetError(f"CIFAR-10: missing file {folder / name}") from None
        return read
    if not path.is_file():
        raise DatasetError(f"CIFAR-10: {path} does not exist (expected a directory or a .tar.gz)")
    try:
        with tarfile.open(path) as archive:
            members = {Path(m.name).name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DatasetError(f"{path}: not a readable tar archive ({error})") from None

    def read(name):
        if name not in members:
            raise DatasetError(f"{path}: the archive has no member {CIFAR_FOLDER}/{name}")
        return members[name]
    return read


def load_cifar10(path, normalize="unit", dtype=np.float64):
    """CIFAR-10 from the python batches: a directory (holding them, or holding
    cifar-10-batches-py/) or the cifar-10-python.tar.gz archive. Each row of X is one
    image in the batches' layout: 1024 red, then 1024 green, then 1024 blue values."""
    read = _cifar_reader(path)
    train = [_unpickle_batch(name, read(name)) for name in CIFAR_TRAIN]
    Xtest, ytest = _unpickle_batch(CIFAR_TEST, read(CIFAR_TEST))
    Xtrain = np.concatenate([images for images, _ in train])
    ytrain = np.concatenate([labels for _, labels in train])
    return _make("cifar10", Xtrain, ytrain, Xtest, ytest, (3, 32, 32), 255.0, normalize, dtype)


LOADERS = {"mnist": load_mnist, "cifar10": load_cifar10}


def load_dataset(text, normalize="unit", dtype=np.float64):
    """A data set named as on the command line: ``digits``, ``mnist:PATH`` or ``cifar10:PATH``
    (a leading ``~`` in PATH is the home directory: shells do not expand it after the colon)."""
    if text == "digits":
        return load_digits(normalize, dtype)
    name, _, path = text.partition(":")
    if name not in LOADERS or not path:
        raise ValueError(f"dataset: cannot use {text!r}; accepted: digits, mnist:PATH, cifar10:PATH")
    return LOADERS[name](os.path.expanduser(path), normalize, dtype)
