"""``nerva-edu bench``: time nerva_edu against torch on the CPU, in one run.

Each benchmark is a subcommand (``nerva-edu bench dense``) registered in ``BENCHMARKS``
with a function that adds its options and a function that runs it; a new benchmark (such
as sparse layers) adds one entry. A run times the implementations in alternating rounds,
so that a load that comes and goes on a shared machine affects all of them alike, and
reports the median time per training step.
"""

import json
import os
import statistics
import time

import numpy as np

from nerva_edu.commands import positive_integer
from nerva_edu.files import check_output_file, write_text
from nerva_edu.memory import check_memory


def time_rounds(steps, rounds, warmup):
    """Median and minimum seconds per call of each function in ``steps`` (a dict name ->
    function of no arguments), timed in ``rounds`` alternating rounds of ``warmup`` calls."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    samples = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for _ in range(warmup):
                step()
            samples[name].append((time.perf_counter() - start) / warmup)
    return {name: (statistics.median(s), min(s)) for name, s in samples.items()}


# --- dense: one training step of an MLP -----------------------------------------------------

def add_dense_arguments(parser):
    parser.add_argument("--sizes", default="3072;1024;512;10", metavar="LIST",
                        help="layer sizes of the ReLU;...;ReLU;Linear MLP")
    parser.add_argument("--batch-size", default=100, type=positive_integer, metavar="N")
    parser.add_argument("--rounds", default=7, type=positive_integer, metavar="N", help="alternating timing rounds")
    parser.add_argument("--steps", default=5, type=positive_integer, metavar="N", help="training steps per round")


def torch_twin(mlp, torch):
    """A torch.nn.Sequential with the layers and weights of ``mlp`` (Linear/ReLU layers)."""
    modules = []
    for layer in mlp.layers:
        linear = torch.nn.Linear(layer.input_size, layer.output_size)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.W))
            linear.bias.copy_(torch.from_numpy(layer.b[0]))
        modules += [linear, torch.nn.ReLU()] if hasattr(layer, "act") else [linear]
    return torch.nn.Sequential(*modules)


def run_dense(args):
    """A training step (feedforward, softmax cross-entropy, backpropagation, Nesterov update)
    of the same float32 MLP in nerva_edu (NumPy) and in torch (nn.Linear, torch.optim.SGD)."""
    import torch

    from nerva_edu.mlp import build_mlp, parse_loss, train_step
    from nerva_edu.parsing import parse_sizes

    sizes = parse_sizes(args.sizes, "--sizes")
    if len(sizes) < 2:
        raise ValueError(f"--sizes: {args.sizes!r} needs at least an input and an output size")
    check_memory(f"--sizes {args.sizes} with --batch-size {args.batch_size}",      # weights (×3), a batch (×4)
                 (sum(K * D + K for D, K in zip(sizes[:-1], sizes[1:])) * 3 + args.batch_size * sum(sizes) * 4) * 4)
    rng = np.random.default_rng(0)
    layers = ";".join(["ReLU"] * (len(sizes) - 2) + ["Linear"])
    mlp = build_mlp(layers, sizes, "Nesterov(0.9)", "He", rng, np.float32)
    X = rng.standard_normal((args.batch_size, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], args.batch_size)
    T = np.eye(sizes[-1], dtype=np.float32)[labels]
    loss, eta = parse_loss("softmax_cross_entropy"), 0.001

    model = torch_twin(mlp, torch)
    sgd = torch.optim.SGD(model.parameters(), lr=eta, momentum=0.9, nesterov=True)
    cross_entropy = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X.copy()), torch.from_numpy(labels)

    def torch_step():
        sgd.zero_grad(set_to_none=True)
        cross_entropy(model(Xt), yt).backward()
        sgd.step()

    timings = time_rounds({"nerva_edu (NumPy)": lambda: train_step(mlp, X, T, loss, eta), "torch": torch_step},
                          args.rounds, args.steps)
    (ours, _), (theirs, _) = timings["nerva_edu (NumPy)"], timings["torch"]
    print(f"dense training step: MLP {'-'.join(map(str, sizes))} ({layers}), batch {args.batch_size}, float32, "
          f"softmax cross-entropy, Nesterov(0.9); torch {torch.__version__} with {torch.get_num_threads()} threads")
    print(f"{'implementation':<20}{'median ms/step':>16}{'min ms/step':>14}")
    for name, (median, minimum) in timings.items():
        print(f"{name:<20}{median * 1e3:>16.2f}{minimum * 1e3:>14.2f}")
    print(f"ratio nerva_edu / torch (medians): {ours / theirs:.2f}")
    return {"benchmark": "dense", "sizes": sizes, "batch_size": args.batch_size, "dtype": "float32",
            "rounds": args.rounds, "steps_per_round": args.steps, "torch_threads": torch.get_num_threads(),
            "nerva_edu_ms": ours * 1e3, "torch_ms": theirs * 1e3, "ratio": ours / theirs}


# name -> (help, add its options, run it: args -> a JSON-serializable result)
BENCHMARKS = {
    "dense": ("time a dense MLP training step in nerva_edu and in torch", add_dense_arguments, run_dense),
    "sparse": ("time a sparse MLP training step: C++ kernels, torch (masked, CSR), SciPy, NumPy",
               lambda parser: benchmark("sparse").add_arguments(parser), lambda args: benchmark("sparse").run(args)),
    "scale": ("time a sparse training step of 3072-H-H-H-10 as the width H grows: C++ (1 and all threads), torch",
              lambda parser: benchmark("scale").add_arguments(parser), lambda args: benchmark("scale").run(args)),
}


def benchmark(name):
    """The module nerva_edu.benchmarks.<name> (imported when its subcommand is used)."""
    import importlib
    return importlib.import_module(f"nerva_edu.benchmarks.{name}")


def add_parser(commands):
    parser = commands.add_parser("bench", help="benchmark nerva_edu against torch on the CPU",
                                 description="Time nerva_edu and torch on the same computation, in one run.")
    benchmarks = parser.add_subparsers(dest="benchmark", required=True, metavar="BENCHMARK")
    for name, (help, add_arguments, _) in BENCHMARKS.items():
        sub = benchmarks.add_parser(name, help=help, description=help)
        add_arguments(sub)
        sub.add_argument("--json", metavar="FILE", help="also write the result as JSON to FILE")
    parser.set_defaults(run=run)


def run(args):
    if args.json is not None:                      # fail before the timing, not after it
        check_output_file(args.json, "--json file")
        if getattr(args, "plot", None) and os.path.realpath(args.plot) == os.path.realpath(args.json):
            raise ValueError(f"--json and --plot name the same file {args.json!r}")
    result = BENCHMARKS[args.benchmark][2](args)
    if args.json is not None:
        text = json.dumps(result, indent=1)
        write_text(args.json, text, "--json file")
    return 0
