"""``nerva-edu bench dense`` on a small network: the table, the JSON, the subcommand structure."""

import json

import numpy as np
import pytest

from nerva_edu.cli import main


DENSE_KEYS = {"implementation", "ms_per_step", "min_ms_per_step", "roofline_fraction", "threads", "sizes",
              "batch_size", "gemm_gflops", "roofline_ms"}


def test_bench_dense_small(tmp_path, capsys):
    path, plot = tmp_path / "bench.json", tmp_path / "bench.png"
    chosen = ["nerva_edu (NumPy)", "nerva_edu (jax.jit)", "torch eager", "jax.jit (hand-written)"]
    assert main(["bench", "dense", "--sizes", "8;6;4", "--batch-size", "10", "--rounds", "1", "--steps", "1",
                 "--implementations", ",".join(chosen), "--json", str(path), "--plot", str(plot)]) == 0
    results = json.loads(path.read_text())
    assert [r["implementation"] for r in results] == chosen and plot.stat().st_size > 0
    for r in results:
        assert set(r) == DENSE_KEYS and r["sizes"] == [8, 6, 4] and r["batch_size"] == 10
        assert r["ms_per_step"] > 0 and r["min_ms_per_step"] <= r["ms_per_step"]
        assert r["roofline_fraction"] == pytest.approx(r["roofline_ms"] / r["ms_per_step"])
    out = capsys.readouterr().out
    assert "MLP 8-6-4 (ReLU;Linear), batch 10, float32" in out and "cross-check of the first step: agree" in out
    assert "ratio fastest nerva_edu path / fastest peer" in out


