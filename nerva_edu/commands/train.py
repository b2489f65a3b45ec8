"""``nerva-edu train``: train an MLP on digits, MNIST or CIFAR-10 and report every epoch.

With no arguments it trains a 64-64-32-10 ReLU network on scikit-learn's bundled digits
(no download) with momentum, which reaches about 97% test accuracy in a few seconds.

Everything that can be checked is checked before the first step: the options, the data, the
network against the data and the loss, and the outputs (``--save``, ``--json``) can be
written. ``--json`` is rewritten after every epoch, so an interrupted run keeps its epochs; a run
whose loss stops being finite ends with an error. Errors are reported as described in
``nerva_edu.cli``.
"""

import argparse
import json
import math
import os

import numpy as np

from nerva_edu.commands import number, option_type, positive_integer, seed
from nerva_edu.datasets import NORMALIZATIONS, dataset_files, load_dataset
from nerva_edu.files import check_output_file, write_text
from nerva_edu.losses import LOSSES
from nerva_edu.model_file import read_inputs
from nerva_edu.schedulers import FORMS, parse_scheduler

DTYPES = {"float32": np.float32, "float64": np.float64}


def build_dense(args, sizes, rng, dtype):
    """The dense MLP of ``nerva_edu.mlp`` from the command-line specification."""
    from nerva_edu.mlp import build_mlp
    return build_mlp(args.layers, sizes, args.optimizers, args.initializers, rng, dtype)


# --backend: "dense" (the layers of nerva_edu.layers on NumPy arrays), "jax" (the same layers on
# JAX arrays, each step compiled by jax.jit: nerva_edu.jax_training), or a sparse backend of
# nerva_edu.sparse (cpp: the C++ kernels; numpy: the reference with the spec's equations; scipy: SET-style).
DENSE_BACKENDS = ["dense", "jax"]
BACKENDS = DENSE_BACKENDS + ["cpp", "numpy", "scipy"]


def _density(text):
    value = number(text)
    if not 0 < value <= 1:
        raise ValueError(f"{text!r} is not a density in (0, 1]")
    return value


def _fraction(text):
    value = number(text)
    if not 0 <= value < 1:
        raise ValueError(f"{text!r} is not a fraction in [0, 1)")
    return value


