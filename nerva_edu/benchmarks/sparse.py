"""``nerva-edu bench sparse``: time one training step of a sparse MLP with several backends.

A step is forward, softmax cross-entropy, backward and a Nesterov(0.9) update, float32, on a
random batch, with Erdős–Rényi layer densities for each overall density. Backends:

- ``cpp``: the C++ kernels through cppyy, in a process where torch has been imported;
- ``torch-masked``: dense torch layers whose weights are zero outside a fixed mask; the mask
  is applied once per step, to the gradient, before ``torch.optim.SGD(nesterov=True)``;
- ``torch-csr``: CSR weights (int32 indices) in an autograd function: forward
  ``torch.sparse.mm(W, Xᵀ)``, DX by ``torch.sparse.mm`` with the CSR of Wᵀ, DW by
  ``torch.sparse.sampled_addmm`` (an SDDMM), Nesterov on the values only;
- ``scipy``: scipy.sparse products and the sampled weight gradient (SET's way);
- ``numpy``: the reference (the printed equations: DW from the dense product DZᵀ·X).

Each backend runs in its own process with the thread count set for every runtime
(OMP/MKL/OpenBLAS variables, ``torch.set_num_threads``, the C++ pool); scipy.sparse products
are single-threaded whatever the setting. For each density the backends' processes are timed
in alternating rounds (one process works while the others wait on a pipe), so that a load that
comes and goes on a shared machine affects all of them alike; the time per step is the median
over the rounds of each round's mean (the fastest round is printed too: on a loaded machine it
is the least disturbed one).
"""

import contextlib
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from nerva_edu.commands import positive_integer, positive_number

BACKENDS = ("cpp", "torch-masked", "torch-csr", "scipy", "numpy")
DENSITIES = (1.0, 0.1, 0.05, 0.01, 0.005, 0.001)


def add_arguments(parser):
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated backends (default: all of {','.join(BACKENDS)})")
    parser.add_argument("--densities", default=",".join(map(str, DENSITIES)),
                        help="comma-separated overall densities (default: %(default)s)")
    parser.add_argument("--batch-size", type=positive_integer, default=100, help="batch size N (default: 100)")
    parser.add_argument("--threads", type=positive_integer, default=2, help="threads per backend (default: 2)")
    parser.add_argument("--layer-sizes", default="3072;1024;512;10", help="layer sizes (default: %(default)s)")
    parser.add_argument("--rounds", type=positive_integer, default=7, help="alternating timing rounds (default: 7)")
    parser.add_argument("--round-seconds", type=positive_number, default=0.2,
                        help="time per round and backend, at least 2 steps (default: 0.2)")
    parser.add_argument("--plot", metavar="FILE", default="sparse-benchmark.png",
                        help="log-log plot of time per step against density (default: %(default)s; '' for none)")


def _parse_list(text, convert, what, allowed=None):
    items = [item.strip() for item in text.split(",") if item.strip()]
    try:
        values = [convert(item) for item in items]
    except ValueError:
        raise ValueError(f"{what}: cannot parse {text!r}") from None
    if not values or (allowed and any(v not in allowed for v in values)):
        raise ValueError(f"{what}: {text!r}; accepted: {', '.join(allowed or ['numbers'])}")
    return values


# --- the workers (one process each) ---------------------------------------------------------

def _problem(sizes, density, N, seed=0):
    from nerva_edu.sparse import SparseMLP
    model = SparseMLP(sizes, density=density, backend="numpy", seed=seed)
    rng = np.random.default_rng(seed + 1)
    X = rng.standard_normal((N, sizes[0]), dtype=np.float32)
    labels = rng.integers(0, sizes[-1], N)
    T = np.zeros((N, sizes[-1]), dtype=np.float32)
    T[np.arange(N), labels] = 1
    return model, X, T, labels


