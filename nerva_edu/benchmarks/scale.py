"""``nerva-edu bench scale``: a sparse training step as the hidden layers grow.

Nerva's running-time experiment: CIFAR-10 (3072 inputs, 10 classes), three hidden layers of H
units, H from 1024 to 65536, Erdős–Rényi densities at an overall density (default 0.01), batch
100, float32, Nesterov(0.9). For each width the backends of ``bench sparse`` run in their own
processes (the workers of :mod:`nerva_edu.benchmarks.sparse`), timed in alternating rounds;
the C++ worker is timed on one thread and on all threads in turn (the speed-up of threading).

Reported per (backend, width): ms per step, the median of the rounds' means after a warm-up of
two steps; seconds per CIFAR-10 epoch, ⌈50 000 / N⌉ steps at that rate; useful GFLOP/s, the
6·nnz·N flops of a step's three products (forward SpMM, transposed SpMM, SDDMM: 2·nnz·N each,
for every layer, as the first layer's DX too were computed) per second, the same count for every
backend whatever it computes (the masked dense layers multiply all K·D weights); the worker's
peak resident memory (MiB). A backend is skipped, with the reason, when its estimated memory
does not fit beside the workers already running (checked before it starts: dense weights at
3×32768 need tens of GiB), when its time per step projected from the previous width exceeds
``--max-step-seconds``, or when its first step does.

For every C++ row, ``breakdown``: where the time of the step goes, each kernel the step calls
(forward SpMM and SDDMM of every layer, transposed SpMM of every layer but the first) timed alone
on the same layer and batch and thread count, in ms and as a share of the step, and the rest of
the step ("other": activations, loss, the fused optimizer updates, synchronization). And
``load_bound``: the least time of the step's loads, every row of Np floats that its products load
(one per nonzero and product) summed alone by ``sum_of_rows`` on the same rows and threads, with
the GFLOP/s that this time allows; ``shared_ms`` and ``shared_gflops`` for a backward pass that
would load each row of DZᵀ once for both of its products (:func:`load_bound`).
"""

import math
import statistics
import sys

from nerva_edu.benchmarks import sparse
from nerva_edu.commands import positive_integer, positive_number

BACKENDS = ("cpp", "torch-csr", "torch-masked")
WIDTHS = (1024, 2048, 4096, 8192, 16384, 32768, 65536)
EPOCH_EXAMPLES = 50_000                     # CIFAR-10's training set
KERNELS = ("SpMM", "transposed SpMM", "SDDMM", "other")
BASE_BYTES = 512 * 2**20                    # a worker's interpreter, torch and cppyy (about 260 MiB resident)


def add_arguments(parser):
    parser.add_argument("--widths", default=",".join(map(str, WIDTHS)),
                        help="comma-separated hidden widths H of 3072-H-H-H-10 (default: %(default)s)")
    parser.add_argument("--density", type=positive_number, default=0.01,
                        help="overall density, spread by the Erdős–Rényi rule (default: 0.01)")
    parser.add_argument("--backends", default=",".join(BACKENDS),
                        help=f"comma-separated backends (default: {','.join(BACKENDS)})")
    parser.add_argument("--batch-size", type=positive_integer, default=100, help="batch size N (default: 100)")
    parser.add_argument("--threads", type=positive_integer,
                        help="threads of every backend; C++ also on 1 (default: all CPUs of this process)")
    parser.add_argument("--rounds", type=positive_integer, default=5, help="alternating timing rounds (default: 5)")
    parser.add_argument("--round-seconds", type=positive_number, default=0.5,
                        help="time per round and backend, at least 2 steps (default: 0.5)")
    parser.add_argument("--max-step-seconds", type=positive_number, default=30.0,
                        help="skip a backend whose step takes longer (default: 30)")
    parser.add_argument("--plot", metavar="FILE", default="scale-benchmark.png",
                        help="log-log plot of time per step against width (default: %(default)s; '' for none)")


def layer_sizes(H):
    return [3072, H, H, H, 10]


def network(H, density):
    """(layer sizes, Erdős–Rényi densities, nonzeros, positions K·D) of the network of width H."""
    from nerva_edu.sparse import erdos_renyi_densities
    sizes = layer_sizes(H)
    densities = erdos_renyi_densities(density, sizes)
    shapes = list(zip(sizes[1:], sizes[:-1]))
    return (sizes, densities, sum(round(d * K * D) for (K, D), d in zip(shapes, densities)),
            sum(K * D for K, D in shapes))


