"""Hostile input to the Python side: data files that try to run code or lie about their sizes, model
files that are broken or do not fit, and the command line given bad values. Each gets a one-line
error naming what is wrong, never a traceback, a hang, a run command, or a half-loaded model.
(The C++ path has its own module, tests/test_hostile_cpp.py, which runs its cases in a child
process.)"""

import contextlib
import gzip
import io
import json
import os
import pickle
import re
import signal
import struct
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
import pytest

from nerva_edu.cli import main
from nerva_edu.datasets import DatasetError, load_cifar10, load_digits, load_mnist, one_hot, read_idx
from nerva_edu.mlp import build_mlp
from nerva_edu.model_file import ModelFileError
from nerva_edu.optimizers import Momentum
from test_datasets import cifar_batches, idx_bytes, python2_pickle, write_cifar_directory, write_mnist


@contextlib.contextmanager
def deadline(seconds=20):
    """Fail instead of hanging (reading a FIFO blocks until someone writes to it)."""
    def timeout(*_):
        raise AssertionError(f"still running after {seconds} s: it blocks")
    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


# --- CIFAR-10 pickles that would run a command ------------------------------------------------

class RunsACommand:
    """Unpickling this calls ``function(*arguments)``: here, a command that leaves a marker file."""

    def __init__(self, function, *arguments):
        self.function, self.arguments = function, arguments

    def __reduce__(self):
        return self.function, self.arguments


def gadgets(marker):
    import builtins
    import subprocess
    command = f"touch {marker}"
    return {"os.system": RunsACommand(os.system, command),
            "subprocess.call": RunsACommand(subprocess.call, ["touch", str(marker)]),
            "builtins.exec": RunsACommand(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
            "builtins.eval": RunsACommand(builtins.eval, f"open({str(marker)!r}, 'w')"),
            "numpy.ndarray called": RunsACommand(np.ndarray, (10 ** 12,))}


@pytest.mark.parametrize("gadget", ["os.system", "subprocess.call", "builtins.exec", "builtins.eval",
                                    "numpy.ndarray called"])
@pytest.mark.parametrize("container", ["directory", "tar.gz"])
def test_a_cifar_batch_that_would_run_a_command_is_refused(tmp_path, gadget, container):
    marker = tmp_path / "it-ran"
    batches = cifar_batches()
    folder = write_cifar_directory(tmp_path, batches)
    payload = {b"data": gadgets(marker)[gadget], b"labels": [0, 1, 2]}
    for protocol in (2, 4):                                    # both ways of naming a global
        (folder / "data_batch_2").write_bytes(pickle.dumps(payload, protocol=protocol))
        source = tmp_path
        if container == "tar.gz":
            source = tmp_path / f"cifar-{protocol}.tar.gz"
            with tarfile.open(source, "w:gz") as tar:
                tar.add(folder, arcname="cifar-10-batches-py")
        with pytest.raises(DatasetError, match=r"data_batch_2: not a CIFAR-10 python batch \(unpickling failed: "
                                               r"refused "):
            load_cifar10(source)
        assert not marker.exists(), "the pickle ran its command"


def test_the_unpickler_builds_nothing_but_what_a_batch_holds(tmp_path):
    from nerva_edu.datasets import CifarUnpickler
    allowed = python2_pickle(cifar_batches(1)["test_batch"])
    batch = CifarUnpickler(io.BytesIO(allowed), encoding="bytes").load()
    assert batch[b"data"].shape == (1, 3072)
    for module, name in [("posix", "system"), ("numpy", "load"), ("numpy.lib.npyio", "load"), ("builtins", "getattr"),
                         ("numpy.core.multiarray", "scalar"), ("numpy.testing", "assert_"), ("copyreg", "_reconstructor")]:
        with pytest.raises(pickle.UnpicklingError, match=f"refused to load {module}.{name}"):
            CifarUnpickler(io.BytesIO(b"c" + f"{module}\n{name}\n".encode() + b"."), encoding="bytes").load()


@pytest.mark.parametrize("batch, message", [
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [1.7, 2.0, 3.0]}, "labels must be whole numbers 0..9, got 1.7"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": ["1", "2", "3"]}, "labels must be whole numbers 0..9, got '1'"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [True, False, True]}, "got True"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [[1], [2], [3]]}, r"got \[1\]"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": np.zeros((3, 1), np.int64)},
     r"labels must be a list of numbers, got an array of shape \(3, 1\)"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": np.array([0.5, 1, 2])}, "got float64 values such as"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 10, 1]}, "label 10 is out of range 0..9"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, -1, 1]}, "label -1 is out of range 0..9"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 10 ** 30, 1]}, f"label {10 ** 30} is out of range 0..9"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1]}, "2 labels for 3 images"),
    ({b"data": np.zeros((3, 3072), np.uint8), b"labels": "012"}, "labels must be a list of numbers 0..9, got str"),
    ({b"data": np.zeros((3, 3072), np.uint16), b"labels": [0, 1, 2]}, "data must be an array of uint8 pixel values, got uint16"),
    ({b"data": np.array([["x"] * 3072] * 3, dtype=object), b"labels": [0, 1, 2]}, "got object"),
    ({b"data": [[0] * 3072] * 3, b"labels": [0, 1, 2]}, "got list"),
    ({b"data": np.zeros((3, 32, 32, 3), np.uint8), b"labels": [0, 1, 2]}, r"data has shape \(3, 32, 32, 3\)"),
    ({b"data": np.zeros((0, 3072), np.uint8), b"labels": []}, r"data has shape \(0, 3072\), expected \(N, 3072\) with N ≥ 1"),
    ({b"images": np.zeros((3, 3072), np.uint8), b"labels": [0, 1, 2]}, "expected a dict with keys b'data', b'labels'"),
    ({1: np.zeros((3, 3072), np.uint8)}, "expected a dict with keys"),
])
def test_cifar_batches_with_bad_contents_name_the_file_and_the_problem(tmp_path, batch, message):
    batches = cifar_batches()
    batches["data_batch_4"] = batch
    write_cifar_directory(tmp_path, batches, lambda b: pickle.dumps(b, protocol=4))
    with pytest.raises(DatasetError, match="cifar-10-batches-py/data_batch_4: .*" + message):
        load_cifar10(tmp_path)