def _time_round(step, seconds):
    """Mean seconds per step over at least 2 steps and about ``seconds``."""
    count, start = 0, time.perf_counter()
    while count < 2 or time.perf_counter() - start < seconds:
        step()
        count += 1
    return (time.perf_counter() - start) / count


def _kernel_calls(cpp, layer, N, threads, rng):
    """The three kernels of one layer as they run inside a step: the batch padded to Np, a multiple
    of 16 (zero columns), in 64-byte aligned buffers; (Np, {name: call})."""
    from nerva_edu.sparse import kernels
    W, view = layer.W, kernels.view(layer.W)
    K, D = W.shape
    Np = -(-N // 16) * 16
    Xt, DZt, Zt, DXt = (kernels.aligned_zeros(rows, Np) for rows in (D, K, K, D))
    Xt[:, :N], DZt[:, :N] = rng.standard_normal((D, N)), rng.standard_normal((K, N))
    DW = kernels.buffer(kernels.aligned_zeros(1, W.nnz)[0])     # nullptr for a layer without nonzeros
    return Np, {"SpMM": lambda: cpp.spmm(threads, view, Xt, layer.b, Zt, Np),
                "transposed SpMM": lambda: cpp.spmm_transposed(threads, view, DZt, DXt, Np),
                "SDDMM": lambda: cpp.sddmm(threads, view, DZt, Xt, DW, Np)}


def _time_in_turn(calls, seconds, minimum=50):
    """{name: seconds per call of each round}: after a warm-up, one call each in turn, round after
    round for about ``seconds`` (at least ``minimum`` rounds), so that a load that comes and goes
    affects all alike."""
    times = {name: [] for name in calls}
    for call in calls.values():
        for _ in range(10):
            call()
    start = time.perf_counter()
    while len(next(iter(times.values()))) < minimum or time.perf_counter() - start < seconds:
        for name, call in calls.items():
            t = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - t)
    return times


def _kernel_rates(model, N, threads, seconds):
    """Time of the three kernels on the first layer as they run inside a step (:func:`_kernel_calls`),
    timed in turn (:func:`_time_in_turn`); each kernel's time is its median, the SDDMM/SpMM ratio
    the median of the rounds' ratios. GFLOP/s count the 2·nnz·N useful flops (N the batch size, not Np)."""
    from nerva_edu.sparse import kernels
    layer = model.layers[0]
    Np, calls = _kernel_calls(kernels.load(), layer, N, threads, np.random.default_rng(2))
    times = _time_in_turn(calls, seconds)
    rates = {name: {"ms": statistics.median(ts) * 1e3, "gflops": 2 * layer.W.nnz * N / statistics.median(ts) / 1e9}
             for name, ts in times.items()}
    ratio = statistics.median(sddmm / spmm for sddmm, spmm in zip(times["SDDMM"], times["SpMM"]))
    return {"shape": list(layer.W.shape), "density": layer.W.density, "padded_batch": Np, "SDDMM/SpMM": ratio,
            **rates}


def _step_breakdown(model, N, threads, seconds):
    """Where the time of a C++ step goes: the median ms of every kernel call the step makes (the
    forward SpMM and the SDDMM of every layer, the transposed SpMM of every layer but the first,
    whose DX the step does not compute), each kernel called alone on the layer's own matrix; a
    list of {"layer", "kernel", "ms"}."""
    from nerva_edu.sparse import kernels
    cpp, rng, calls = kernels.load(), np.random.default_rng(2), {}
    for l, layer in enumerate(model.layers, 1):
        for name, call in _kernel_calls(cpp, layer, N, threads, rng)[1].items():
            if not (l == 1 and name == "transposed SpMM"):
                calls[l, name] = call
    times = _time_in_turn(calls, seconds, minimum=5)
    return [{"layer": l, "kernel": name, "ms": statistics.median(ts) * 1e3} for (l, name), ts in times.items()]