def estimated_bytes(backend, H, density, N):
    """The memory a worker needs: the sparse model every worker builds, the batch, and what its
    backend adds (C++ buffers, twice: the breakdown's too, with a DW; torch's values, gradients, momenta, positions and the temporaries of
    a step: about 40 bytes per nonzero; masked torch: a dense W, gradient, momentum buffer and mask,
    and the copies made while converting, about 24 bytes per position)."""
    from nerva_edu.sparse.mlp import batch_bytes, model_bytes
    sizes, densities, nnz, positions = network(H, density)
    extra = {"cpp": 2 * batch_bytes(N, sizes) + 4 * nnz,     # the step's buffers and the breakdown's
             "torch-csr": 40 * nnz + 16 * N * sum(sizes),
             "torch-masked": 24 * positions + 16 * N * sum(sizes)}[backend]
    return BASE_BYTES + model_bytes(sizes, densities) + 4 * N * (sizes[0] + sizes[-1]) + extra


def check_arguments(args):
    """The widths, density, backends and thread count, checked (with the plot's path) before any worker starts."""
    from nerva_edu.files import check_plot_file
    from nerva_edu.sparse.csr import INDEX_LIMIT
    from nerva_edu.sparse.kernels import check_threads, default_threads
    if args.threads is None:
        args.threads = default_threads()
    widths = sparse._parse_list(args.widths, int, "--widths")
    if any(not 1 <= H <= INDEX_LIMIT for H in widths):
        raise ValueError(f"--widths must be integers from 1 to {INDEX_LIMIT}, got {args.widths!r}")
    if not 0 < args.density <= 1:
        raise ValueError(f"--density must lie in (0, 1], got {args.density}")
    backends = sparse._parse_list(args.backends, str, "--backends", BACKENDS)
    check_threads("--threads", args.threads)
    if args.plot:
        check_plot_file(args.plot)
    return sorted(set(widths)), list(dict.fromkeys(backends))


def configurations(backends, threads):
    """(backend, threads) of every row of a width: C++ on 1 thread and on all of them."""
    return [(b, t) for b in backends for t in ([1, threads] if b == "cpp" and threads > 1 else [threads])]


class Skip(Exception):
    """A backend that is not run at a width, with the reason."""


def start(backend, H, args, budget, slow):
    """The worker of ``backend`` at width H, or Skip with the reason: its memory beyond ``budget`` bytes
    (what is available less what the workers started at this width will take), its time projected
    from ``slow`` (backend -> (nnz or positions, seconds per step) at the last width) or its first step
    too slow."""
    from nerva_edu.memory import format_bytes
    _, _, nnz, positions = network(H, args.density)
    need = estimated_bytes(backend, H, args.density, args.batch_size)
    if need > budget:
        raise Skip(f"needs about {format_bytes(need)}, {format_bytes(max(budget, 0))} available")
    size = positions if backend == "torch-masked" else nnz
    if backend in slow:
        previous_size, seconds = slow[backend]
        projected = seconds * size / previous_size
        if projected > args.max_step_seconds:
            raise Skip(f"a step would take about {projected:.0f} s (> --max-step-seconds)")
    try:
        return sparse.start_worker(backend, args.density, args.batch_size, args.threads, ";".join(map(str, layer_sizes(H))),
                                   f"bench scale: the {backend} worker at width {H}", args.max_step_seconds), need
    except sparse.SlowStep as slow_step:
        raise Skip(f"{slow_step} (> --max-step-seconds)") from None