def test_cifar_batches_may_have_str_keys_and_array_labels(tmp_path):
    batches = cifar_batches()
    batches["data_batch_5"] = {"data": batches["data_batch_5"][b"data"], "labels": np.array([1, 2, 3], np.uint8)}
    write_cifar_directory(tmp_path, batches, lambda b: pickle.dumps(b, protocol=4))
    assert load_cifar10(tmp_path).train_labels[-3:].tolist() == [1, 2, 3]


def test_cifar_archives_and_directories_with_odd_members(tmp_path):
    folder = write_cifar_directory(tmp_path, cifar_batches())
    twice = tmp_path / "twice.tar"
    with tarfile.open(twice, "w") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
        tar.add(folder / "data_batch_1", arcname="other/data_batch_1")
    with pytest.raises(DatasetError, match="has 2 members named data_batch_1: cifar-10-batches-py/data_batch_1, "
                                           "other/data_batch_1"):
        load_cifar10(twice)
    linked = tmp_path / "linked.tar"
    os.symlink("/etc/passwd", tmp_path / "data_batch_1")
    with tarfile.open(linked, "w") as tar:
        tar.add(tmp_path / "data_batch_1", arcname="cifar-10-batches-py/data_batch_1")
    with pytest.raises(DatasetError, match="has no member cifar-10-batches-py/data_batch_1"):
        load_cifar10(linked)
    whole = tmp_path / "whole.tar.gz"
    with tarfile.open(whole, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    (tmp_path / "truncated.tar.gz").write_bytes(whole.read_bytes()[:len(whole.read_bytes()) // 2])
    with pytest.raises(DatasetError, match="truncated.tar.gz: not a readable tar archive"):
        load_cifar10(tmp_path / "truncated.tar.gz")
    (folder / "test_batch").unlink()
    os.mkfifo(folder / "test_batch")
    with deadline(), pytest.raises(DatasetError, match="test_batch: is a FIFO, not a regular data file"):
        load_cifar10(tmp_path)
    os.mkfifo(tmp_path / "archive.tar.gz")
    with deadline(), pytest.raises(DatasetError, match="archive.tar.gz: is a FIFO"):
        load_cifar10(tmp_path / "archive.tar.gz")


# --- MNIST files that lie about their sizes, or do not match --------------------------------------

def test_idx_headers_whose_sizes_overflow_or_exceed_the_memory(tmp_path):
    path = tmp_path / "lies"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1) + bytes(100))
    with pytest.raises(DatasetError, match=r"header announces 4294967295×4294967295×4294967295 = "
                                           r"79228162458924105385300197375 values but the file holds 100"):
        read_idx(path, 3)
    bomb = tmp_path / "bomb.gz"                        # a gzip file announcing 7.9·10²⁸ pixels
    bomb.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2 ** 32 - 1, 2 ** 32 - 1, 2 ** 32 - 1)))
    with pytest.raises(ValueError, match=r"bomb.gz: the 4294967295×4294967295×4294967295 values its header "
                                         r"announces needs [0-9.]+ EiB, but only .* of memory is available"):
        read_idx(bomb, 3)


@pytest.mark.parametrize("change, message", [
    (lambda d: (d / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((4, 14, 14), np.uint8))),
     "t10k-images-idx3-ubyte: the test images have shape 14×14, but the training images 28×28"),
    (lambda d: ((d / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((0, 28, 28), np.uint8))),
                (d / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(0, np.uint8)))),
     r"train-images-idx3-ubyte: no images \(the data has shape \(0, 28, 28\)\)"),
    (lambda d: (d / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((4, 0, 28), np.uint8))),
     r"no images \(the data has shape \(4, 0, 28\)\)"),
    (lambda d: (d / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros((6, 1), np.uint8))),
     "not an unsigned-byte IDX file with 1 dimension"),
    (lambda d: (d / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((6, 28, 28), np.uint8)) + b"x"),
     "values but the file holds 4705"),
    (lambda d: (d / "train-images-idx3-ubyte").write_bytes(b""), r"too short for an IDX header \(0 bytes\)"),
    (lambda d: ((d / "train-images-idx3-ubyte").unlink(), (d / "train-images-idx3-ubyte").mkdir()),
     "train-images-idx3-ubyte: is a directory, not a regular data file"),
    (lambda d: ((d / "t10k-labels-idx1-ubyte").unlink(), os.mkfifo(d / "t10k-labels-idx1-ubyte")),
     "t10k-labels-idx1-ubyte: is a FIFO, not a regular data file"),
])
def test_mnist_files_that_do_not_fit(tmp_path, change, message):
    write_mnist(tmp_path, compress=False)
    change(tmp_path)
    with deadline(), pytest.raises(DatasetError, match=message):
        load_mnist(tmp_path)


def test_corrupt_gzip_files(tmp_path):
    data = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))
    flipped = bytearray(data)
    flipped[len(data) // 2] ^= 0xFF
    for name, content in [("flipped.gz", bytes(flipped)), ("trailing.gz", data + b"garbage"),
                          ("truncated.gz", data[:-4]), ("header-only.gz", data[:10])]:
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DatasetError, match=f"{name}: not a readable gzip file"):
            read_idx(tmp_path / name, 1)


# --- model files -------------------------------------------------------------------------------------

@pytest.fixture
def saved(tmp_path):
    """(network, path of its model file, the file's entries)."""
    mlp = build_mlp("ReLU;BatchNormalization;Linear", "6;5;3")
    path = tmp_path / "model.npz"
    mlp.save_weights(path)
    with np.load(path) as data:
        return mlp, path, dict(data)


