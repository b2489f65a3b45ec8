"""Data sets: digits split, MNIST IDX and CIFAR-10 batches written in their formats, errors."""

import gzip
import pickle
import struct
import tarfile

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from nerva_edu.datasets import (DatasetError, load_cifar10, load_dataset, load_digits, load_mnist, load_synthetic,
                                one_hot, read_idx)


def test_digits_default_split_is_fixed_by_its_seed():
    a, b = load_digits(), load_digits()
    assert (len(a.Xtrain), len(a.Xtest)) == (1438, 359)
    assert a.Xtrain.shape[1] == 64 and a.classes == 10 and a.image_shape == (8, 8)
    np.testing.assert_array_equal(a.Xtest, b.Xtest)
    assert 0 <= a.Xtrain.min() and a.Xtrain.max() == 1.0
    other = load_digits(split_seed=1)
    assert not np.array_equal(other.Xtest, a.Xtest)
    assert sorted(set(a.test_labels)) == list(range(10))


def test_normalizations_and_dtype():
    raw = load_digits(normalize="none")
    assert raw.Xtrain.max() == 16
    standard = load_digits(normalize="standard", dtype=np.float32)
    assert standard.Xtrain.dtype == np.float32 and standard.Ttrain.dtype == np.float32
    informative = raw.Xtrain.std(axis=0) > 0
    np.testing.assert_allclose(standard.Xtrain.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(standard.Xtrain.std(axis=0)[informative], 1, rtol=1e-4)
    with pytest.raises(ValueError, match="accepted: unit, standard, none"):
        load_digits(normalize="minmax")


@settings(max_examples=30, deadline=None)
@given(labels=st.lists(st.integers(0, 9), max_size=20))
def test_one_hot(labels):
    T = one_hot(labels, 10)
    assert T.shape == (len(labels), 10)
    np.testing.assert_array_equal(T.sum(axis=1), 1)
    np.testing.assert_array_equal(T.argmax(axis=1), labels)


def idx_bytes(array):
    return bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_mnist(directory, compress, n_train=6, n_test=4):
    rng = np.random.default_rng(0)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
              "train-labels-idx1-ubyte": rng.integers(0, 10, n_train, dtype=np.uint8),
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
              "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test, dtype=np.uint8)}
    for name, array in arrays.items():
        data = idx_bytes(array)
        (directory / (name + ".gz" if compress else name)).write_bytes(gzip.compress(data) if compress else data)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_mnist_loads_plain_and_gzipped_idx(tmp_path, compress):
    arrays = write_mnist(tmp_path, compress)
    data = load_mnist(tmp_path, normalize="none")
    np.testing.assert_array_equal(data.Xtrain, arrays["train-images-idx3-ubyte"].reshape(6, 784))
    np.testing.assert_array_equal(data.train_labels, arrays["train-labels-idx1-ubyte"])
    np.testing.assert_array_equal(data.test_labels, arrays["t10k-labels-idx1-ubyte"])
    assert data.image_shape == (28, 28)
    assert load_dataset(f"mnist:{tmp_path}").Xtest.max() <= 1.0


@pytest.mark.parametrize("corrupt, message", [
    (lambda d: (d / "t10k-labels-idx1-ubyte").unlink(), "missing file .*t10k-labels-idx1-ubyte"),
    (lambda d: (d / "train-images-idx3-ubyte").write_bytes(b"\0\0\x08\x03\0\0"), "too short for an IDX header"),
    (lambda d: (d / "train-images-idx3-ubyte").write_bytes(b"\0\0\x0d\x03" + bytes(12)), "magic number 00000d03"),
    (lambda d: (d / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, np.uint8))), "5 labels for 6"),
    (lambda d: (d / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(6, 11, np.uint8))),
     "label 11 is out of range"),
    (lambda d: (d / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((4, 28, 28), np.uint8))[:-3]),
     "holds 3133"),
])
def test_mnist_errors_name_the_file_and_the_problem(tmp_path, corrupt, message):
    write_mnist(tmp_path, compress=False)
    corrupt(tmp_path)
    with pytest.raises(DatasetError, match=message):
        load_mnist(tmp_path)


def test_truncated_gzip_is_reported(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(10, np.uint8)))[:-6])
    with pytest.raises(DatasetError, match=r"x.gz: not a readable gzip file"):
        read_idx(path, 1)
    with pytest.raises(DatasetError, match="is not a directory"):
        load_mnist(tmp_path / "nowhere")


def cifar_batches(n=3):
    rng = np.random.default_rng(1)
    return {name: {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                   b"labels": rng.integers(0, 10, n).tolist()}
            for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]}


def python2_pickle(batch, label=b"training batch 1 of 5"):
    """A batch as the files of cifar-10-python.tar.gz hold it: written by Python 2's cPickle with
    protocol 2 (strings as SHORT_BINSTRING/BINSTRING, the array by numpy.core.multiarray's
    _reconstruct with a version-1 state and a version-3 dtype state)."""
    def string(b):
        return b"U" + bytes([len(b)]) + b if len(b) < 256 else b"T" + struct.pack("<I", len(b)) + b

    def integer(n):
        return b"K" + bytes([n]) if 0 <= n < 256 else b"J" + struct.pack("<i", n)
    data, labels = batch[b"data"], batch[b"labels"]
    dtype = (b"cnumpy\ndtype\n" + string(b"u1") + integer(0) + integer(1) + b"\x87R"
             + b"(" + integer(3) + string(b"|") + b"NNN" + integer(-1) + integer(-1) + integer(0) + b"tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + integer(0) + b"\x85" + string(b"b")
             + b"\x87R" + b"(" + integer(1) + integer(data.shape[0]) + integer(data.shape[1]) + b"\x86" + dtype
             + b"\x89" + string(data.tobytes()) + b"tb")
    return (b"\x80\x02}q\x00(" + string(b"batch_label") + string(label)
            + string(b"labels") + b"](" + b"".join(integer(n) for n in labels) + b"e"
            + string(b"data") + array
            + string(b"filenames") + b"](" + b"".join(string(b"x_%d.png" % i) for i in range(len(labels))) + b"e"
            + b"u.")


