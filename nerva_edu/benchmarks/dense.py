"""``nerva-edu bench dense``: one training step of a dense float32 MLP in five implementations.

A step is forward, softmax cross-entropy (mean over the batch), backward and a Nesterov(0.9)
update, on the same initial weights and the same batch for every implementation:

- ``nerva_edu (NumPy)``: the library's :func:`nerva_edu.mlp.train_step` on NumPy arrays;
- ``nerva_edu (jax.jit)``: the library's own step traced by ``jax.jit`` (``nerva_edu.jax_training``);
- ``torch eager``: ``nn.Sequential`` of ``nn.Linear``/``nn.ReLU`` and ``torch.optim.SGD(nesterov=True)``;
- ``torch.compile``: the whole torch step (zero_grad, forward, backward, optimizer step) compiled
  by ``torch.compile`` (default mode); skipped, with the reason, if it fails here;
- ``jax.jit (hand-written)``: a pure JAX step (``jax.value_and_grad``, the Nesterov update)
  under ``jax.jit`` with the parameters and velocities donated.

Before timing, every chosen implementation does one step from the same state and the losses and
updated weights are compared (float32 tolerance); a mismatch aborts. The implementations are
then timed in alternating rounds (``nerva_edu.commands.bench.time_rounds``), each after a pause
that lets the thread pools of the other runtimes in the process go to sleep.

The roofline: the GEMMs a step needs are, for each layer with weights W (K×D) and input X (N×D),
the forward X·Wᵀ (N×D by D×K), the weight gradient DZᵀ·X (K×N by N×D) and, for every layer but
the first (the input needs no gradient), the backpropagated DZ·W (N×K by K×D). Each shape is
timed with np.matmul and torch.matmul (median of repeated calls after a warm-up and the same
pause) and the faster counts; roofline_ms is the sum of these fastest times over the step's GEMMs,
the measured GEMM rate is (Σ 2·m·k·n) / roofline_ms, and an implementation's roofline_fraction
is roofline_ms / its median ms per step.
"""

import copy
import os
import statistics
import time

import numpy as np

from nerva_edu.commands import positive_integer

IMPLEMENTATIONS = ("nerva_edu (NumPy)", "nerva_edu (jax.jit)", "torch eager", "torch.compile",
                   "jax.jit (hand-written)")
ETA, MU = 0.001, 0.9


def add_arguments(parser):
    parser.add_argument("--sizes", default="3072;1024;512;10", metavar="LIST",
                        help="layer sizes of the ReLU;...;ReLU;Linear MLP")
    parser.add_argument("--batch-size", default=100, type=positive_integer, metavar="N")
    parser.add_argument("--rounds", default=15, type=positive_integer, metavar="N", help="alternating timing rounds")
    parser.add_argument("--steps", default=10, type=positive_integer, metavar="N", help="training steps per round")
    parser.add_argument("--implementations", default=",".join(IMPLEMENTATIONS), metavar="LIST",
                        help=f"comma-separated implementations (default: all of {','.join(IMPLEMENTATIONS)})")
    parser.add_argument("--plot", metavar="FILE", default="dense-benchmark.png",
                        help="bar chart of the median ms per step (default: %(default)s; '' for none)")


def parse_implementations(text):
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or any(name not in IMPLEMENTATIONS for name in names):
        raise ValueError(f"--implementations: {text!r}; accepted: {', '.join(IMPLEMENTATIONS)}")
    return list(dict.fromkeys(names))


# --- the implementations: each returns (step, state) with step() one training step and
# --- state() -> (loss of the last step, [W of each layer]) as NumPy values

def nerva_numpy(mlp, X, T, labels):
    from nerva_edu.mlp import parse_loss, train_step
    mlp, loss, last = copy.deepcopy(mlp), parse_loss("softmax_cross_entropy"), [None]

    def step():
        last[0] = train_step(mlp, X, T, loss, ETA)
    return step, lambda: (last[0], [np.asarray(layer.W) for layer in mlp.layers])


def nerva_jax(mlp, X, T, labels):
    import jax.numpy as jnp
    from nerva_edu.jax_training import jit_step, to_jax
    from nerva_edu.mlp import parse_loss
    mlp = copy.deepcopy(mlp)
    to_jax(mlp)
    jstep, Xj, Tj, last = jit_step(mlp, parse_loss("softmax_cross_entropy")), jnp.asarray(X), jnp.asarray(T), [None]

    def step():
        last[0] = jstep(Xj, Tj, ETA)
        last[0].block_until_ready()
    return step, lambda: (float(last[0]), [np.asarray(layer.W) for layer in mlp.layers])