def zip_with(path, members):
    """A zip archive written member by member (name -> bytes), as np.savez would not."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members:
            archive.writestr(name, content)


def zip_headers_changed(content, changes):
    """The zip archive ``content`` with a 16-bit field set in every member's headers: ``changes``
    maps an offset in the local header (6: flags, 8: compression method) to the value or-ed in;
    the central directory's copy of each field sits 2 bytes further."""
    data = bytearray(content)
    for signature, shift in ((b"PK\x03\x04", 0), (b"PK\x01\x02", 2)):
        start = data.find(signature)
        while start >= 0:
            for offset, value in changes.items():
                field = start + offset + shift
                data[field:field + 2] = struct.pack("<H", struct.unpack("<H", data[field:field + 2])[0] | value)
            start = data.find(signature, start + 4)
    return bytes(data)


def npy(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


@pytest.mark.filterwarnings("ignore:Duplicate name:UserWarning")
def test_broken_model_files_give_one_line_errors_and_leave_the_network_alone(saved, tmp_path):
    mlp, path, entries = saved
    before = {key: np.copy(getattr(layer, name)) for key, (layer, name) in mlp.saved_state().items()}
    content = path.read_bytes()
    marker = tmp_path / "it-ran"
    member = content.index(b"W1.npy")
    header_lie = np.lib.format.header_data_from_array_1_0(np.zeros((5, 6)))
    header_lie["shape"] = (10 ** 12,)
    lie = io.BytesIO()
    np.lib.format.write_array_header_1_0(lie, header_lie)
    broken = {
        "empty": (b"", "cannot read the model file"),
        "truncated": (content[:len(content) // 2], "cannot read the model file"),
        "text": (b"W1 = [[1, 2], [3, 4]]\n", "cannot read the model file"),
        "npy": (npy(np.zeros(3)), "cannot read the model file"),
        "crc": (content[:member + 200] + bytes([content[member + 200] ^ 0xFF]) + content[member + 201:],
                "cannot read the model file"),
    }
    for name, (data, message) in broken.items():
        (tmp_path / name).write_bytes(data)
    zip_with(tmp_path / "pickled", [(f"{key}.npy", npy(value)) for key, value in entries.items() if key != "W1"]
             + [("W1.npy", npy(np.array([RunsACommand(os.system, f"touch {marker}")], dtype=object)))])
    broken["pickled"] = (None, "W1 has dtype object; expected floating-point values")
    zip_with(tmp_path / "twice", [(f"{key}.npy", npy(value)) for key, value in entries.items()] + [("W1.npy", npy(entries["W1"]))])
    broken["twice"] = (None, "not a model file")
    zip_with(tmp_path / "lie", [(f"{key}.npy", npy(value)) for key, value in entries.items() if key != "W1"]
             + [("W1.npy", lie.getvalue() + bytes(240))])
    broken["lie"] = (None, "W1's header announces 8000000000000 bytes of data, which the file does not hold")
    for name, flags in [("encrypted", {6: 1, 8: 1}), ("compression-99", {8: 99, 10: 99})]:
        (tmp_path / name).write_bytes(zip_headers_changed(content, flags))
        broken[name] = (None, "cannot read the model file")
    zip_with(tmp_path / "no-format", [(f"{key}.npy", npy(value)) for key, value in entries.items() if key != "format"])
    broken["no-format"] = (None, "not a nerva-edu model file")
    for key, value, message in [("format", np.array("nerva-edu model 2"), "not a nerva-edu model file"),
                                ("kind", np.array("sparse"), "holds a sparse model; this model is dense"),
                                ("architecture", np.array("{not json"), "the architecture entry is not valid JSON"),
                                ("architecture", np.array("42"), r"holds the network \[42\]"),
                                ("architecture", np.array("[" * 100000), "the architecture entry is not valid JSON"),
                                ("format", np.zeros(3), "'format' is not a text entry"),
                                ("running_variance1", -np.ones((1, 5)), "running_variance1 holds negative variances"),
                                ("gamma1", np.array([[np.inf] * 5]), "gamma1 holds values that are not finite"),
                                ("extra", np.zeros(1), "unexpected extra")]:
        np.savez(tmp_path / f"{key}-{message[:8]}", **{**entries, key: value})
        broken[f"{key}-{message[:8]}.npz"] = (None, message)
    os.mkfifo(tmp_path / "fifo")
    broken["fifo"] = (None, "is a FIFO, not a regular model file")
    broken["."] = (None, "is a directory, not a regular model file")
    for name, (_, message) in broken.items():
        with deadline(), pytest.raises(ModelFileError, match=message) as error:
            mlp.load_weights(tmp_path / name)
        assert "\n" not in str(error.value) and str(tmp_path / name) in str(error.value)
        for key, (layer, attribute) in mlp.saved_state().items():
            np.testing.assert_array_equal(getattr(layer, attribute), before[key], err_msg=f"{name} changed {key}")
    assert not marker.exists()


def test_a_compressed_model_file_loads(saved, tmp_path):
    mlp, path, entries = saved
    np.savez_compressed(tmp_path / "compressed.npz", **entries)
    other = build_mlp("ReLU;BatchNormalization;Linear", "6;5;3", rng=np.random.default_rng(3))
    other.load_weights(tmp_path / "compressed.npz")
    X = np.random.default_rng(0).standard_normal((4, 6))
    np.testing.assert_array_equal(other.predict(X), mlp.predict(X))


def test_saving_replaces_a_file_only_once_the_new_one_is_written(saved, tmp_path, monkeypatch):
    mlp, path, _ = saved
    old = path.read_bytes()

    def fails(file, **arrays):
        file.write(b"half a file")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(np, "savez", fails)
    with pytest.raises(OSError, match="No space left on device"):
        mlp.save_weights(path)
    assert path.read_bytes() == old and sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    monkeypatch.undo()
    for target, error, message in [(tmp_path, IsADirectoryError, "is a directory"),
                                   (tmp_path / "missing" / "m.npz", FileNotFoundError, "does not exist")]:
        with pytest.raises(error, match=message):
            mlp.save_weights(target)


# --- the command line --------------------------------------------------------------------------------

def cli(*arguments):
    """(status, stderr) of ``nerva-edu arguments``, run in this process."""
    error = io.StringIO()
    with contextlib.redirect_stderr(error), contextlib.redirect_stdout(io.StringIO()):
        try:
            status = main(list(arguments))
        except SystemExit as exit:
            status = exit.code
    return status, error.getvalue()


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """Paths for the bad outputs and inputs: a FIFO, a directory, a missing directory, files."""
    root = tmp_path_factory.mktemp("places")
    os.mkfifo(root / "fifo")
    (root / "directory").mkdir()
    (root / "junk").write_text("junk\n")
    (root / "empty").write_bytes(b"")
    build_mlp("ReLU;ReLU;Linear", "64;40;32;10").save_weights(root / "other-sizes")
    build_mlp("ReLU;ReLU;Linear", "64;64;32;10").save_weights(root / "model")
    (root / "encrypted").write_bytes(zip_headers_changed((root / "model").read_bytes(), {6: 1}))
    return root


CLI_CASES = [  # (arguments, the message after "nerva-edu COMMAND: error: ")
    ("train --epochs -1", "argument --epochs: '-1' is not a positive integer"),
    ("train --epochs 1.5", "argument --epochs: '1.5' is not a positive integer"),
    ("train --epochs ٣", "argument --epochs: '٣' is not a positive integer"),
    ("train --batch-size 0", "argument --batch-size: '0' is not a positive integer"),
    ("train --batch-size 1 --layers ReLU;BatchNormalization;ReLU;Linear",
     "--batch-size 1: batch normalization needs batches of at least 2 examples"),
    ("train --learning-rate 0", "eta0 must be a finite number > 0, got 0.0"),
    ("train --learning-rate -0.1", "eta0 must be a finite number > 0, got -0.1"),
    ("train --learning-rate nan", "eta0 must be a finite number > 0, got nan"),
    ("train --learning-rate inf", "eta0 must be a finite number > 0, got inf"),
    ("train --learning-rate 1e400", "eta0 must be a finite number > 0, got inf"),
    ("train --learning-rate Constant(nan)", "argument 'nan' is not a finite number"),
    ("train --learning-rate TimeBased(0.1,-0.5)", "TimeBased: d must be a finite number ≥ 0, got -0.5"),
    ("train --learning-rate StepBased(0.1,0.5,inf)", "argument 'inf' is not a finite number"),
    ("train --learning-rate StepBased(0.1,0.5,0)", "StepBased: r must be a positive integer, got 0"),
    ("train --learning-rate StepBased(0.1,0.5,2.5)", "StepBased: r must be a positive integer, got 2.5"),
    ("train --learning-rate StepBased(0.1,-0.5,2)", r"StepBased: d must be a number in \(0, 1\], got -0.5"),
    ("train --learning-rate Exponential(0.1,-1)", "Exponential: d must be a finite number ≥ 0"),
    ("train --learning-rate MultiStep(0.1,2,5)", r"MultiStep: gamma must be a number in \(0, 1\], got 2.0"),
    ("train --learning-rate MultiStep(0.1,0.5,5,5)", "milestones must be increasing positive integers"),
    ("train --learning-rate MultiStep(0.1,0.5,0)", "milestones must be increasing positive integers"),
    ("train --learning-rate TimeBased(0.1,d=1,d=2)", "argument 'd' given twice"),
    ("train --learning-rate Constant()", "missing argument 'eta0'; accepted form: Constant\\(eta0\\)"),
    ("train --seed -1", r"argument --seed: '-1' is not a seed \(an integer ≥ 0\)"),
    ("train --seed 0x10", "argument --seed: '0x10' is not a seed"),
    ("train --layers ;", "--layers: ';' is not a semicolon-separated list"),
    ("train --layers LeakyReLU(nan);ReLU;Linear", "'LeakyReLU\\(nan\\)': argument 'nan' is not a finite number"),
    ("train --layers AllReLU(-inf);ReLU;Linear", "argument '-inf' is not a finite number"),
    ("train --layers SReLU(al=1e999);ReLU;Linear", "argument '1e999' is not a finite number"),
    ("train --layers ReLU(1);ReLU;Linear", "'ReLU\\(1\\)' has too many arguments; accepted form: ReLU\\(\\)"),
    ("train --layers Relu;ReLU;Linear", "unknown name 'Relu'; accepted: Linear, ReLU"),
    ("train --layer-sizes 64;0;32;10", "'0' is not a positive integer"),
    ("train --layer-sizes 64;²;32;10", "'²' is not a positive integer"),
    ("train --layer-sizes 64;100000000000;32;10", "the network 64-100000000000-32-10 .* needs 105.9 TiB, but only"),
    ("train --layer-sizes 64;64;32;5", "the network has 5 outputs, but digits has 10 classes"),
    ("train --layer-sizes 32;64;32;10", "the network takes 32 inputs, but digits has 64 features"),
    ("train --optimizers Momentum(nan)", "argument 'nan' is not a finite number"),
    ("train --optimizers Momentum(1)", "expected 0 < mu < 1, got mu=1.0"),
    ("train --optimizers Momentum(0.9);GradientDescent", "got 2 items, expected 1 or 3"),
    ("train --initializers Uniform(1,-1)", "expected finite a < b"),
    ("train --initializers Uniform(-1e308,1e308)", "expected finite a < b"),
    ("train --loss cross_entropy", "--loss cross_entropy needs probabilities, but the last layer is Linear: end "
                                   "--layers with Softmax"),
    ("train --loss negative_log_likelihood --layers ReLU;ReLU;LogSoftmax",
     "needs probabilities, but the last layer is LogSoftmax"),
    ("train --normalize minmax", "invalid choice: 'minmax'"),
    ("train --dataset mnist:{places}/junk", "is not a directory"),
    ("train --dataset cifar10:{places}/junk", "junk: not a readable tar archive"),
    ("train --dataset cifar10:{places}/fifo", "fifo: is a FIFO, not a regular data file"),
    ("train --dataset cifar10:/dev/null", "/dev/null: is a device, not a regular data file"),
    ("train --dataset cifar10:{places}/directory", "missing file .*directory/data_batch_1"),
    ("train --load {places}/missing", "missing: model file not found"),
    ("train --load {places}/directory", "directory: is a directory, not a regular model file"),
    ("train --load {places}/fifo", "fifo: is a FIFO, not a regular model file"),
    ("train --load {places}/empty", r"empty: cannot read the model file \(BadZipFile"),
    ("train --load {places}/junk", r"junk: cannot read the model file \(BadZipFile"),
    ("train --load {places}/other-sizes", "holds the network .*Activation relu 64 40.*, not this one "
                                          ".*Activation relu 64 64"),
    ("train --load /dev/zero", "/dev/zero: is a device"),
    ("train --load {places}/encrypted", r"encrypted: cannot read the model file \(RuntimeError: .* is encrypted"),
    ("train --json {places}/model --load {places}/model", "--json and --load name the same file"),
    ("train --save /proc/nerva-edu-test.npz", "cannot write the --save file: no file can be created in /proc"),
    ("check --json /proc/nerva-edu-test.json", "cannot write the --json file: no file can be created in /proc"),
    ("train --initializers Uniform(-1e200,1e200)", r"uniform: U\(-1e\+200, 1e\+200\) exceeds the largest float32"),
    ("train --backend cpp --initializers Uniform(-1e39,1e39)", "exceeds the largest float32"),
    ("train --backend cpp --density 1e-45", "--density 1e-45 leaves layer 1 without a single weight"),
    ("train --save {places}/missing/w.npz", "missing/w.npz: cannot write the --save file: the directory .* does "
                                            "not exist"),
    ("train --save {places}/directory", "directory: is a directory; the --save file must be a regular file"),
    ("train --save {places}/fifo", "fifo: is a FIFO; the --save file must be a regular file"),
    ("train --save /", "'/': expected a file name, not a directory"),
    ("train --save a\0b", "the --save file name contains a NUL character"),
    ("train --load a\0b", "the model file name contains a NUL character"),
    ("train --json {places}/missing/x.json", "cannot write the --json file: the directory"),
    ("train --save {places}/same --json {places}/same", "--save and --json name the same file"),
    ("train --save {places}/new-directory/", "--save '.*new-directory/': expected a file name, not a directory"),
    ("train --save {places}/junk/model", "the directory .*junk is not a directory"),
    ("train --json {places}/directory", "is a directory; the --json file must be a regular file"),
    ("train --density 0.1", "--density and --prune need a sparse backend"),
    ("train --backend cpp --density nan", r"argument --density: 'nan' is not a density in \(0, 1\]"),
    ("train --backend cpp --density abc", r"argument --density: 'abc' is not a density in \(0, 1\]"),
    ("train --backend cpp --prune -0.1", r"argument --prune: '-0.1' is not a fraction in \[0, 1\)"),
    ("train --backend numpy --layers Sigmoid;ReLU;Linear", "unknown name 'Sigmoid'; accepted: Linear, ReLU, AllReLU"),
    ("train --backend numpy --layer-sizes 64;32;5", "the network has 5 outputs, but digits has 10 classes"),
    ("train --backend numpy --layers AllReLU(nan);ReLU;Linear", "argument 'nan' is not a finite number"),
    ("train --backend numpy --batch-size 2000", "--batch-size: 2000 exceeds the 1438 training examples"),
    ("check --json {places}/missing/c.json", "cannot write the --json file: the directory"),
    ("check --only nothing-like-this", "--only: no registered equation id starts with 'nothing-like-this'"),
    ("bench dense --sizes 10", "--sizes: '10' needs at least an input and an output size"),
    ("bench dense --sizes a;b", "--sizes: 'a' is not a positive integer"),
    ("bench dense --batch-size -5", "argument --batch-size: '-5' is not a positive integer"),
    ("bench dense --rounds 0", "argument --rounds: '0' is not a positive integer"),
    ("bench dense --steps 0", "argument --steps: '0' is not a positive integer"),
    ("bench dense --sizes 100000000;100000000;10", "needs .* PiB, but only"),
    ("bench dense --json {places}/directory", "is a directory; the --json file must be a regular file"),
    ("bench sparse --backends cuda", "--backends: 'cuda'; accepted: cpp, torch-masked"),
    ("bench sparse --densities 0,0.5", r"--densities must lie in \(0, 1\]"),
    ("bench sparse --densities nan", r"--densities must lie in \(0, 1\]"),
    ("bench sparse --densities x", "--densities: cannot parse 'x'"),
    ("bench sparse --threads 0", "argument --threads: '0' is not a positive integer"),
    ("bench sparse --threads 5000", "threads must be an integer from 1 to 1024, got 5000"),
    ("bench sparse --round-seconds -1", "argument --round-seconds: '-1' is not a finite number > 0"),
    ("bench sparse --layer-sizes 10", "needs at least an input and an output size"),
    ("bench sparse --layer-sizes 1000000;1000000;10", "needs 10.9 TiB, but only"),
    ("bench sparse --batch-size 1000000000", "--batch-size 1000000000 .* needs .* TiB, but only"),
    ("bench sparse --plot {places}/missing/p.png", "cannot write the --plot file: the directory"),
    ("bench sparse --json {places}/fifo", "is a FIFO; the --json file must be a regular file"),
    ("bench sparse --json {places}/p.png --plot {places}/p.png", "--json and --plot name the same file"),
]


@pytest.mark.parametrize("arguments, message", CLI_CASES, ids=[arguments for arguments, _ in CLI_CASES])
def test_bad_input_ends_the_command_with_one_line_and_status_2(places, arguments, message):
    argv = [word.format(places=places) for word in arguments.split()]
    command = " ".join(argv[:2] if argv[0] == "bench" else argv[:1])
    if argv[0] == "train":
        argv += ["--epochs", "1"]
    with deadline():
        status, error = cli(*argv)
    assert status == 2, error
    assert error.count("\n") == 1 and error.startswith(f"nerva-edu {command}: error: "), error
    assert re.search(message, error), error


def test_a_benchmark_worker_that_stops_is_reported_with_its_last_error_line():
    import subprocess
    import sys
    import tempfile
    from nerva_edu.benchmarks.sparse import _reply
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stderr.write('Traceback\\nMemoryError: boom\\n'); "
                                "sys.exit(3)"], stdout=subprocess.PIPE, stderr=log, text=True)
    process.log, process.name = log, "bench sparse: the cpp worker at density 0.1"
    with pytest.raises(ChildProcessError, match=r"^bench sparse: the cpp worker at density 0.1 stopped \(exit status "
                                                r"3\): MemoryError: boom$"):
        _reply(process)


def test_an_interrupted_benchmark_kills_its_workers_in_the_middle_of_a_round(monkeypatch):
    from argparse import Namespace
    from nerva_edu.benchmarks import sparse
    started, start = [], sparse._start
    monkeypatch.setattr(sparse, "_start", lambda *arguments: started.append(start(*arguments)) or started[-1])

    def interrupted(process, command):                 # a round of 1000 s begins, then Ctrl-C
        process.stdin.write(command + "\n")
        process.stdin.flush()
        raise KeyboardInterrupt
    monkeypatch.setattr(sparse, "_ask", interrupted)
    args = Namespace(rounds=1, round_seconds=1000.0, batch_size=8, threads=1, layer_sizes="8;4;2")
    with deadline(60), pytest.raises(KeyboardInterrupt):
        sparse.measure(0.5, ["numpy"], args)
    assert started[0].returncode is not None


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="the worker's end is seen in /proc (Linux)")
def test_a_benchmark_worker_ends_with_its_driver_even_when_the_driver_is_killed():
    import subprocess
    import sys
    import time
    driver = ("import argparse, os, signal; from nerva_edu.benchmarks import sparse; "
              "p = sparse._start('numpy', 0.5, argparse.Namespace(batch_size=8, threads=1, layer_sizes='8;4;2')); "
              "print(p.pid, flush=True); p.stdin.write('round 1000\\n'); p.stdin.flush(); "
              "os.kill(os.getpid(), signal.SIGKILL)")
    pid = int(subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=120).stdout)

    def running():
        try:
            with open(f"/proc/{pid}/stat") as stat:
                return stat.read().rpartition(")")[2].split()[0] != "Z"
        except FileNotFoundError:
            return False
    with deadline(30):
        while running():
            time.sleep(0.1)