def test_the_python2_batch_format_is_what_pickle_reads():
    batch = cifar_batches(2)["data_batch_1"]
    loaded = pickle.loads(python2_pickle(batch), encoding="bytes")
    assert sorted(loaded) == [b"batch_label", b"data", b"filenames", b"labels"]
    np.testing.assert_array_equal(loaded[b"data"], batch[b"data"])
    assert loaded[b"data"].dtype == np.uint8 and loaded[b"labels"] == batch[b"labels"]


def write_cifar_directory(directory, batches, write=python2_pickle):
    folder = directory / "cifar-10-batches-py"
    folder.mkdir()
    for name, batch in batches.items():
        (folder / name).write_bytes(write(batch))
    return folder


@pytest.mark.parametrize("write", [python2_pickle, lambda batch: pickle.dumps(batch, protocol=4)],
                         ids=["python 2 cPickle", "python 3 protocol 4"])
def test_cifar10_from_directory_and_tar_gz(tmp_path, write):
    batches = cifar_batches()
    folder = write_cifar_directory(tmp_path, batches, write)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    for source in (tmp_path, folder, archive):
        data = load_cifar10(source, normalize="none")
        assert data.Xtrain.shape == (15, 3072) and data.Xtest.shape == (3, 3072)
        np.testing.assert_array_equal(data.Xtrain[:3], batches["data_batch_1"][b"data"])
        np.testing.assert_array_equal(data.test_labels, batches["test_batch"][b"labels"])
    assert load_dataset(f"cifar10:{archive}", dtype=np.float32).Xtrain.dtype == np.float32


def test_cifar10_errors_name_the_file_and_the_problem(tmp_path):
    batches = cifar_batches()
    folder = write_cifar_directory(tmp_path, batches)
    (folder / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="cifar-10-batches-py/data_batch_3: not a CIFAR-10 python batch"):
        load_cifar10(tmp_path)
    (folder / "data_batch_3").write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [0, 1]}))
    with pytest.raises(DatasetError, match=r"data_batch_3: data has shape \(2, 100\)"):
        load_cifar10(tmp_path)
    (folder / "data_batch_3").unlink()
    with pytest.raises(DatasetError, match="missing file .*data_batch_3"):
        load_cifar10(tmp_path)
    archive = tmp_path / "bad.tar.gz"
    archive.write_bytes(b"not a tar file")
    with pytest.raises(DatasetError, match="bad.tar.gz: not a readable tar archive"):
        load_cifar10(archive)
    with tarfile.open(tmp_path / "partial.tar.gz", "w:gz") as tar:
        tar.add(folder / "data_batch_1", arcname="cifar-10-batches-py/data_batch_1")
    with pytest.raises(DatasetError, match="partial.tar.gz: the archive has no member .*data_batch_2"):
        load_cifar10(tmp_path / "partial.tar.gz")


@pytest.mark.parametrize("text", ["mnist", "mnist:", "imagenet:/data", "digits:/x"])
def test_bad_dataset_names(text):
    with pytest.raises(ValueError, match="accepted: digits, mnist:PATH, cifar10:PATH"):
        load_dataset(text)


def test_synthetic_data_has_the_cifar_shape_by_default_and_is_seeded():
    data = load_dataset("synthetic:examples=50,seed=2", dtype=np.float32)
    assert (data.Xtrain.shape, data.Ttrain.shape, data.Xtest.shape) == ((50, 3072), (50, 10), (10, 3072))
    assert data.Xtrain.dtype == np.float32 and data.image_shape == (3, 32, 32)
    np.testing.assert_array_equal(data.Xtrain, load_synthetic("examples=50,seed=2", dtype=np.float32).Xtrain)
    assert not np.array_equal(data.Xtrain, load_synthetic("examples=50,seed=3", dtype=np.float32).Xtrain)


def test_synthetic_classes_are_separated_by_their_means():
    """The nearest class mean of the training set classifies the test set far above chance."""
    data = load_synthetic("examples=400,features=64,classes=4,seed=1")
    means = np.stack([data.Xtrain[data.train_labels == c].mean(axis=0) for c in range(4)])
    nearest = ((data.Xtest[:, None, :] - means) ** 2).sum(axis=2).argmin(axis=1)
    assert (nearest == data.test_labels).mean() > 0.8
    standard = load_synthetic("examples=400,features=64,classes=4,seed=1", normalize="standard")
    np.testing.assert_allclose(standard.Xtrain.mean(axis=0), 0, atol=1e-6)


def test_synthetic_data_counts_its_classes_in_the_memory_check():
    from nerva_edu.memory import InsufficientMemory
    with pytest.raises(InsufficientMemory, match="12 examples of 4 features in 1000000000 classes needs 59.6 GiB"):
        load_synthetic("examples=10,features=4,classes=1000000000", dtype=np.float32)