def add_parser(commands):
    parser = commands.add_parser(
        "train", help="train an MLP (default: digits, a few seconds) and report loss and accuracy per epoch",
        description="Train a multilayer perceptron with mini-batch gradient descent. The network is specified "
                    "as in the Nerva tools: one item of --layers per linear layer (its activation), "
                    "BatchNormalization between them, and --layer-sizes giving the input size and the output "
                    "size of every linear layer.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    data = parser.add_argument_group("data")
    data.add_argument("--dataset", default="digits", metavar="NAME",
                      help="digits (scikit-learn's bundled 8×8 digits), mnist:PATH (a directory with the four "
                           "IDX files, gzipped or not), cifar10:PATH (the python batches: a directory or the "
                           ".tar.gz) or synthetic[:examples=N,features=D,classes=K,seed=S] (defaults 50000, 3072, "
                           "10, 0: CIFAR-10's shape; each class has a random mean vector, entries N(0, 1/4), and an "
                           "example is its class mean plus N(0, 1) noise, so accuracy can rise above chance; a "
                           "fifth as many test examples)")
    data.add_argument("--normalize", default="unit", choices=list(NORMALIZATIONS),
                      help="; ".join(f"{k}: {v}" for k, v in NORMALIZATIONS.items()))
    network = parser.add_argument_group("network")
    network.add_argument("--layers", default="ReLU;ReLU;Linear", metavar="LIST",
                         help="semicolon-separated layers: Linear, ReLU, Sigmoid, Tanh, LeakyReLU(alpha), "
                              "AllReLU(alpha), SReLU(al,tl,ar,tr), Softmax, LogSoftmax, BatchNormalization")
    network.add_argument("--layer-sizes", default=None, metavar="LIST",
                         help="semicolon-separated sizes, e.g. 64;64;32;10 (default: the data set's input "
                              "size;64;32;its number of classes)")
    network.add_argument("--optimizers", default="Momentum(0.9)", metavar="LIST",
                         help="one per layer, or one for all: GradientDescent, Momentum(mu), Nesterov(mu)")
    network.add_argument("--initializers", default="He", metavar="LIST",
                         help="one per linear layer, or one for all: Uniform(a,b), Xavier, NormalizedXavier, "
                              "He, XavierNormal, HeUniform, Zero")
    network.add_argument("--backend", default="dense", choices=BACKENDS,
                         help="dense: the layers of nerva_edu.layers on NumPy; jax: the same layers on JAX arrays, "
                              "each training step compiled by jax.jit; cpp, numpy, scipy: a sparse MLP (CSR weights) "
                              "on the C++ kernels, the NumPy reference, or SciPy with sampled weight gradients")
    sparse = parser.add_argument_group("sparse networks (--backend cpp, numpy or scipy)")
    sparse.add_argument("--density", default=1.0, type=option_type(_density), metavar="D",
                        help="overall density of the weights, spread over the layers by the Erdős–Rényi rule")
    sparse.add_argument("--prune", default=0.0, type=option_type(_fraction), metavar="ZETA",
                        help="dynamic sparsity (SET): at the start of every epoch after the first, remove the "
                             "fraction ZETA of smallest-magnitude weights of each layer and regrow as many")
    sparse.add_argument("--grow", default="random", choices=["random"],
                        help="where pruned weights regrow: random free positions, as in SET")
    sparse.add_argument("--threads", default=None, type=positive_integer, metavar="N",
                        help="threads of the C++ kernels (default: the number of cores)")
    training = parser.add_argument_group("training")
    training.add_argument("--loss", default="softmax_cross_entropy", choices=list(LOSSES), help="the loss function")
    training.add_argument("--learning-rate", default="0.05", type=option_type(parse_scheduler), metavar="SCHEDULE",
                          help=f"the learning rate schedule η_i: {FORMS}")
    training.add_argument("--schedule-unit", default="epoch", choices=["epoch", "step"],
                          help="what the schedule's i counts: epoch (i = epoch − 1, evaluated once per epoch, as "
                               "the Nerva tools do) or step (i = 0, 1, 2, ... for every optimization step, the "
                               "spec's definition)")
    training.add_argument("--epochs", default=20, type=positive_integer, metavar="N")
    training.add_argument("--batch-size", default=32, type=positive_integer, metavar="N")
    training.add_argument("--seed", default=0, type=seed,
                          help="an integer ≥ 0: seeds the initial weights and the batch shuffling")
    training.add_argument("--dtype", default="float32", choices=list(DTYPES))
    output = parser.add_argument_group("input and output")
    output.add_argument("--load", metavar="FILE", help="start from the model saved in FILE by --save (it must have "
                                                       "the same layers and sizes)")
    output.add_argument("--save", metavar="FILE", help="save the trained model to FILE, exactly that path (an .npz "
                                                       "archive: W1, b1, W2, ..., batch-norm statistics, the layers)")
    output.add_argument("--json", metavar="FILE",
                        help='write the epochs as a JSON list of {"epoch", "loss", "train_accuracy", '
                             '"test_accuracy", "seconds"}, rewritten after every epoch')
    output.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar (default: only on a terminal)")
    parser.set_defaults(run=run)


def _fail(message):
    """End the command with the one-line error ``message`` (see ``nerva_edu.cli``)."""
    raise ValueError(message)


def _check_files(args):
    """Fail now, not after training, if an output cannot be written, or would overwrite an input
    or the other output (--save may replace the --load file: that continues a run)."""
    if args.load == "":
        _fail("--load '': expected a file name")
    outputs = {option: path for option, path in (("--save", args.save), ("--json", args.json)) if path is not None}
    for option, path in outputs.items():
        if not path or path.endswith(("/", os.sep)):
            _fail(f"{option} {path!r}: expected a file name, not a directory")
        check_output_file(path, f"{option} file")
    files = [("--load", args.load), *outputs.items(), *(("--dataset", str(file)) for file in dataset_files(args.dataset))]
    for output, path in outputs.items():
        for option, other in files:
            if (other is not None and option != output and {option, output} != {"--load", "--save"}
                    and os.path.realpath(path) == os.path.realpath(other)):
                _fail(f"{output} and {option} name the same file {path!r}")


def run(args):
    from nerva_edu.mlp import check_training, parse_loss, train

    _check_files(args)
    dtype = DTYPES[args.dtype]
    data = load_dataset(args.dataset, args.normalize, dtype)
    sizes = f"{data.Xtrain.shape[1]};64;32;{data.classes}" if args.layer_sizes is None else args.layer_sizes
    if args.backend not in DENSE_BACKENDS:
        return run_sparse(args, data, sizes)
    if args.density != 1.0 or args.prune:
        _fail("--density and --prune need a sparse backend: --backend cpp, numpy or scipy")
    if args.backend == "jax":
        from nerva_edu.jax_training import train      # the same training, each step compiled by jax.jit
    rng = np.random.default_rng(args.seed)
    mlp = build_dense(args, sizes, rng, dtype)
    if args.load is not None:
        mlp.load_weights(args.load)
        _check_inputs(args)
    loss = parse_loss(args.loss)
    check_training(mlp, data, loss, args.batch_size)

    _describe(args, data, sizes)
    _train(args, lambda report: train(mlp, data, loss, args.learning_rate, args.epochs, args.batch_size, rng,
                                      progress=args.progress, on_epoch=report, schedule_unit=args.schedule_unit))
    _save(args, mlp)
    return 0


def _train(args, train):
    """Run ``train(on_epoch)``, reporting every epoch and writing the epochs so far to --json after
    each one (an interrupted run keeps them); a loss that stops being finite ends the run with an error."""
    history = []

    def report(result):
        _report(result)
        history.append(result)
        _write_json(args, history)
        if not math.isfinite(result.loss):
            _fail(f"training diverged: the loss is {result.loss} in epoch {result.epoch} (the learning rate "
                  f"{args.learning_rate} may be too large)")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):   # a diverging run is reported above
        train(report)