def test_an_interrupt_while_the_subcommands_load_is_one_line(monkeypatch):
    import nerva_edu.cli as cli_module

    def interrupted():
        raise KeyboardInterrupt
    monkeypatch.setattr(cli_module, "build_parser", interrupted)
    assert cli("train") == (130, "nerva-edu: interrupted\n")


def test_saved_where_it_says_and_loaded_from_there(tmp_path):
    path = tmp_path / "run" / "model"                  # no suffix: saved exactly there
    path.parent.mkdir()
    log = tmp_path / "epochs.json"
    assert cli("train", "--epochs", "1", "--layers", "ReLU;BatchNormalization;ReLU;Linear", "--layer-sizes",
               "64;32;16;10", "--save", str(path), "--json", str(log)) == (0, "")
    assert path.is_file() and not path.with_suffix(".npz").exists()
    assert cli("train", "--epochs", "1", "--layers", "ReLU;BatchNormalization;ReLU;Linear", "--layer-sizes",
               "64;32;16;10", "--load", str(path)) == (0, "")
    assert json.loads(log.read_text())[0]["epoch"] == 1


def test_a_file_name_near_the_length_limit_is_saved_and_loaded(tmp_path):
    path = tmp_path / ("m" * 250)                      # the temporary file beside it needs a shorter name
    assert cli("train", "--epochs", "1", "--save", str(path)) == (0, "")
    assert cli("train", "--epochs", "1", "--load", str(path)) == (0, "")


