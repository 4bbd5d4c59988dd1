"""queuestudio sweep, compare, and run --precision / --warmup auto / --scheduler: tables,
JSON and CSV as DESIGN.md says, the same numbers as engine.experiments, and every bad input
refused with exit 2 before anything runs (and no output file written)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine import experiments as ex
from engine.cli import main
from engine.model import load_model, save_model

ROOT = Path(__file__).resolve().parents[2]
MM1 = ROOT / "resources" / "examples" / "mm1.json"


@pytest.fixture
def short_mm1(tmp_path: Path) -> Path:
    model = load_model(MM1)
    model.simulation.end_time = 1500.0
    model.simulation.warmup = 100.0
    path = tmp_path / "mm1.json"
    save_model(model, path)
    return path


def run_cli(*args: str, capsys: Any) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_sweep_prints_a_row_per_value_and_writes_json_and_csv(short_mm1: Path, tmp_path: Path, capsys: Any) -> None:
    out_json, out_csv = tmp_path / "sweep.json", tmp_path / "sweep.csv"
    code, out, err = run_cli(
        "sweep", str(short_mm1), "--param", "arrivals.rate", "--values", "0.3:0.7:0.2",
        "--replications", "3", "--workers", "1", "--json", str(out_json), "--csv", str(out_csv), capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "Sweep of arrivals.rate over 3 value(s)" in out and "cpu (server)" in out
    document = json.loads(out_json.read_text())
    assert document["param"] == "arrivals.rate" and [p["value"] for p in document["points"]] == [0.3, 0.5, 0.7]
    point = document["points"][1]
    assert point["replications"] == 3
    cpu = point["nodes"]["cpu"]
    assert set(cpu["ci95"]) >= {"mean_response", "utilization"} and cpu["theory"]["mean_response"] == pytest.approx(2.0)
    model = load_model(short_mm1)
    expected = ex.SweepResult(
        "arrivals.rate", ex.plan_sweep(model, "arrivals.rate", [0.3, 0.5, 0.7], replications=3, seed=1).run()
    ).to_json()
    assert cpu["mean_response"] == expected["points"][1]["nodes"]["cpu"]["mean_response"]
    rows = list(csv.reader(out_csv.read_text().splitlines()))
    assert rows[0] == ["value", "node", "metric", "mean", "ci95", "theory"]
    assert rows[1][:3] == ["0.3", "cpu", "arrivals"]
    assert {r[0] for r in rows[1:]} == {"0.3", "0.5", "0.7"}
    assert any(r[2] == "mean_response" and r[5] for r in rows)  # theory column filled


def test_sweep_on_local_processes_gives_the_same_numbers(short_mm1: Path, capsys: Any) -> None:
    args = ["sweep", str(short_mm1), "--param", "cpu.service_time.mean", "--values", "0.5,1", "--replications", "2"]
    code, one, _ = run_cli(*args, "--workers", "1", "--json", "-", capsys=capsys)
    assert code == 0
    code, two, _ = run_cli(*args, "--workers", "2", "--json", "-", capsys=capsys)
    assert code == 0 and json.loads(one) == json.loads(two)


def test_compare_prints_differences_with_verdicts(short_mm1: Path, tmp_path: Path, capsys: Any) -> None:
    faster = load_model(short_mm1)
    faster.name = "faster cpu"
    faster.node("cpu").params["service_time"] = {"dist": "exponential", "mean": 0.5}
    b = tmp_path / "b.json"
    save_model(faster, b)
    out_csv = tmp_path / "cmp.csv"
    code, out, err = run_cli(
        "compare", str(short_mm1), str(b), "--replications", "6", "--workers", "1", "--csv", str(out_csv),
        capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "6 paired replications" in out and "B lower by" in out
    rows = list(csv.reader(out_csv.read_text().splitlines()))
    assert rows[0] == ["node", "metric", "a", "b", "diff", "ci95", "significant"]
    response = next(r for r in rows if r[:2] == ["cpu", "mean_response"])
    assert float(response[4]) < 0 and response[6] == "True"


def test_a_model_compared_with_itself_differs_by_zero(short_mm1: Path, capsys: Any) -> None:
    code, out, _ = run_cli(
        "compare", str(short_mm1), str(short_mm1), "--replications", "3", "--json", "-", capsys=capsys
    )
    document = json.loads(out)
    assert code == 0 and document["replications"] == 3
    assert document["nodes"]["cpu"]["mean_response"]["diff"] == 0
    assert not document["nodes"]["cpu"]["mean_response"]["significant"]


def test_run_with_precision_and_automatic_warmup(short_mm1: Path, capsys: Any) -> None:
    code, out, err = run_cli(
        "run", str(short_mm1), "--precision", "0.2", "--warmup", "auto", "--workers", "1", "--json", "-",
        capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    assert document["replications"] >= ex.MIN_REPLICATIONS and document["target_met"] is True
    assert 0 <= document["warmup"] < 750  # the cut: at most half the run
    assert document["nodes"]["cpu"]["ci95"]["mean_response"] <= 0.2 * document["nodes"]["cpu"]["mean_response"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["sweep", "{m}", "--param", "nobody.rate", "--values", "1,2"], "no node 'nobody'"),
        (["sweep", "{m}", "--param", "arrivals.speed", "--values", "1,2"], "no parameter 'speed'"),
        (["sweep", "{m}", "--param", "cpu.queue_policy", "--values", "1,2"], "not a number"),
        (["sweep", "{m}", "--param", "arrivals.rate", "--values", "a,b"], "'a' is not a number"),
        (["sweep", "{m}", "--param", "arrivals.rate", "--values", "2:1:1"], "never goes"),
        (["sweep", "{m}", "--param", "arrivals.rate", "--values", "0.5,-1"], "arrivals.rate = -1"),
        (["sweep", "{m}", "--param", "arrivals.rate", "--values", "0.5", "--replications", "0"], "from 1 to"),
        (["sweep", "{m}", "--param", "arrivals.rate", "--values", "0.5", "--precision", "1.5"], "between 0 and 1"),
        (["sweep", "{m}", "--param", "arrivals.rate", "--values", "0.5", "--precision", "0"], "between 0 and 1"),
        (
            [
                "sweep",
                "{m}",
                "--param",
                "arrivals.rate",
                "--values",
                "0.5",
                "--replications",
                "3",
                "--precision",
                "0.1",
            ],
            "not both",
        ),
        (["compare", "{m}", "{missing}"], "no such file"),
        (["run", "{m}", "--warmup", "soon"], "'auto'"),
        (["sweep", "{m}", "--param", "arrivals.rate"], "--values"),
    ],
)
def test_bad_input_exits_2_naming_what_is_wrong_before_any_run(
    short_mm1: Path, tmp_path: Path, capsys: Any, args: list[str], words: str
) -> None:
    out_json = tmp_path / "out.json"
    filled = [a.format(m=short_mm1, missing=tmp_path / "none.json") for a in args]
    code, out, err = run_cli(*filled, "--json", str(out_json), capsys=capsys)
    assert code == 2
    assert words in err
    assert not out_json.exists() and not any(p.name.startswith(".out.json") for p in tmp_path.iterdir())


def test_an_unreachable_scheduler_exits_2_quickly(short_mm1: Path, capsys: Any) -> None:
    pytest.importorskip("distributed")
    code, _, err = run_cli(
        "sweep", str(short_mm1), "--param", "arrivals.rate", "--values", "0.5", "--scheduler", "tcp://127.0.0.1:9",
        capsys=capsys,
    )  # fmt: skip
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err


def test_help_lists_the_three_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "engine", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    for command in ("run", "sweep", "compare"):
        assert command in result.stdout


def test_warmup_auto_in_the_model_file_is_the_mser5_cut(short_mm1: Path, tmp_path: Path, capsys: Any) -> None:
    data = json.loads(short_mm1.read_text())
    data["simulation"]["warmup"] = "auto"
    path = tmp_path / "auto.json"
    path.write_text(json.dumps(data))
    model = load_model(path)
    assert model.simulation.auto_warmup and model.simulation.warmup == 0.0
    assert json.loads(path.read_text())["simulation"]["warmup"] == "auto"
    code, out, err = run_cli("run", str(path), "--replications", "3", "--json", "-", capsys=capsys)
    assert code == 0, err
    document = json.loads(out)
    cut = document["warmup"]
    assert isinstance(cut, float) and 0 <= cut < 750
    code, out, _ = run_cli("run", str(path), "--replications", "3", "--warmup", "200", "--json", "-", capsys=capsys)
    assert code == 0 and json.loads(out)["warmup"] == 200.0  # a number given on the command line wins


@pytest.mark.parametrize("args", [["--version"], ["run", "--version"], ["sweep", "--version"]])
def test_version_on_the_command_and_its_subcommands(args: list[str]) -> None:
    from engine.version import queuestudio_version

    result = subprocess.run(
        [sys.executable, "-m", "engine", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0 and result.stdout.strip() == f"queuestudio {queuestudio_version()}"


def test_the_queuestudio_command_sends_sweep_and_compare_to_the_headless_cli(short_mm1: Path, capsys: Any) -> None:
    from desktop.launcher import main as launcher

    code = launcher(["compare", str(short_mm1), str(short_mm1), "--replications", "2", "--json", "-"])
    assert code == 0 and json.loads(capsys.readouterr().out)["replications"] == 2


def test_verbose_logs_what_happens_to_stderr(short_mm1: Path, capsys: Any) -> None:
    import logging

    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        code, _, err = run_cli(
            "sweep", str(short_mm1), "--param", "arrivals.rate", "--values", "0.5", "-v", capsys=capsys
        )
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)
    assert code == 0
    assert "INFO engine.cli: queuestudio" in err and "worker(s)" in err


def test_without_dask_scheduler_exits_2_saying_how_to_install_it(
    short_mm1: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code, _, err = run_cli(
        "run", str(short_mm1), "--scheduler", "local", "--replications", "2", capsys=capsys
    )  # fmt: skip
    assert code == 2 and 'pip install "queuestudio[dask]"' in err