def _torch_model(mlp, X, labels):
    import torch
    from nerva_edu.commands.bench import torch_twin
    model = torch_twin(mlp, torch)
    sgd = torch.optim.SGD(model.parameters(), lr=ETA, momentum=MU, nesterov=True)
    cross_entropy = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X.copy()), torch.from_numpy(labels)

    def step():
        sgd.zero_grad(set_to_none=True)
        value = cross_entropy(model(Xt), yt)
        value.backward()
        sgd.step()
        return value.detach()

    def weights():
        return [module.weight.detach().numpy().copy() for module in model if isinstance(module, torch.nn.Linear)]
    return step, weights


def _torch_implementation(mlp, X, labels, compile):
    """The torch step, eager or compiled by ``torch.compile`` (the whole step)."""
    import torch
    step, weights = _torch_model(mlp, X, labels)
    step, last = torch.compile(step) if compile else step, [None]

    def run():
        last[0] = step()
    return run, lambda: (float(last[0]), weights())


def torch_eager(mlp, X, T, labels):
    return _torch_implementation(mlp, X, labels, compile=False)


def torch_compiled(mlp, X, T, labels):
    return _torch_implementation(mlp, X, labels, compile=True)


def jax_hand_written(mlp, X, T, labels):
    import jax
    import jax.numpy as jnp
    params = [(jnp.asarray(layer.W), jnp.asarray(layer.b[0])) for layer in mlp.layers]
    velocity = jax.tree_util.tree_map(jnp.zeros_like, params)
    Xj, Tj = jnp.asarray(X), jnp.asarray(T)

    def loss(params, X, T):
        H = X
        for l, (W, b) in enumerate(params):
            H = H @ W.T + b
            H = jax.nn.relu(H) if l < len(params) - 1 else H
        return -jnp.mean(jnp.sum(T * jax.nn.log_softmax(H), axis=1))

    def update(params, velocity, X, T):
        value, grads = jax.value_and_grad(loss)(params, X, T)
        velocity = jax.tree_util.tree_map(lambda v, g: MU * v - ETA * g, velocity, grads)
        params = jax.tree_util.tree_map(lambda p, v, g: p + MU * v - ETA * g, params, velocity, grads)
        return params, velocity, value

    compiled = jax.jit(update, donate_argnums=(0, 1))
    state = {"params": params, "velocity": velocity, "loss": None}

    def step():
        state["params"], state["velocity"], state["loss"] = compiled(state["params"], state["velocity"], Xj, Tj)
        state["loss"].block_until_ready()
    return step, lambda: (float(state["loss"]), [np.asarray(W) for W, _ in state["params"]])


BUILDERS = {"nerva_edu (NumPy)": nerva_numpy, "nerva_edu (jax.jit)": nerva_jax, "torch eager": torch_eager,
            "torch.compile": torch_compiled, "jax.jit (hand-written)": jax_hand_written}


def threads(name):
    """The thread count an implementation computes with, as text."""
    if name.startswith("torch"):
        import torch
        return str(torch.get_num_threads())
    if "jax" in name:
        import jax
        return f"XLA, {len(jax.devices('cpu'))} CPU device(s), {os.cpu_count()} CPUs"
    try:
        from threadpoolctl import threadpool_info
        counts = [info["num_threads"] for info in threadpool_info() if info.get("user_api") == "blas"]
        return str(max(counts)) if counts else "unknown"
    except ImportError:
        return "unknown"


# --- the GEMM roofline ------------------------------------------------------------------------

def gemm_shapes(sizes, N):
    """(m, k, n) of each GEMM of a step (see the module docstring)."""
    shapes = []
    for l, (D, K) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes += [(N, D, K), (K, N, D)] + ([(N, K, D)] if l > 0 else [])
    return shapes


def _median_seconds(call, repeats=20):
    from nerva_edu.commands.bench import SETTLE_SECONDS
    time.sleep(SETTLE_SECONDS)
    for _ in range(3):
        call()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def roofline(sizes, N):
    """(roofline_ms, gemm_gflops): the fastest of np.matmul and torch.matmul on each shape."""
    import torch
    rng = np.random.default_rng(3)
    total, flops = 0.0, 0
    for m, k, n in gemm_shapes(sizes, N):
        A, B = rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32)
        At, Bt = torch.from_numpy(A), torch.from_numpy(B)
        total += min(_median_seconds(lambda: np.matmul(A, B)), _median_seconds(lambda: torch.matmul(At, Bt)))
        flops += 2 * m * k * n
    return total * 1e3, flops / total / 1e9


# --- the run ------------------------------------------------------------------------------------