@pytest.mark.parametrize("arguments, message", [
    (["--load", ""], "--load '': expected a file name"),
    (["--save", ""], "--save '': expected a file name, not a directory"),
    (["--layer-sizes", ""], "--layer-sizes: '' is not a semicolon-separated list"),
    (["--dataset", "cifar10:{data}", "--save", "{data}"], "--save and --dataset name the same file"),
    (["--dataset", "cifar10:{data}", "--json", "{link}"], "--json and --dataset name the same file"),
])
def test_empty_file_names_and_outputs_onto_inputs(tmp_path, arguments, message):
    data, link = tmp_path / "cifar.tar.gz", tmp_path / "link"
    data.write_bytes(b"the data set")
    link.symlink_to(data)
    status, error = cli("train", "--epochs", "1", *[a.format(data=data, link=link) for a in arguments])
    assert status == 2 and re.search(message, error) and error.count("\n") == 1, error
    assert data.read_bytes() == b"the data set"


@pytest.mark.parametrize("dataset, output", [
    ("mnist", "train-labels-idx1-ubyte"), ("mnist", "t10k-images-idx3-ubyte.gz"),
    ("cifar10", "data_batch_3"), ("cifar10", "cifar-10-batches-py/test_batch"),
])
def test_an_output_may_not_overwrite_a_file_of_the_data_set(tmp_path, dataset, output):
    (tmp_path / "cifar-10-batches-py").mkdir()
    target = tmp_path / output
    target.write_bytes(b"the data set")
    for option in ("--save", "--json"):
        status, error = cli("train", "--dataset", f"{dataset}:{tmp_path}", option, str(target))
        assert status == 2 and f"{option} and --dataset name the same file" in error and error.count("\n") == 1
        assert target.read_bytes() == b"the data set"