def _load_ceiling(model, N, threads, seconds):
    """The least time of the loads a C++ step makes: for every layer, the rows of its input Xᵀ that
    its forward SpMM meets (its SDDMM meets the same rows) and, for every layer but the first, the
    rows of DZᵀ that its transposed SpMM meets, each summed by the kernel ``sum_of_rows`` on
    ``threads`` threads in the padded, aligned layout of the step; a list of {"layer", "kernel", "ms"}
    (median ms), "kernel" naming the product whose loads were summed."""
    from nerva_edu.sparse import kernels
    cpp, rng, calls = kernels.load(), np.random.default_rng(3), {}
    Np = -(-N // 16) * 16
    out = np.zeros(Np, np.float32)
    for l, layer in enumerate(model.layers, 1):
        W = layer.W
        Xt, DZt = kernels.aligned_zeros(W.shape[1], Np), kernels.aligned_zeros(W.shape[0], Np)
        Xt[:, :N], DZt[:, :N] = rng.standard_normal((W.shape[1], N)), rng.standard_normal((W.shape[0], N))
        row_index = W.transposed_pattern()[1]
        calls[l, "SpMM"] = lambda W=W, Xt=Xt: cpp.sum_of_rows(threads, kernels.buffer(W.indices), W.nnz, Xt, Np, out)
        if l > 1:
            calls[l, "transposed SpMM"] = lambda W=W, DZt=DZt, row_index=row_index: cpp.sum_of_rows(
                threads, kernels.buffer(row_index), W.nnz, DZt, Np, out)
    times = _time_in_turn(calls, seconds, minimum=5)
    return [{"layer": l, "kernel": name, "ms": statistics.median(ts) * 1e3} for (l, name), ts in times.items()]


def _torch_step(model, X, labels, threads, masked, eta=0.01, mu=0.9):
    import torch
    torch.set_num_threads(threads)
    X, labels = torch.from_numpy(X), torch.from_numpy(labels)
    L = len(model.layers)
    bs = [torch.zeros(layer.b.shape[1], requires_grad=True) for layer in model.layers]
    if masked:
        Ws = [torch.tensor(layer.W.to_dense(), requires_grad=True) for layer in model.layers]
        masks = [torch.tensor(layer.W.mask(), dtype=torch.float32) for layer in model.layers]
        optimizer = torch.optim.SGD(Ws + bs, lr=eta, momentum=mu, nesterov=True)

        def step():
            optimizer.zero_grad(set_to_none=True)
            H = X
            for l in range(L):
                H = torch.nn.functional.linear(H, Ws[l], bs[l])
                H = torch.relu(H) if l < L - 1 else H
            torch.nn.functional.cross_entropy(H, labels).backward()
            for W, M in zip(Ws, masks):
                W.grad.mul_(M)
            optimizer.step()
        return step

    class SparseLinear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, X, values, b, W, WT_pattern, position):
            ctx.save_for_backward(X, values)
            ctx.W, ctx.WT_pattern, ctx.position = W, WT_pattern, position
            return torch.sparse.mm(W, X.t()).t() + b

        @staticmethod
        def backward(ctx, DZ):
            X, values = ctx.saved_tensors
            col_ptr, row_index = ctx.WT_pattern
            WT = torch.sparse_csr_tensor(col_ptr, row_index, values[ctx.position], (ctx.W.shape[1], ctx.W.shape[0]))
            DX = torch.sparse.mm(WT, DZ.t()).t()
            DW = torch.sparse.sampled_addmm(ctx.W, DZ.t(), X, beta=0.0).values()
            return DX, DW, DZ.sum(0), None, None, None

    layers = []
    for layer in model.layers:
        col_ptr, row_index, position = layer.W.transposed_pattern()
        values = torch.tensor(layer.W.values, requires_grad=True)
        W = torch.sparse_csr_tensor(torch.from_numpy(layer.W.indptr), torch.from_numpy(layer.W.indices), values.detach(),
                                    layer.W.shape)
        layers.append((values, W, (torch.from_numpy(col_ptr), torch.from_numpy(row_index)),
                       torch.from_numpy(position.astype(np.int64))))
    params = [values for values, *_ in layers] + bs
    Deltas = [torch.zeros_like(p) for p in params]

    def step():
        H = X
        for l, (values, W, WT_pattern, position) in enumerate(layers):
            H = SparseLinear.apply(H, values, bs[l], W, WT_pattern, position)
            H = torch.relu(H) if l < L - 1 else H
        loss = torch.nn.functional.cross_entropy(H, labels)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():                                # Nesterov on the stored values only
            for theta, Dtheta, Delta in zip(params, grads, Deltas):
                Delta.mul_(mu).sub_(Dtheta, alpha=eta)
                theta.add_(Delta, alpha=mu).sub_(Dtheta, alpha=eta)
    return step