def cross_check(states):
    """Compare the losses and updated weights after one step; ValueError on a mismatch."""
    (reference, (loss0, weights0)), *others = states.items()
    for name, (loss, weights) in others:
        if not np.isclose(loss, loss0, rtol=1e-4, atol=1e-5):
            raise ValueError(f"cross-check: {name} computes the loss {loss:.6g}, {reference} {loss0:.6g}")
        for l, (W, W0) in enumerate(zip(weights, weights0)):
            if not np.allclose(W, W0, rtol=1e-4, atol=1e-5):
                raise ValueError(f"cross-check: {name} and {reference} differ in the updated W of layer {l + 1} "
                                 f"(max |difference| {np.max(np.abs(W - W0)):.3g})")


def run(args):
    from nerva_edu.commands.bench import time_rounds
    from nerva_edu.files import check_plot_file
    from nerva_edu.memory import check_memory
    from nerva_edu.mlp import build_mlp
    from nerva_edu.parsing import parse_sizes

    names = parse_implementations(args.implementations)
    sizes = parse_sizes(args.sizes, "--sizes")
    if len(sizes) < 2:
        raise ValueError(f"--sizes: {args.sizes!r} needs at least an input and an output size")
    if args.plot:
        check_plot_file(args.plot)
    check_memory(f"--sizes {args.sizes} with --batch-size {args.batch_size}",      # 5 networks ×3, a batch ×4
                 (sum(K * D + K for D, K in zip(sizes[:-1], sizes[1:])) * 15 + args.batch_size * sum(sizes) * 4) * 4)
    rng = np.random.default_rng(0)
    layers = ";".join(["ReLU"] * (len(sizes) - 2) + ["Linear"])
    mlp = build_mlp(layers, sizes, "Nesterov(0.9)", "He", rng, np.float32)
    X = rng.standard_normal((args.batch_size, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], args.batch_size)
    T = np.eye(sizes[-1], dtype=np.float32)[labels]

    steps, states, skipped = {}, {}, {}
    for name in names:
        try:
            step, state = BUILDERS[name](mlp, X, T, labels)
            step()                                             # the first step: compilation, the cross-check
            steps[name], states[name] = step, state()
        except Exception as error:                             # noqa: BLE001 -- reported as skipped, never a crash
            if name != "torch.compile":
                raise
            skipped[name] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:200]
    cross_check(states)
    timings = time_rounds(steps, args.rounds, args.steps)
    roofline_ms, gflops = roofline(sizes, args.batch_size)

    print(f"dense training step: MLP {'-'.join(map(str, sizes))} ({layers}), batch {args.batch_size}, float32, "
          f"softmax cross-entropy, Nesterov(0.9); torch.compile: whole step, default mode")
    print(f"GEMM roofline: {roofline_ms:.3f} ms per step ({gflops:.1f} GFLOP/s, fastest of np.matmul and "
          f"torch.matmul per shape); cross-check of the first step: agree")
    print(f"{'implementation':<24}{'threads':>36}{'median ms':>11}{'min ms':>9}{'roofline':>10}")
    results = []
    shared = {"sizes": sizes, "batch_size": args.batch_size, "gemm_gflops": gflops, "roofline_ms": roofline_ms}
    for name in names:
        if name in skipped:
            print(f"{name:<24}  skipped: {skipped[name]}")
            results.append({"implementation": name, "ms_per_step": None, "min_ms_per_step": None,
                            "roofline_fraction": None, "threads": threads(name), "skipped": skipped[name], **shared})
            continue
        median, minimum = timings[name]
        fraction = roofline_ms / (median * 1e3)
        print(f"{name:<24}{threads(name):>36}{median * 1e3:>11.2f}{minimum * 1e3:>9.2f}{fraction:>10.2f}")
        results.append({"implementation": name, "ms_per_step": median * 1e3, "min_ms_per_step": minimum * 1e3,
                        "roofline_fraction": fraction, "threads": threads(name), **shared})
    ours = [(timings[n][0], n) for n in timings if n.startswith("nerva_edu")]
    peers = [(timings[n][0], n) for n in timings if not n.startswith("nerva_edu")]
    if ours and peers:
        (a, an), (b, bn) = min(ours), min(peers)
        print(f"ratio fastest nerva_edu path / fastest peer (medians): {an} / {bn} = {a / b:.2f}")
    if args.plot:
        plot(results, args.plot)
    return results


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nerva_edu.files import save_figure
    timed = [r for r in results if r["ms_per_step"] is not None]
    figure, axes = plt.subplots(figsize=(8, 4))
    axes.barh([r["implementation"] for r in timed], [r["ms_per_step"] for r in timed])
    axes.axvline(timed[0]["roofline_ms"], color="black", linestyle="--", label="GEMM roofline")
    axes.set_xlabel("median ms per training step")
    axes.set_title(f"dense step, MLP {'-'.join(map(str, timed[0]['sizes']))}, batch {timed[0]['batch_size']}")
    axes.legend()
    figure.tight_layout()
    save_figure(figure, path)
    plt.close(figure)