def test_a_diverging_run_ends_with_an_error_and_keeps_its_epochs(tmp_path):
    log = tmp_path / "epochs.json"
    status, error = cli("train", "--epochs", "5", "--learning-rate", "1e6", "--json", str(log))
    assert status == 2 and error.startswith("nerva-edu train: error: training diverged: the loss is nan in epoch 1")
    assert error.count("\n") == 1, error                     # no floating-point warnings either
    assert json.loads(log.read_text())[0]["loss"] is None     # NaN is not JSON: null


def test_an_interrupted_run_keeps_its_epochs(tmp_path, monkeypatch):
    import nerva_edu.commands.train as train
    log, report = tmp_path / "epochs.json", train._report

    def interrupt_in_epoch_3(result):
        if result.epoch == 3:
            raise KeyboardInterrupt
        report(result)
    monkeypatch.setattr(train, "_report", interrupt_in_epoch_3)
    status, error = cli("train", "--epochs", "5", "--json", str(log))
    assert (status, error) == (130, "nerva-edu train: interrupted\n")
    assert [epoch["epoch"] for epoch in json.loads(log.read_text())] == [1, 2]


def test_debug_shows_the_traceback_and_bugs_are_not_hidden(monkeypatch):
    with pytest.raises(ValueError, match="the network takes 32 inputs"):
        main(["--debug", "train", "--layer-sizes", "32;16;16;10"])
    monkeypatch.setenv("NERVA_EDU_DEBUG", "1")
    with pytest.raises(ValueError, match="the network takes 32 inputs"):
        main(["train", "--layer-sizes", "32;16;16;10"])
    monkeypatch.delenv("NERVA_EDU_DEBUG")
    import nerva_edu.commands.check as check

    def bug(args):
        return 1 // 0
    monkeypatch.setattr(check, "run", bug)
    with pytest.raises(ZeroDivisionError):                   # not an input error: the traceback stays
        main(["check"])