def _end_with_the_driver():
    """Have the operating system kill this worker when the driver ends, even in the middle of a round
    (the driver killed, or ended by a signal that leaves it no time to stop its workers): Linux only."""
    import ctypes
    import signal
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)          # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):                       # not Linux: the worker ends when its input does
        pass


class SlowStep(Exception):
    """A worker's first step took longer than the bound it was given (it has ended)."""

    def __init__(self, seconds):
        super().__init__(f"a step takes {seconds:.1f} s")
        self.seconds = seconds


def _peak_resident_mib():
    """The peak resident memory of this process so far, in MiB (Linux reports KiB, macOS bytes)."""
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def worker(backend, density, N, threads, sizes, max_step_seconds=math.inf):
    """Serve one (backend, density) in this process: after setup and a warm-up print "ready" (or
    "slow SECONDS" and end, if the first step took longer than ``max_step_seconds``), then answer
    each line "round SECONDS [THREADS]" with the mean seconds per step of one round (on THREADS
    threads, default ``threads``), "kernels SECONDS" with the C++ kernel rates, "breakdown SECONDS
    THREADS" with the C++ kernels of a step (:func:`_step_breakdown`), "ceiling SECONDS THREADS"
    with the least time of its loads (:func:`_load_ceiling`) and "peak" with the
    peak resident memory in MiB (JSON), until the input ends."""
    _end_with_the_driver()
    import torch                                             # every worker, cpp included, imports torch
    import warnings
    warnings.filterwarnings("ignore", message=".*[Ss]parse.*")
    torch.set_num_threads(threads)
    model, X, T, labels = _problem(sizes, density, N)
    if backend in ("cpp", "numpy", "scipy"):
        model.threads, model.backend = threads, backend
        step = lambda: model.step(X, T, 0.01)                   # noqa: E731
    else:
        step = _torch_step(model, X, labels, threads, backend == "torch-masked")

    def set_threads(count):
        model.threads = count
        torch.set_num_threads(count)

    start = time.perf_counter()
    step()                                                   # warm-up (JIT, allocation)
    first = time.perf_counter() - start
    if first > max_step_seconds:
        print(f"slow {first}", flush=True)
        return
    step()
    print("ready", flush=True)
    for line in sys.stdin:
        command, *arguments = line.split()
        if command == "round":
            set_threads(int(arguments[1]) if len(arguments) > 1 else threads)
            answer = _time_round(step, float(arguments[0]))
        elif command == "kernels":
            answer = _kernel_rates(model, N, threads, float(arguments[0]))
        elif command == "breakdown":
            answer = _step_breakdown(model, N, int(arguments[1]), float(arguments[0]))
        elif command == "ceiling":
            answer = _load_ceiling(model, N, int(arguments[1]), float(arguments[0]))
        else:
            answer = _peak_resident_mib()
        print(json.dumps(answer), flush=True)


# --- the driver ---------------------------------------------------------------------------