def test_bench_dense_cross_check_catches_a_mismatch():
    from nerva_edu.benchmarks.dense import cross_check
    W = np.ones((2, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="cross-check: b and a differ in the updated W of layer 1"):
        cross_check({"a": (1.0, [W]), "b": (1.0, [W + 1e-2])})
    with pytest.raises(ValueError, match="cross-check: b computes the loss"):
        cross_check({"a": (1.0, [W]), "b": (1.1, [W])})


@pytest.mark.parametrize("value", ["", "torch", "torch eager,numpy"])
def test_bench_dense_refuses_unknown_implementations(value, capsys):
    assert main(["bench", "dense", "--implementations", value, "--plot", ""]) == 2
    assert "--implementations: " in capsys.readouterr().err


def test_bench_needs_a_benchmark_name(capsys):
    with pytest.raises(SystemExit):
        main(["bench"])
    with pytest.raises(SystemExit):
        main(["bench", "sparse-nonexistent"])
    assert "invalid choice: 'sparse-nonexistent' (choose from 'dense', 'sparse', 'scale')" in capsys.readouterr().err


# --- bench scale ----------------------------------------------------------------------------------

SCALE_KEYS = {"backend", "width", "density", "threads", "ms_per_step", "seconds_per_epoch", "gflops", "peak_rss_mb",
              "skipped", "breakdown", "load_bound"}


def test_bench_scale_at_tiny_widths(tmp_path, capsys):
    from nerva_edu.benchmarks.scale import network
    path, plot = tmp_path / "scale.json", tmp_path / "scale.png"
    assert main(["bench", "scale", "--widths", "32,16", "--backends", "cpp", "--threads", "2", "--rounds", "1",
                 "--round-seconds", "0.01", "--batch-size", "20", "--json", str(path), "--plot", str(plot)]) == 0
    results = json.loads(path.read_text())
    assert [(r["width"], r["threads"]) for r in results] == [(16, 1), (16, 2), (32, 1), (32, 2)]
    for r in results:
        assert set(r) == SCALE_KEYS and r["backend"] == "cpp" and r["density"] == 0.01 and r["skipped"] is None
        seconds = r["ms_per_step"] / 1e3
        assert r["seconds_per_epoch"] == pytest.approx(seconds * 2500)          # 50 000 examples, batch 20
        assert r["gflops"] == pytest.approx(6 * network(r["width"], 0.01)[2] * 20 / seconds / 1e9)
        assert r["peak_rss_mb"] > 50
        kernels = [(k["layer"], k["kernel"]) for k in r["breakdown"]]
        assert sorted(kernels[:-1]) == sorted([(l, "SpMM") for l in range(1, 5)] + [(l, "SDDMM") for l in range(1, 5)]
                                              + [(l, "transposed SpMM") for l in range(2, 5)])
        assert kernels[-1] == (None, "other")
        assert all(k["ms"] > 0 for k in r["breakdown"][:-1])
        assert sum(k["ms"] for k in r["breakdown"]) == pytest.approx(r["ms_per_step"])
        assert all(k["share"] == pytest.approx(k["ms"] / r["ms_per_step"]) for k in r["breakdown"])
        bound = r["load_bound"]
        assert 0 < bound["shared_ms"] < bound["ms"]
        assert bound["gflops"] == pytest.approx(6 * network(r["width"], 0.01)[2] * 20 / bound["ms"] / 1e6)
        assert bound["shared_gflops"] == pytest.approx(bound["gflops"] * bound["ms"] / bound["shared_ms"])
    assert plot.stat().st_size > 0
    out = capsys.readouterr().out
    assert "MLP 3072-H-H-H-10, overall density 0.01" in out and "C++ 1 → 2 threads" in out
    assert "where the time of a C++ step goes" in out and "the least time of a C++ step's loads" in out


def test_bench_scale_skips_backends_whose_memory_does_not_fit_before_starting_them(tmp_path, monkeypatch):
    from nerva_edu import memory
    from nerva_edu.benchmarks import sparse
    monkeypatch.setattr(memory, "available_bytes", lambda: 2**30)
    monkeypatch.setattr(sparse, "start_worker", lambda *arguments: pytest.fail("a worker was started"))
    path = tmp_path / "scale.json"
    assert main(["bench", "scale", "--widths", "65536", "--threads", "2", "--json", str(path), "--plot", ""]) == 0
    results = json.loads(path.read_text())
    assert [(r["backend"], r["threads"]) for r in results] == [("cpp", 1), ("cpp", 2), ("torch-csr", 2),
                                                                ("torch-masked", 2)]
    for r in results:
        assert r["skipped"].startswith("needs about ") and r["skipped"].endswith("1.0 GiB available"), r
        assert r["ms_per_step"] is r["gflops"] is r["peak_rss_mb"] is r["seconds_per_epoch"] is r["breakdown"] is r["load_bound"] is None
    masked = float(results[-1]["skipped"].split()[2])
    assert masked > 100                                       # GiB: dense weights of 3×65536


def test_bench_scale_skips_a_backend_whose_step_is_too_slow():
    from argparse import Namespace
    from nerva_edu.benchmarks import scale
    args = Namespace(density=0.01, batch_size=100, threads=1, max_step_seconds=30.0)
    with pytest.raises(scale.Skip, match=r"a step would take about 3\d s \(> --max-step-seconds\)"):
        scale.start("torch-csr", 8192, args, 2**60, {"torch-csr": (scale.network(4096, 0.01)[2], 10.0)})
    args.max_step_seconds = 1e-9                               # the first step of the worker is measured
    with pytest.raises(scale.Skip, match=r"a step takes \d+\.\d s \(> --max-step-seconds\)"):
        scale.start("cpp", 16, args, 2**60, {})


@pytest.mark.parametrize("arguments, message", [
    ("--widths 0", "--widths must be integers from 1 to 2147483647"),
    ("--widths 1024,x", "--widths: cannot parse '1024,x'"),
    ("--widths ,", "--widths: ','; accepted: numbers"),
    ("--density 2", r"--density must lie in \(0, 1\], got 2.0"),
    ("--density nan", "argument --density: 'nan' is not a finite number > 0"),
    ("--backends numpy", "--backends: 'numpy'; accepted: cpp, torch-csr, torch-masked"),
    ("--threads 0", "argument --threads: '0' is not a positive integer"),
    ("--threads 5000", "threads must be an integer from 1 to 1024, got 5000"),
    ("--max-step-seconds 0", "argument --max-step-seconds: '0' is not a finite number > 0"),
    ("--rounds 0", "argument --rounds: '0' is not a positive integer"),
    ("--plot /nonexistent-directory/p.png", "cannot write the --plot file"),
    ("--json {tmp}/p.png --plot {tmp}/p.png", "--json and --plot name the same file"),
    ("--plot {tmp}/p.txt", "the --plot file needs a suffix that names an image format: .*\\.png"),
    ("--plot {tmp}/p", "the --plot file needs a suffix"),
    ("--plot {tmp}/", "the --plot file must be a file name, not a directory"),
])
def test_bench_scale_rejects_bad_options_in_one_line(tmp_path, capsys, arguments, message):
    import re
    argv = ["bench", "scale", *arguments.format(tmp=tmp_path).split()]
    try:
        status = main(argv)
    except SystemExit as exit:
        status = exit.code
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1 and error.startswith("nerva-edu bench scale: error: "), error
    assert re.search(message, error), error


def test_bench_scale_runs_on_all_cpus_of_the_process_by_default():
    import argparse
    from nerva_edu.benchmarks import scale
    from nerva_edu.sparse.kernels import default_threads
    parser = argparse.ArgumentParser()
    scale.add_arguments(parser)
    args = parser.parse_args(["--plot", ""])
    assert scale.check_arguments(args) == (list(scale.WIDTHS), list(scale.BACKENDS))
    assert args.threads == default_threads()


@pytest.mark.parametrize("benchmark", ["dense", "sparse"])
def test_a_plot_name_without_an_image_suffix_is_refused_before_the_timing(tmp_path, capsys, benchmark):
    status = main(["bench", benchmark, "--plot", str(tmp_path / "keep.txt"), "--json", str(tmp_path / "b.json")])
    captured = capsys.readouterr()
    assert status == 2 and "the --plot file needs a suffix" in captured.err and captured.out == "", captured


def test_save_figure_writes_the_format_of_the_suffix_atomically(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from nerva_edu.files import save_figure
    figure, _ = plt.subplots()
    for name, magic in (("f.png", b"\x89PNG"), ("f.pdf", b"%PDF"), ("f.svg", b"<?xml")):
        save_figure(figure, tmp_path / name)
        assert (tmp_path / name).read_bytes().startswith(magic)
    plt.close(figure)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pdf", "f.png", "f.svg"]      # no temporary files