# --- the library's entry checks ----------------------------------------------------------------------

def test_layers_check_the_kinds_and_shapes_of_what_they_receive():
    import sympy as sp
    import torch
    from nerva_edu.layers import BatchNormalization, Linear
    layer = Linear(np.ones((2, 3)), np.zeros((1, 2)))
    Y = layer.feedforward(np.ones((4, 3)))
    with pytest.raises(TypeError, match="Linear.backpropagate: DY is a torch value, but the layer's input X was a "
                                        "numpy value"):
        layer.backpropagate(Y, torch.ones(4, 2, dtype=torch.float64))
    with pytest.raises(TypeError, match="Linear.backpropagate: Y is a sympy value"):
        layer.backpropagate(sp.ones(4, 2), Y)
    with pytest.raises(ValueError, match=r"Linear.backpropagate: Y has shape \(2, 4\), expected \(4, 2\) \(the output "
                                         r"of the last feedforward\)"):
        layer.backpropagate(Y.T, Y.T)
    with pytest.raises(TypeError, match="Linear.feedforward: X: expected a NumPy array, a SymPy matrix, a torch tensor or a JAX "
                                        "array, got builtins.list"):
        layer.feedforward([[1.0, 2.0, 3.0]])
    with pytest.raises(TypeError, match="Linear: W: expected a NumPy array"):
        Linear([[1.0]], np.zeros((1, 1)))
    with pytest.raises(ValueError, match=r"W has shape \(0, 3\); a layer needs at least one input and one output"):
        Linear(np.zeros((0, 3)), np.zeros((1, 0)))
    norm = BatchNormalization(np.zeros((1, 2)), np.ones((1, 2)))
    norm.feedforward(np.random.default_rng(0).standard_normal((5, 2)))
    with pytest.raises(ValueError, match=r"BatchNormalization.backpropagate: Y has shape \(5, 3\), expected \(5, 2\)"):
        norm.backpropagate(np.zeros((5, 3)), np.zeros((5, 3)))
    for epsilon in (-1e-5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="epsilon must be a finite number ≥ 0"):
            BatchNormalization(np.zeros((1, 2)), np.ones((1, 2)), epsilon=epsilon)


@pytest.mark.parametrize("make, message", [
    (lambda S: S.Constant(float("nan")), "Constant: eta0 must be a finite number > 0, got nan"),
    (lambda S: S.Constant("0.1"), "Constant: eta0 must be a finite number > 0, got '0.1'"),
    (lambda S: S.TimeBased(0.1, -0.1), "TimeBased: d must be a finite number ≥ 0"),
    (lambda S: S.StepBased(0.1, 0.5, float("inf")), "StepBased: r must be a positive integer, got inf"),
    (lambda S: S.StepBased(0.1, 0.0, 3), r"StepBased: d must be a number in \(0, 1\]"),
    (lambda S: S.Exponential(-0.1, 0.1), "Exponential: eta0 must be a finite number > 0"),
    (lambda S: S.MultiStep(0.1, 0.5, (3, 2)), "MultiStep: milestones must be increasing positive integers"),
    (lambda S: S.MultiStep(0.1, 0.5, ()), "MultiStep: milestones must be increasing positive integers"),
])
def test_scheduler_constructors_check_their_numbers(make, message):
    import nerva_edu.schedulers as S
    with pytest.raises(ValueError, match=message):
        make(S)


def test_training_checks_come_before_the_first_step():
    from nerva_edu.datasets import load_digits
    from nerva_edu.mlp import check_training, parse_loss
    data = load_digits()
    mlp = build_mlp("ReLU;ReLU;Linear", "64;32;16;10")
    for batch_size, message in [(0, "is not a positive integer"), (2.5, "is not a positive integer"),
                                (True, "is not a positive integer"), (10 ** 6, "exceeds the 1438 training examples")]:
        with pytest.raises(ValueError, match=message):
            check_training(mlp, data, parse_loss("softmax_cross_entropy"), batch_size)
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        mlp.predict(data.Xtest, batch_size=0)


