"""``nerva-edu train``: train an MLP on digits, MNIST or CIFAR-10 and report every epoch.

With no arguments it trains a 64-64-32-10 ReLU network on scikit-learn's bundled digits
(no download) with momentum, which reaches about 97% test accuracy in a few seconds.
"""

import argparse
import json
import sys

import numpy as np

from nerva_edu.datasets import NORMALIZATIONS, load_dataset
from nerva_edu.losses import LOSSES
from nerva_edu.schedulers import FORMS, parse_scheduler

DTYPES = {"float32": np.float32, "float64": np.float64}


def build_dense(args, sizes, rng, dtype):
    """The dense MLP of ``nerva_edu.mlp`` from the command-line specification."""
    from nerva_edu.mlp import build_mlp
    return build_mlp(args.layers, sizes, args.optimizers, args.initializers, rng, dtype)


# --backend: "dense" (the layers of nerva_edu.layers), or a sparse backend of nerva_edu.sparse
# (cpp: the C++ kernels; numpy: the reference with the spec's equations; scipy: SET-style).
BACKENDS = ["dense", "cpp", "numpy", "scipy"]


def _density(text):
    value = float(text)
    if not 0 < value <= 1:
        raise ValueError(f"{text!r} is not a density in (0, 1]")
    return value


def _fraction(text):
    value = float(text)
    if not 0 <= value < 1:
        raise ValueError(f"{text!r} is not a fraction in [0, 1)")
    return value


def _checked(parse):
    """An argparse type that reports the parser's ValueError message (which lists what is accepted)."""
    def convert(text):
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
    convert.__name__ = parse.__name__
    return convert


def _positive_integer(text):
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{text!r} is not a positive integer")
    return int(text)


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
                           "IDX files, gzipped or not) or cifar10:PATH (the python batches: a directory or the "
                           ".tar.gz)")
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
                         help="dense: the layers of nerva_edu.layers; cpp, numpy, scipy: a sparse MLP (CSR weights) "
                              "on the C++ kernels, the NumPy reference, or SciPy with sampled weight gradients")
    sparse = parser.add_argument_group("sparse networks (--backend cpp, numpy or scipy)")
    sparse.add_argument("--density", default=1.0, type=_checked(_density), metavar="D",
                        help="overall density of the weights, spread over the layers by the Erdős–Rényi rule")
    sparse.add_argument("--prune", default=0.0, type=_checked(_fraction), metavar="ZETA",
                        help="dynamic sparsity (SET): at the start of every epoch after the first, remove the "
                             "fraction ZETA of smallest-magnitude weights of each layer and regrow as many")
    sparse.add_argument("--grow", default="random", choices=["random"],
                        help="where pruned weights regrow: random free positions, as in SET")
    sparse.add_argument("--threads", default=None, type=_checked(_positive_integer), metavar="N",
                        help="threads of the C++ kernels (default: the number of cores)")
    training = parser.add_argument_group("training")
    training.add_argument("--loss", default="softmax_cross_entropy", choices=list(LOSSES), help="the loss function")
    training.add_argument("--learning-rate", default="0.05", type=_checked(parse_scheduler), metavar="SCHEDULE",
                          help=f"the learning rate schedule, evaluated once per epoch: {FORMS}")
    training.add_argument("--epochs", default=20, type=_checked(_positive_integer), metavar="N")
    training.add_argument("--batch-size", default=32, type=_checked(_positive_integer), metavar="N")
    training.add_argument("--seed", default=0, type=int, help="seeds the initial weights and the batch shuffling")
    training.add_argument("--dtype", default="float32", choices=list(DTYPES))
    output = parser.add_argument_group("input and output")
    output.add_argument("--load", metavar="FILE", help="start from the weights in FILE (.npz: W1, b1, W2, ...)")
    output.add_argument("--save", metavar="FILE", help="save the trained weights to FILE (.npz: W1, b1, W2, ...)")
    output.add_argument("--json", metavar="FILE",
                        help='write the epochs as a JSON list of {"epoch", "loss", "train_accuracy", '
                             '"test_accuracy", "seconds"}')
    output.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show a progress bar (default: only on a terminal)")
    parser.set_defaults(run=run)


def _fail(message):
    print(f"nerva-edu train: error: {message}", file=sys.stderr)
    return 2