def measure(H, backends, args, slow):
    """The rows of width H: one per configuration, timed in alternating rounds, or skipped."""
    from nerva_edu.memory import available_bytes
    _, _, nnz, positions = network(H, args.density)
    skipped = {}
    available = available_bytes()
    budget = math.inf if available is None else available
    with sparse.running_workers() as processes:
        for backend in backends:
            try:
                processes[backend], need = start(backend, H, args, budget, slow)
                budget -= need
            except Skip as reason:
                skipped[backend] = str(reason)
        configs = [(b, t) for b, t in configurations(backends, args.threads) if b in processes]
        rounds = {config: [] for config in configs}
        for _ in range(args.rounds):
            for backend, threads in configs:
                rounds[backend, threads].append(sparse._ask(processes[backend], f"round {args.round_seconds} {threads}"))
        peaks = {backend: sparse._ask(process, "peak") for backend, process in processes.items()}
        breakdowns = {(b, t): sparse._ask(processes[b], f"breakdown {args.round_seconds} {t}")   # after the peak:
                      for b, t in configs if b == "cpp"}                                       # its own buffers
        ceilings = {(b, t): sparse._ask(processes[b], f"ceiling {args.round_seconds} {t}") for b, t in configs if b == "cpp"}
    steps = math.ceil(EPOCH_EXAMPLES / args.batch_size)
    results = []
    for backend, threads in configurations(backends, args.threads):
        row = {"backend": backend, "width": H, "density": args.density, "threads": threads, "nnz": nnz,
               "ms_per_step": None, "seconds_per_epoch": None, "gflops": None, "peak_rss_mb": None,
               "skipped": skipped.get(backend), "breakdown": None, "load_bound": None}
        if backend in processes:
            seconds = statistics.median(rounds[backend, threads])
            row.update(ms_per_step=seconds * 1e3, seconds_per_epoch=seconds * steps,
                       gflops=6 * nnz * args.batch_size / seconds / 1e9, peak_rss_mb=peaks[backend])
            if (backend, threads) in breakdowns:
                row["breakdown"] = breakdown(breakdowns[backend, threads], seconds * 1e3)
                row["load_bound"] = load_bound(ceilings[backend, threads], nnz, args.batch_size)
            if threads == args.threads:
                slow[backend] = (positions if backend == "torch-masked" else nnz, seconds)
        results.append(row)
    return results


def breakdown(kernels, ms_per_step):
    """The kernel times of a C++ step with their shares of ``ms_per_step``, and the rest of the step
    ("other": activations, the loss and its gradient, the optimizer updates, synchronization),
    which the step fuses with the kernels and is not timed alone."""
    rows = [dict(k, share=k["ms"] / ms_per_step) for k in kernels]
    other = ms_per_step - sum(k["ms"] for k in kernels)
    return rows + [{"layer": None, "kernel": "other", "ms": other, "share": other / ms_per_step}]


def load_bound(ceiling, nnz, N):
    """The least time of a C++ step's loads, from the sums of rows of :func:`sparse._load_ceiling`:
    every layer's forward SpMM and SDDMM load the rows its SpMM does, the transposed SpMM of every
    layer but the first its own ("ms"); "shared_ms" for a backward pass that would compute the
    transposed SpMM and the SDDMM of a layer in one sweep over its columns, loading each row of DZᵀ
    once for both (the SDDMM's row of Xᵀ stays in cache for a whole column); and the GFLOP/s of the
    6·nnz·N useful flops that each allows."""
    ms = {(k["layer"], k["kernel"]): k["ms"] for k in ceiling}
    forward = sum(v for (_, name), v in ms.items() if name == "SpMM")
    transposed = sum(v for (_, name), v in ms.items() if name == "transposed SpMM")
    separate, shared = 2 * forward + transposed, forward + ms.get((1, "SpMM"), 0.0) + transposed
    flops = 6 * nnz * N
    return {"ms": separate, "gflops": flops / separate / 1e6, "shared_ms": shared, "shared_gflops": flops / shared / 1e6}


def format_load_bounds(results):
    """One line per C++ row: the step against the least time of its loads (:func:`load_bound`)."""
    lines = [f"{'width':>6} {'threads':>7} {'ms/step':>9} {'GFLOP/s':>8}  {'loads: least ms (GFLOP/s)':>26}  "
             f"{'shared backward loads':>22}"]
    for r in results:
        if r.get("load_bound"):
            bound = r["load_bound"]
            lines.append(f"{r['width']:>6} {r['threads']:>7} {r['ms_per_step']:>9.2f} {r['gflops']:>8.1f}  "
                         f"{bound['ms']:>15.2f} ({bound['gflops']:>6.1f})  "
                         f"{bound['shared_ms']:>11.2f} ({bound['shared_gflops']:>6.1f})")
    return "\n".join(lines)


def format_breakdown(results):
    """One line per C++ row: the ms (and share of the step) of every kernel, summed over the layers."""
    lines = [f"{'width':>6} {'threads':>7} {'ms/step':>9}  " + "  ".join(f"{name:>22}" for name in KERNELS)]
    for r in results:
        if r.get("breakdown"):
            totals = {name: sum(k["ms"] for k in r["breakdown"] if k["kernel"] == name) for name in KERNELS}
            lines.append(f"{r['width']:>6} {r['threads']:>7} {r['ms_per_step']:>9.2f}  " + "  ".join(
                f"{totals[name]:>11.2f} ms ({totals[name] / r['ms_per_step']:>4.0%})" for name in KERNELS))
    return "\n".join(lines)