def _save(args, model):
    if args.save:
        model.save_weights(args.save, inputs={"normalize": args.normalize})
        print(f"saved the model to {args.save}")


def _check_inputs(args):
    """Fail unless the --load file was trained on inputs normalized as this run's (files without
    that record pass): the predictions of a model depend on it."""
    trained_on = (read_inputs(args.load) or {}).get("normalize")
    if trained_on is not None and trained_on != args.normalize:
        _fail(f"--load {args.load}: the model was trained on inputs of --normalize {trained_on}, "
              f"not {args.normalize}: pass --normalize {trained_on}")


def _describe(args, data, sizes):
    print(data)
    print(f"layers {args.layers}, sizes {sizes}, optimizers {args.optimizers}, initializers {args.initializers}, "
          f"loss {args.loss}, learning rate {args.learning_rate} per {args.schedule_unit}, {args.dtype}, "
          f"backend {args.backend}")


def _report(result):
    from tqdm.auto import tqdm       # tqdm.write keeps the progress bar below the lines
    tqdm.write(f"epoch {result.epoch:3d}  loss {result.loss:.4f}  train accuracy {result.train_accuracy:.4f}  "
               f"test accuracy {result.test_accuracy:.4f}  {result.seconds:.2f} s")


def _write_json(args, history):
    if args.json:
        finite = [{key: value if not isinstance(value, float) or math.isfinite(value) else None   # JSON has no NaN
                   for key, value in vars(result).items()} for result in history]
        text = json.dumps(finite, indent=1)
        write_text(args.json, text, "--json file")


def run_sparse(args, data, sizes):
    """Train a sparse MLP (nerva_edu.sparse), with the training loop shared with dense MLPs."""
    from nerva_edu.mlp import check_batch_size, check_sizes
    from nerva_edu.parsing import lookup, parse_call, parse_sizes, split_list
    from nerva_edu.sparse import SparseMLP, train
    from nerva_edu.sparse.mlp import ACTIVATIONS

    unsupported = [(args.loss != "softmax_cross_entropy", "--loss: the sparse backends train with "
                                                           "softmax_cross_entropy only"),
                   (args.dtype != "float32", "--dtype: the sparse backends compute in float32 only"),
                   (";" in args.optimizers, "--optimizers: the sparse backends take one optimizer for all layers"),
                   (";" in args.initializers, "--initializers: the sparse backends take one initializer for all "
                                              "layers")]
    for failed, message in unsupported:
        if failed:
            _fail(message)
    for item in split_list(args.layers, "--layers"):
        lookup(ACTIVATIONS, parse_call(item, "--layers"), "--layers (sparse backends)")
    layer_sizes = parse_sizes(sizes)
    check_sizes(layer_sizes[0], layer_sizes[-1], data)
    model = SparseMLP(layer_sizes, density=args.density, activations=args.layers.split(";"),
                      optimizer=args.optimizers, init=args.initializers, backend=args.backend,
                      threads=args.threads, seed=args.seed)
    if args.load is not None:
        model.load_weights(args.load)
        _check_inputs(args)
    check_batch_size(args.batch_size, data)
    empty = [l for l, layer in enumerate(model.layers, start=1) if layer.W.nnz == 0]
    if empty:
        _fail(f"--density {args.density:g} leaves layer {empty[0]} without a single weight: the network could "
              f"not learn anything")
    _describe(args, data, sizes)
    print("layer densities " + ", ".join(f"{layer.W.density:.4f}" for layer in model.layers) +
          (f", SET with ζ = {args.prune}" if args.prune else ""))

    _train(args, lambda report: train(model, data, args.epochs, args.batch_size, args.learning_rate, args.prune,
                                      args.seed, args.progress, report, schedule_unit=args.schedule_unit))
    _save(args, model)
    return 0