def run(args):
    from nerva_edu.mlp import parse_loss, train

    dtype = DTYPES[args.dtype]
    try:
        data = load_dataset(args.dataset, args.normalize, dtype)
    except ValueError as error:
        return _fail(error)
    sizes = args.layer_sizes or f"{data.Xtrain.shape[1]};64;32;{data.classes}"
    if args.backend != "dense":
        return run_sparse(args, data, sizes)
    if args.density != 1.0 or args.prune:
        return _fail("--density and --prune need a sparse backend: --backend cpp, numpy or scipy")
    rng = np.random.default_rng(args.seed)
    try:
        mlp = build_dense(args, sizes, rng, dtype)
        if args.load:
            mlp.load_weights(args.load)
        first = mlp.layers[0]
        if hasattr(first, "input_size") and first.input_size != data.Xtrain.shape[1]:
            raise ValueError(f"--layer-sizes: the network takes {first.input_size} inputs, but {data.name} "
                             f"has {data.Xtrain.shape[1]} features")
        if len(data.Xtrain) < args.batch_size:
            raise ValueError(f"--batch-size: {args.batch_size} exceeds the {len(data.Xtrain)} training examples")
    except ValueError as error:
        return _fail(error)

    _describe(args, data, sizes)
    history = train(mlp, data, parse_loss(args.loss), args.learning_rate, args.epochs, args.batch_size, rng,
                    progress=args.progress, on_epoch=_report)
    if args.save:
        mlp.save_weights(args.save)
        print(f"saved the weights to {args.save}")
    _write_json(args, history)
    return 0


def _describe(args, data, sizes):
    print(data)
    print(f"layers {args.layers}, sizes {sizes}, optimizers {args.optimizers}, initializers {args.initializers}, "
          f"loss {args.loss}, learning rate {args.learning_rate}, {args.dtype}, backend {args.backend}")


def _report(result):
    from tqdm.auto import tqdm       # tqdm.write keeps the progress bar below the lines
    tqdm.write(f"epoch {result.epoch:3d}  loss {result.loss:.4f}  train accuracy {result.train_accuracy:.4f}  "
               f"test accuracy {result.test_accuracy:.4f}  {result.seconds:.2f} s")


def _write_json(args, history):
    if args.json:
        with open(args.json, "w") as file:
            json.dump([vars(result) for result in history], file, indent=1)


def run_sparse(args, data, sizes):
    """Train a sparse MLP (nerva_edu.sparse), with the training loop shared with dense MLPs."""
    from nerva_edu.parsing import lookup, parse_call, parse_sizes, split_list
    from nerva_edu.sparse import SparseMLP, train
    from nerva_edu.sparse.mlp import ACTIVATIONS

    unsupported = [(args.loss != "softmax_cross_entropy", "--loss: the sparse backends train with "
                                                           "softmax_cross_entropy only"),
                   (args.dtype != "float32", "--dtype: the sparse backends compute in float32 only"),
                   (bool(args.load or args.save), "--load/--save: the sparse backends do not read or write "
                                                   "weight files"),
                   (";" in args.optimizers, "--optimizers: the sparse backends take one optimizer for all layers"),
                   (";" in args.initializers, "--initializers: the sparse backends take one initializer for all "
                                              "layers")]
    for failed, message in unsupported:
        if failed:
            return _fail(message)
    try:
        for item in split_list(args.layers, "--layers"):
            lookup(ACTIVATIONS, parse_call(item, "--layers"), "--layers (sparse backends)")
        layer_sizes = parse_sizes(sizes)
        if layer_sizes[0] != data.Xtrain.shape[1]:
            raise ValueError(f"--layer-sizes: the network takes {layer_sizes[0]} inputs, but {data.name} "
                             f"has {data.Xtrain.shape[1]} features")
        model = SparseMLP(layer_sizes, density=args.density, activations=args.layers.split(";"),
                          optimizer=args.optimizers, init=args.initializers, backend=args.backend,
                          threads=args.threads, seed=args.seed)
        if len(data.Xtrain) < args.batch_size:
            raise ValueError(f"--batch-size: {args.batch_size} exceeds the {len(data.Xtrain)} training examples")
    except ValueError as error:
        return _fail(error)
    _describe(args, data, sizes)
    print("layer densities " + ", ".join(f"{layer.W.density:.4f}" for layer in model.layers) +
          (f", SET with ζ = {args.prune}" if args.prune else ""))

    history = train(model, data, args.epochs, args.batch_size, args.learning_rate, args.prune, args.seed,
                    args.progress, _report)
    _write_json(args, history)
    return 0