def _cell(value, format):
    return "—" if value is None else format.format(value)


def format_table(results, threads):
    lines = [f"{'width':>6} {'nonzeros':>11}  {'backend':<13}{'threads':>7} {'ms/step':>10} {'s/epoch':>9} "
             f"{'GFLOP/s':>8} {'peak MiB':>9}"]
    for r in results:
        cells = (f"{_cell(r['ms_per_step'], '{:10.2f}')} {_cell(r['seconds_per_epoch'], '{:9.1f}')} "
                 f"{_cell(r['gflops'], '{:8.2f}')} {_cell(r['peak_rss_mb'], '{:9.0f}')}")
        lines.append(f"{r['width']:>6} {r['nnz']:>11}  {r['backend']:<13}{r['threads']:>7} "
                     + (f"skipped: {r['skipped']}" if r["skipped"] else cells))
    ratios = [f"{'width':>6}  {'C++ 1 → ' + str(threads) + ' threads':>20}  {'torch-csr / C++':>16}  "
              f"{'torch-masked / C++':>19}"]
    times = {(r["backend"], r["threads"], r["width"]): r["ms_per_step"] for r in results}
    for H in sorted({r["width"] for r in results}):
        cpp = times.get(("cpp", threads, H))

        def ratio(numerator):
            return f"{numerator / cpp:.1f}×" if numerator and cpp else "—"
        ratios.append(f"{H:>6}  {ratio(times.get(('cpp', 1, H)) if threads > 1 else None):>20}  "
                      f"{ratio(times.get(('torch-csr', threads, H))):>16}  "
                      f"{ratio(times.get(('torch-masked', threads, H))):>19}")
    return "\n".join(lines) + "\n\nspeed-ups at each width (ratios of ms per step)\n" + "\n".join(ratios)


def plot(results, path, args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nerva_edu.files import save_figure
    figure, axes = plt.subplots(figsize=(6, 4))
    for backend, threads in dict.fromkeys((r["backend"], r["threads"]) for r in results):
        points = sorted((r["width"], r["ms_per_step"]) for r in results
                        if (r["backend"], r["threads"]) == (backend, threads) and r["ms_per_step"] is not None)
        if points:
            axes.loglog(*zip(*points), marker="o", label=f"{backend}, {threads} thread{'s' * (threads > 1)}")
    axes.set_xscale("log", base=2)
    axes.set_xlabel("hidden width H (3072-H-H-H-10)")
    axes.set_ylabel("ms per training step")
    axes.set_title(f"density {args.density:g}, batch {args.batch_size}")
    axes.legend()
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)


def run(args):
    """Measure every width, print the table, save the plot; return the JSON list."""
    widths, backends = check_arguments(args)
    results, slow = [], {}
    for H in widths:
        rows = measure(H, backends, args, slow)
        results += rows
        print(f"  width {H}: " + ", ".join(f"{r['backend']} ({r['threads']}) "
                                           + (f"{r['ms_per_step']:.1f} ms" if r["ms_per_step"] else "skipped")
                                           for r in rows), file=sys.stderr)
    print(f"sparse training step at scale: MLP 3072-H-H-H-10, overall density {args.density:g} (Erdős–Rényi), "
          f"batch {args.batch_size}, float32, softmax cross-entropy, Nesterov(0.9); {args.threads} threads per "
          f"backend; an epoch is {math.ceil(EPOCH_EXAMPLES / args.batch_size)} steps (CIFAR-10); GFLOP/s of the "
          "6·nnz·N useful flops per step")
    print(format_table(results, args.threads))
    if any(r["breakdown"] for r in results):
        print("\nwhere the time of a C++ step goes (each kernel of every layer called alone on the same batch; "
              "other: the step less the kernels)")
        print(format_breakdown(results))
        print("\nthe least time of a C++ step's loads: each product loads a row of Np floats per nonzero, here "
              "summed alone (sum_of_rows) on the same rows and threads; shared: a backward pass loading each row of "
              "DZ once for its transposed SpMM and SDDMM")
        print(format_load_bounds(results))
    if args.plot:
        plot(results, args.plot, args)
        print(f"plot saved to {args.plot}")
    keys = ("backend", "width", "density", "threads", "ms_per_step", "seconds_per_epoch", "gflops", "peak_rss_mb",
            "skipped", "breakdown", "load_bound")
    return [{key: r[key] for key in keys} for r in results]
