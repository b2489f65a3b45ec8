"""``nerva-edu bench dense`` on a small network: the table, the JSON, the subcommand structure."""

import json

import pytest

from nerva_edu.cli import main


def test_bench_dense_small(tmp_path, capsys):
    path = tmp_path / "bench.json"
    assert main(["bench", "dense", "--sizes", "20;16;8;4", "--batch-size", "10", "--rounds", "2", "--steps", "2",
                 "--json", str(path)]) == 0
    result = json.loads(path.read_text())
    assert result["benchmark"] == "dense" and result["sizes"] == [20, 16, 8, 4]
    assert result["ratio"] == pytest.approx(result["nerva_edu_ms"] / result["torch_ms"])
    out = capsys.readouterr().out
    assert "MLP 20-16-8-4 (ReLU;ReLU;Linear), batch 10, float32" in out and "ratio nerva_edu / torch" in out


def test_bench_needs_a_benchmark_name(capsys):
    with pytest.raises(SystemExit):
        main(["bench"])
    with pytest.raises(SystemExit):
        main(["bench", "sparse-nonexistent"])
    assert "invalid choice: 'sparse-nonexistent' (choose from 'dense', 'sparse')" in capsys.readouterr().err