def start_worker(backend, density, N, threads, layer_sizes, name, max_step_seconds=math.inf):
    """A worker process (:func:`worker`), once it is ready, named ``name`` in errors ("bench sparse:
    the cpp worker at density 0.01"); its standard error goes to a temporary file, whose last line
    explains a worker that stops (:func:`_reply`). SlowStep if its first step was too slow."""
    env = dict(os.environ, **{variable: str(threads) for variable in
                              ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")})
    command = [sys.executable, "-m", "nerva_edu.benchmarks.sparse", backend, str(density), str(N), str(threads),
               layer_sizes, str(max_step_seconds)]
    log = tempfile.TemporaryFile(mode="w+")
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    process.log, process.name = log, name
    reply = _reply(process).split()
    if reply[:1] == ["slow"]:
        process.wait()
        raise SlowStep(float(reply[1]))
    if reply != ["ready"]:
        process.kill()
        raise ChildProcessError(f"{name} did not start")
    return process


def _start(backend, density, args):
    """The worker of ``bench sparse`` for (backend, density)."""
    return start_worker(backend, density, args.batch_size, args.threads, args.layer_sizes,
                        f"bench sparse: the {backend} worker at density {density:g}")


def _reply(process):
    """The next line the worker writes; ChildProcessError with its last error line if it stopped."""
    line = process.stdout.readline()
    if not line:
        process.wait()
        process.log.seek(0)
        errors = [text for text in process.log.read().splitlines() if text.strip()]
        raise ChildProcessError(f"{process.name} stopped (exit status {process.returncode}): "
                                f"{errors[-1].strip() if errors else 'no message'}")
    return line


def _ask(process, command):
    process.stdin.write(command + "\n")
    process.stdin.flush()
    return json.loads(_reply(process))


@contextlib.contextmanager
def running_workers():
    """A dict (name -> worker process) to fill; on leaving, every worker's input is closed and the
    worker awaited, and if the block was interrupted or failed (a worker may be in the middle of a
    round) the workers are killed first."""
    processes = {}
    try:
        yield processes
    except BaseException:
        for process in processes.values():
            process.kill()
        raise
    finally:
        for process in processes.values():
            process.stdin.close()
            process.wait()


def measure(density, backends, args):
    """One result per backend at this density, timed in alternating rounds."""
    with running_workers() as processes:
        for backend in backends:
            processes[backend] = _start(backend, density, args)
        rounds = {backend: [] for backend in backends}
        for _ in range(args.rounds):
            for backend, process in processes.items():
                rounds[backend].append(_ask(process, f"round {args.round_seconds}"))
        results = [{"backend": backend, "density": density, "batch_size": args.batch_size, "threads": args.threads,
                    "ms_per_step": statistics.median(rounds[backend]) * 1e3,
                    "ms_per_step_fastest_round": min(rounds[backend]) * 1e3} for backend in backends]
        if "cpp" in processes:
            results[backends.index("cpp")]["kernels"] = _ask(processes["cpp"], f"kernels {args.round_seconds}")
    return results


def format_table(results, backends, densities, key="ms_per_step", title="ms per step (median)"):
    by_key = {(r["backend"], r["density"]): r[key] for r in results}
    lines = [title.ljust(22) + "".join(f"{d:>12g}" for d in densities)]
    for backend in backends:
        lines.append(backend.ljust(22) + "".join(f"{by_key[backend, d]:12.3f}" for d in densities))
    if "cpp" in backends:
        for other in (b for b in backends if b != "cpp"):
            lines.append(f"{other} / cpp".ljust(22) + "".join(f"{by_key[other, d] / by_key['cpp', d]:11.1f}×"
                                                             for d in densities))
    return "\n".join(lines)


SDDMM_TARGET = 1.5     # the goal: the SDDMM within 1.5× of the forward SpMM's time


def format_kernels(results):
    lines = ["C++ kernels on the first layer (median time, batch padded to a multiple of 16 in aligned buffers "
             "as in a step; GFLOP/s of the 2·nnz·N useful flops)",
             f"{'density':>9} {'shape':>11} {'SpMM':>18} {'transposed SpMM':>18} {'SDDMM':>18}  "
             f"SDDMM/SpMM (target ≤ {SDDMM_TARGET:g})"]
    for r in results:
        if "kernels" in r:
            k = r["kernels"]
            cells = "".join(f"{k[n]['ms']:8.3f} ms {k[n]['gflops']:5.1f} GF" for n in ("SpMM", "transposed SpMM", "SDDMM"))
            verdict = "met" if k["SDDMM/SpMM"] <= SDDMM_TARGET else "missed"
            lines.append(f"{k['density']:9.4g} {'×'.join(map(str, k['shape'])):>11} {cells}  "
                         f"{k['SDDMM/SpMM']:9.2f} ({verdict})")
    return "\n".join(lines)


def plot(results, backends, path, N, threads):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nerva_edu.files import save_figure
    figure, axes = plt.subplots(figsize=(6, 4))
    for backend in backends:
        points = sorted((r["density"], r["ms_per_step"]) for r in results if r["backend"] == backend)
        axes.loglog(*zip(*points), marker="o", label=backend)
    axes.set_xlabel("overall density")
    axes.set_ylabel("ms per training step")
    axes.set_title(f"batch {N}, {threads} threads")
    axes.legend()
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def check_arguments(args):
    """The backends, densities and layer sizes, checked (with the plot's path) before any worker starts."""
    from nerva_edu.files import check_plot_file
    from nerva_edu.memory import check_memory
    from nerva_edu.parsing import parse_sizes
    from nerva_edu.sparse.kernels import check_threads
    backends = _parse_list(args.backends, str, "--backends", BACKENDS)
    densities = _parse_list(args.densities, float, "--densities")
    if any(not 0 < d <= 1 for d in densities):
        raise ValueError(f"--densities must lie in (0, 1], got {args.densities!r}")
    check_threads("--threads", args.threads)
    sizes = parse_sizes(args.layer_sizes)
    if len(sizes) < 2:
        raise ValueError(f"--layer-sizes: {args.layer_sizes!r} needs at least an input and an output size")
    # the densest backend (torch-masked) keeps every weight, its gradient and its momentum in float32,
    # and a batch's activations and gradients (a few copies each)
    check_memory(f"--layer-sizes {args.layer_sizes} with --batch-size {args.batch_size} (dense)",
                 (sum(K * D for D, K in zip(sizes[:-1], sizes[1:])) * 3 + args.batch_size * sum(sizes) * 4) * 4)
    if args.plot:
        check_plot_file(args.plot)
    return backends, densities


def run(args):
    """Measure, print the table and the kernel rates, save the plot; return the JSON list."""
    backends, densities = check_arguments(args)
    results = []
    for density in densities:
        results += measure(density, backends, args)
        print(f"  density {density:g}: " + ", ".join(f"{r['backend']} {r['ms_per_step']:.3f} ms"
                                                    for r in results[-len(backends):]), file=sys.stderr)
    print(f"sparse training step: MLP {args.layer_sizes.replace(';', '-')}, batch {args.batch_size}, float32, "
          f"softmax cross-entropy, Nesterov(0.9), Erdős–Rényi densities; {args.threads} threads per backend "
          "(scipy.sparse products: 1 thread)")
    print(format_table(results, backends, densities))
    print()
    print(format_table(results, backends, densities, "ms_per_step_fastest_round", "ms (fastest round)"))
    if "cpp" in backends:
        print()
        print(format_kernels(results))
    if args.plot:
        plot(results, backends, args.plot, args.batch_size, args.threads)
        print(f"plot saved to {args.plot}")
    keys = ("backend", "density", "batch_size", "threads", "ms_per_step", "kernels")
    return [{key: r[key] for key in keys if key in r} for r in results]


if __name__ == "__main__":
    backend, density, N, threads, sizes, max_step_seconds = sys.argv[1:]
    from nerva_edu.parsing import parse_sizes
    worker(backend, float(density), int(N), int(threads), parse_sizes(sizes), float(max_step_seconds))
