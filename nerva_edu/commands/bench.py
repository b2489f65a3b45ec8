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

from nerva_edu.files import check_output_file, write_text


# Each runtime keeps its own pool of worker threads (OpenBLAS for NumPy, OpenMP for torch, Eigen
# for XLA), and a pool's threads keep spinning for a while after their work, waiting for more.
# On two cores, a pool still spinning from one implementation's round takes a core from the
# next one (without the pause, the JAX steps measured half as slow again as when run alone). A
# round therefore starts after this pause, when the other pools have gone to sleep: each
# implementation is timed as it runs in a program of its own.
SETTLE_SECONDS = 0.3


def time_rounds(steps, rounds, warmup):
    """Median and minimum seconds per call of each function in ``steps`` (a dict name ->
    function of no arguments), timed in ``rounds`` alternating rounds of ``warmup`` calls,
    each round after a pause of ``SETTLE_SECONDS`` (see above)."""
    for step in steps.values():
        for _ in range(warmup):
            step()
    samples = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            time.sleep(SETTLE_SECONDS)
            start = time.perf_counter()
            for _ in range(warmup):
                step()
            samples[name].append((time.perf_counter() - start) / warmup)
    return {name: (statistics.median(s), min(s)) for name, s in samples.items()}


# --- dense: the torch twin of a network (used by nerva_edu.benchmarks.dense) ----------------

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


# name -> (help, add its options, run it: args -> a JSON-serializable result)
BENCHMARKS = {
    "dense": ("time a dense MLP training step: nerva_edu (NumPy, jax.jit), torch (eager, compile), hand-written jax.jit",
              lambda parser: benchmark("dense").add_arguments(parser), lambda args: benchmark("dense").run(args)),
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