@pytest.mark.parametrize("call, message", [
    (lambda: one_hot([1.7, 2], 10), "labels must be a list of whole numbers"),
    (lambda: one_hot([np.nan], 10), "labels must be a list of whole numbers"),
    (lambda: one_hot([np.inf], 10), "labels must be a list of whole numbers"),
    (lambda: one_hot([10], 10), "labels must lie in 0..9"),
    (lambda: one_hot([0], 0), "K must be a positive integer, got 0"),
    (lambda: load_digits(test_fraction=1.0), "test_fraction must lie"),
    (lambda: build_mlp("ReLU;Linear", [64, 32.5, 10]), "32.5 is not a positive integer"),
    (lambda: build_mlp("ReLU;Linear", [64, True, 10]), "True is not a positive integer"),
    (lambda: build_mlp(["ReLU", 3], "64;32;10"), "--layers: expected a text such as 'Name'"),
    (lambda: Momentum(np.float32(2)), "expected 0 < mu < 1, got mu=2.0"),
])
def test_library_entry_points_reject_what_they_cannot_use(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()


def test_sigmoid_saturates_at_the_ends_of_the_floats():
    import warnings
    import torch
    from nerva_edu.activations import Sigmoid
    x = np.array([[-np.inf, -1e308, -40.0, 40.0, 1e308, np.inf]])
    tail = float(np.exp(-40.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")                   # no inf − inf on the way
        for X in (x, torch.tensor(x)):
            np.testing.assert_array_equal(np.asarray(Sigmoid()(X)), [[0, 0, tail, 1, 1, 1]])
            np.testing.assert_array_equal(np.asarray(Sigmoid().gradient(X)), [[0, 0, tail, tail, 0, 0]])


def test_a_dense_step_checks_its_learning_rate_and_accuracy_needs_examples():
    from nerva_edu.mlp import parse_loss, train_step
    mlp, loss = build_mlp("ReLU;Linear", "4;3;2"), parse_loss("softmax_cross_entropy")
    X, T = np.ones((2, 4)), np.eye(2)
    W = mlp.layers[0].W.copy()
    for eta in (float("nan"), float("inf"), 0.0, -0.1, "0.1", True, None):
        with pytest.raises(ValueError, match="MLP.optimize: the learning rate eta must be a finite number > 0"):
            train_step(mlp, X, T, loss, eta)
    np.testing.assert_array_equal(mlp.layers[0].W, W)
    train_step(mlp, X, T, loss, np.float32(0.1))         # any kind of real number
    assert not np.array_equal(mlp.layers[0].W, W)
    with pytest.raises(ValueError, match=r"MLP.accuracy: no examples \(the accuracy of an empty set is undefined\)"):
        mlp.accuracy(X[:0], T[:0])
    with pytest.raises(ValueError, match=r"MLP.accuracy: labels of shape \(1,\) for 2 examples"):
        mlp.accuracy(X, T[:1])


def test_loading_a_model_restarts_the_optimizer_state(tmp_path):
    from nerva_edu.datasets import load_digits
    from nerva_edu.mlp import parse_loss, train, train_step
    data, loss = load_digits(), parse_loss("softmax_cross_entropy")
    trained = build_mlp("ReLU;Linear", "64;20;10", "Momentum(0.9)")
    trained.save_weights(tmp_path / "model")
    train(trained, data, loss, 0.05, 1, 32, np.random.default_rng(0))       # its momentum is not zero now
    fresh = build_mlp("ReLU;Linear", "64;20;10", "Momentum(0.9)", rng=np.random.default_rng(5))
    for mlp in (trained, fresh):
        mlp.load_weights(tmp_path / "model")
        train_step(mlp, data.Xtrain[:32], data.Ttrain[:32], loss, 0.05)
    for a, b in zip(trained.layers, fresh.layers):
        np.testing.assert_array_equal(a.W, b.W)


def _control_group(tmp_path, version, limit, usage, inactive):
    """A fake /sys/fs/cgroup and /proc/self/cgroup for a process in the group /pod."""
    if version == 2:
        folder, names, key, line = tmp_path / "cg" / "pod", ("memory.max", "memory.current"), "inactive_file", "0::/pod"
    else:
        folder, names = tmp_path / "cg" / "memory" / "pod", ("memory.limit_in_bytes", "memory.usage_in_bytes")
        key, line = "total_inactive_file", "4:memory:/pod"
    folder.mkdir(parents=True)
    (folder / names[0]).write_text(f"{limit}\n")
    (folder / names[1]).write_text(f"{usage}\n")
    (folder / "memory.stat").write_text(f"anon 1\n{key} {inactive}\n")
    membership = tmp_path / "cgroup"
    membership.write_text(f"1:cpu:/\n{line}\n")
    return tmp_path / "cg", membership


@pytest.mark.parametrize("version", [1, 2])
def test_the_memory_check_counts_the_limit_of_the_control_group(tmp_path, monkeypatch, version):
    from nerva_edu import memory
    root, membership = _control_group(tmp_path, version, limit=2 << 30, usage=1 << 30, inactive=256 << 20)
    assert memory._cgroup_bytes(root, membership) == (1 << 30) + (256 << 20)
    monkeypatch.setattr(memory, "_cgroup_bytes", lambda: (1 << 30) + (256 << 20))
    with pytest.raises(memory.InsufficientMemory, match=r"needs 2\.0 GiB, but only 1\.2 GiB of memory is available"):
        memory.check_memory("a model", 2 << 30)


@pytest.mark.parametrize("version, limit", [(1, 9223372036854771712), (2, "max")])
def test_a_control_group_without_a_limit_does_not_count(tmp_path, version, limit):
    from nerva_edu import memory
    root, membership = _control_group(tmp_path, version, limit=limit, usage=1 << 30, inactive=0)
    assert memory._cgroup_bytes(root, membership) is None
    assert memory._cgroup_bytes(root, tmp_path / "no-such-file") is None


def test_the_memory_check_counts_the_address_space_limit():
    script = ("import resource; from nerva_edu import memory; resource.setrlimit(resource.RLIMIT_AS, (6 << 30, "
              "resource.RLIM_INFINITY)); left = memory._address_space_bytes(); print(0 < left < 6 << 30, "
              "memory.available_bytes() <= left)")
    assert subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True).stdout.split() == ["True", "True"]
