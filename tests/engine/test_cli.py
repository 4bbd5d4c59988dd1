"""The headless CLI, run as a real program in a subprocess.

DESIGN "Headless CLI": ``queuestudio run MODEL.json [--end-time T] [--seed S]
[--replications R] [--json PATH|-] [--csv PATH]`` runs without a display and without
importing Qt, shows progress on stderr, prints a table of the metrics, writes them as JSON
(``{"nodes": {id: {metric: value, …, "ci95": {…} when R > 1}}}``); exit 0 on success, 2 on a
bad model or bad arguments with a one-paragraph message and no traceback. ``python -m
engine run …`` is the same.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engine.metrics import SERIES, SINK_METRICS, STATION_METRICS
from engine.model import build, load_model, replication_seeds

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "resources" / "examples"
MM1 = EXAMPLES / "mm1.json"
FORBIDDEN = ("PySide6", "pyqtgraph", "shiboken6", "desktop")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    return env


def cli(*args: Any, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m engine <args>`` in a subprocess (from another directory, like a user would)."""
    return subprocess.run(
        [sys.executable, "-m", "engine", *map(str, args)],
        cwd=cwd or ROOT.parent,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in the JSON output")

    return json.loads(text, parse_constant=refuse)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    message = proc.stderr.strip()
    assert message.startswith("queuestudio:"), message
    assert "\n\n" not in message, "one paragraph"
    for needle in needles:
        assert needle in message, (needle, message)


def small_model(tmp_path: Path, **changes: Any) -> Path:
    """A quick M/M/1 document without warm-up (end 200 s, samples every 10 s)."""
    doc = json.loads(MM1.read_text(encoding="utf-8"))
    doc["simulation"].update({"end_time": 200, "warmup": 0, "sample_interval": 10.0})
    doc.update(changes)
    path = tmp_path / "small.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# ------------------------------------------------------------------ success
def test_run_prints_a_table_with_a_theory_column_for_mm1():
    proc = cli("run", MM1, "--end-time", 3000, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr == ""  # --quiet: no progress bar
    out = proc.stdout
    assert "cpu (server)" in out and "done (sink)" in out
    header = next(line for line in out.splitlines() if "metric" in line and "simulated" in line)
    assert "theory" in header
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:] if line.startswith("  ") and line.split()}
    for name in STATION_METRICS:
        assert name in rows, name
    assert rows["mean_response"][-1] == "5.0000"  # W = 1/(μ−λ)
    assert rows["utilization"][-1] == "0.8000"
    assert rows["mean_in_system"][-1] == "4.0000"


def test_table_explains_why_theory_does_not_apply():
    proc = cli("run", EXAMPLES / "load_balanced_pools.json", "--end-time", 400, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "theory:" in proc.stdout and "power_of_two" in proc.stdout


def test_json_file_for_one_replication(tmp_path):
    out = tmp_path / "out.json"
    proc = cli("run", MM1, "--end-time", 2000, "--quiet", "--json", out)
    assert proc.returncode == 0, proc.stderr
    assert "cpu (server)" in proc.stdout  # the table still goes to stdout
    data = strict_json(out.read_text(encoding="utf-8"))
    assert {"nodes", "model", "replications", "theory"} <= set(data)
    assert data["model"] == "M/M/1" and data["replications"] == 1
    assert data["end_time"] == 2000 and data["warmup"] == 1000
    assert set(data["nodes"]) == {"cpu", "done"}
    assert set(STATION_METRICS) <= set(data["nodes"]["cpu"])
    assert set(SINK_METRICS) <= set(data["nodes"]["done"])
    assert "ci95" not in data["nodes"]["cpu"] and "ci95" not in data["nodes"]["done"]
    assert isinstance(data["nodes"]["cpu"]["arrivals"], int)
    assert data["theory"]["cpu"]["mean_response"] == pytest.approx(5.0)
    assert data["theory"]["done"]["mean_latency"] == pytest.approx(5.0)
    # the numbers are the engine's for the document's seed
    run = build(load_model(MM1), end_time=2000)
    run.run()
    assert data["nodes"]["cpu"]["arrivals"] == run.results()["cpu"]["arrivals"]
    assert data["nodes"]["cpu"]["mean_response"] == pytest.approx(run.results()["cpu"]["mean_response"], rel=1e-9)


def test_json_for_three_replications_has_ci95_and_means(tmp_path):
    out = tmp_path / "out.json"
    proc = cli("run", MM1, "--end-time", 2000, "--replications", 3, "--quiet", "--json", out)
    assert proc.returncode == 0, proc.stderr
    data = strict_json(out.read_text(encoding="utf-8"))
    assert data["replications"] == 3
    for node_id, names in (("cpu", STATION_METRICS), ("done", SINK_METRICS)):
        metrics = data["nodes"][node_id]
        assert "ci95" in metrics, node_id
        assert set(names) <= set(metrics["ci95"])
        for name in names:
            half = metrics["ci95"][name]
            assert half is None or half >= 0, (node_id, name, half)
    assert data["nodes"]["cpu"]["ci95"]["mean_response"] > 0
    assert data["nodes"]["done"]["ci95"]["mean_latency"] > 0
    assert "± 95% CI" in proc.stdout
    # each value is the mean over the replications seeded by replication_seeds(document seed, 3)
    model = load_model(MM1)
    arrivals = []
    for seed in replication_seeds(model.simulation.seed, 3):
        run = build(model, seed=seed, end_time=2000)
        run.run()
        arrivals.append(run.results()["cpu"]["arrivals"])
    assert data["nodes"]["cpu"]["arrivals"] == pytest.approx(sum(arrivals) / 3)


def test_json_to_stdout_is_strict_json_only(tmp_path):
    """A station nothing reaches has NaN means; they must come out as null, not NaN."""
    path = small_model(tmp_path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["nodes"][0]["params"]["rate"] = 0.0
    path.write_text(json.dumps(doc), encoding="utf-8")
    proc = cli("run", path, "--json", "-", "--quiet")
    assert proc.returncode == 0, proc.stderr
    data = strict_json(proc.stdout)
    assert data["nodes"]["cpu"]["arrivals"] == 0
    assert data["nodes"]["cpu"]["mean_response"] is None
    assert "NaN" not in proc.stdout and "Infinity" not in proc.stdout


def test_json_to_stdout_with_replications_is_strict(tmp_path):
    proc = cli("run", small_model(tmp_path), "--json", "-", "--replications", 3, "--quiet")
    assert proc.returncode == 0, proc.stderr
    data = strict_json(proc.stdout)
    assert "ci95" in data["nodes"]["cpu"]


def test_csv_time_series(tmp_path):
    out = tmp_path / "series.csv"
    proc = cli("run", small_model(tmp_path), "--csv", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == ["time", "node", "queue_length", "in_service", "utilization", "throughput", "capacity"]
    assert rows[0][2:] == list(SERIES)
    body = rows[1:]
    assert len(body) == 20  # 200 s sampled every 10 s, one station
    times = [float(r[0]) for r in body]
    assert times == [10.0 * k for k in range(1, 21)]
    for r in body:
        assert len(r) == 7 and r[1] == "cpu"
        values = [float(v) for v in r[2:]]
        assert all(math.isfinite(v) and v >= 0 for v in values), r
        assert values[2] <= 1.0 + 1e-9


def test_csv_has_no_nan_rows_at_the_end_of_warmup(tmp_path):
    out = tmp_path / "series.csv"
    proc = cli("run", MM1, "--end-time", 1200, "--csv", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    bad = [line for line in text.splitlines() if "nan" in line.lower()]
    assert bad == []


def test_csv_with_replications_writes_the_first_replication_only(tmp_path):
    out = tmp_path / "series.csv"
    proc = cli("run", small_model(tmp_path), "--csv", out, "--replications", 2, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_text(encoding="utf-8").splitlines()) == 21


def test_two_workers_give_the_same_answer_as_one(tmp_path):
    path = small_model(tmp_path)
    one = cli("run", path, "--replications", 3, "--json", "-", "--quiet")
    two = cli("run", path, "--replications", 3, "--workers", 2, "--json", "-", "--quiet")
    assert one.returncode == 0 and two.returncode == 0, (one.stderr, two.stderr)
    assert "Traceback" not in two.stderr
    assert strict_json(two.stdout)["nodes"] == strict_json(one.stdout)["nodes"]


def test_seed_option_overrides_the_document_seed(tmp_path):
    path = small_model(tmp_path)
    a = strict_json(cli("run", path, "--seed", 5, "--json", "-", "--quiet").stdout)
    c = strict_json(cli("run", path, "--seed", 6, "--json", "-", "--quiet").stdout)
    assert a["nodes"] != c["nodes"]
    run = build(load_model(path), seed=5)
    run.run()
    assert a["nodes"]["cpu"]["arrivals"] == run.results()["cpu"]["arrivals"]
    assert a["nodes"]["done"]["count"] == run.results()["done"]["count"]


def test_no_progress_frames_in_redirected_stderr(tmp_path):
    """Issue 13: the bar is drawn only on a terminal; a long run with stderr redirected leaves
    it empty (the bar itself is tested with a fake terminal and clock, and on a real
    pseudo-terminal, in test_cli_hardening.py)."""
    path = small_model(tmp_path)
    proc = cli("run", path, "--end-time", 250000, "--json", tmp_path / "o.json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "cpu (server)" in proc.stdout


def test_no_progress_bar_for_a_short_run(tmp_path):
    """_Progress promises a bar "only for runs longer than a moment"; a run of a few
    milliseconds should leave stderr empty even without --quiet (today the 100 % line is
    always written)."""
    proc = cli("run", small_model(tmp_path), "--end-time", 20, "--json", tmp_path / "o.json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


# ------------------------------------------------------------------ failures
def test_missing_file_exits_2():
    assert_clean_failure(cli("run", "/no/such/model.json"), "no such file")


def test_bad_json_exits_2(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"format": "queuestudio-model", "version": 1, "nodes": [', encoding="utf-8")
    assert_clean_failure(cli("run", path), "not valid JSON")


def test_nan_literal_exits_2(tmp_path):
    path = tmp_path / "nan.json"
    path.write_text(MM1.read_text(encoding="utf-8").replace('"rate": 0.8', '"rate": NaN'), encoding="utf-8")
    assert_clean_failure(cli("run", path), "NaN")


def test_invalid_model_exits_2_listing_every_problem(tmp_path):
    doc = json.loads(MM1.read_text(encoding="utf-8"))
    doc["nodes"][1]["params"]["service_time"]["mean"] = -1
    doc["nodes"][1]["params"]["concurrency"] = 0
    doc["links"].append({"from": "cpu", "to": "db"})
    path = tmp_path / "invalid.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    proc = cli("run", path)
    assert_clean_failure(
        proc,
        "node 'cpu': service_time.mean must be > 0, got -1",
        "node 'cpu': concurrency must be >= 1, got 0",
        "link 2: unknown node 'db'",
    )
    assert str(path) in proc.stderr
    assert proc.stdout == ""


def test_non_object_document_exits_2(tmp_path):
    path = tmp_path / "list.json"
    path.write_text("[1, 2, 3]", encoding="utf-8")
    assert_clean_failure(cli("run", path), "JSON object")


def test_directory_as_model_exits_2(tmp_path):
    assert_clean_failure(cli("run", tmp_path))


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["--replications", "0"], "--replications"), (["--end-time", "-1"], "--end-time")],
    ids=["replications-0", "end-time-negative"],
)
def test_bad_arguments_exit_2_with_usage(args, needle):
    proc = cli("run", MM1, *args)
    assert_clean_failure(proc, needle, "Usage:")
    assert proc.stdout == ""


BATCH = """
import contextlib, io, json, sys
from engine.cli import main
out = []
for argv in json.loads(sys.argv[1]):
    err, std = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(std):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse or anything else exiting on its own
            code = ("SystemExit", exc.code)
    out.append({"code": code, "stderr": err.getvalue(), "stdout": std.getvalue()})
print(json.dumps(out))
"""

BAD_ARGUMENTS = [
    (["--replications", "-3"], "--replications"),
    (["--end-time", "0"], "--end-time"),
    (["--end-time", "nan"], "--end-time"),
    (["--end-time", "inf"], "--end-time"),
    (["--end-time", "abc"], "--end-time"),
    (["--end-time", "500"], "warmup"),  # mm1.json warms up for 1000 s
    (["--workers", "0"], "--workers"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--frobnicate"], "frobnicate"),
    (["--replications"], "--replications"),
]


def test_more_bad_arguments_exit_2_with_usage():
    """The remaining cases in one interpreter (engine.cli.main, the function behind the entry
    point): each returns 2 with a one-paragraph usage message, raises nothing, prints nothing."""
    argvs = [["run", str(MM1), *args] for args, _ in BAD_ARGUMENTS] + [[], ["walk"], ["run"]]
    proc = subprocess.run(
        [sys.executable, "-c", BATCH, json.dumps(argvs)],
        cwd=ROOT.parent,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    results = json.loads(proc.stdout)
    needles = [needle for _, needle in BAD_ARGUMENTS] + ["Usage:", "Usage:", "Usage:"]
    for argv, needle, result in zip(argvs, needles, results):
        fake = subprocess.CompletedProcess(argv, result["code"], result["stdout"], result["stderr"])
        assert_clean_failure(fake, needle, "Usage:")
        assert result["stdout"] == "", argv


def test_no_command_exits_2():
    assert_clean_failure(cli(), "Usage:")


def test_unwritable_csv_path_exits_2(tmp_path):
    assert_clean_failure(cli("run", MM1, "--end-time", 1100, "--csv", tmp_path / "no" / "dir" / "x.csv"))


def test_unwritable_json_path_exits_2(tmp_path):
    proc = cli("run", MM1, "--end-time", 1100, "--quiet", "--json", tmp_path / "no" / "dir" / "x.json")
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ no Qt, no desktop
PROBE = """
import json, sys
{entry}
code = main({argv!r})
with open({out!r}, "w") as fh:
    json.dump({{"code": code, "modules": sorted(sys.modules)}}, fh)
"""


def _modules_after(entry: str, argv: list[str], tmp_path: Path) -> tuple[int, list[str]]:
    out = tmp_path / "modules.json"
    script = PROBE.format(entry=entry, argv=argv, out=str(out))
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    return data["code"], data["modules"]


def test_running_the_cli_imports_no_qt_or_desktop_module(tmp_path):
    argv = [
        "run",
        str(MM1),
        "--end-time",
        "1100",
        "--quiet",
        "--replications",
        "2",
        "--json",
        str(tmp_path / "o.json"),
        "--csv",
        str(tmp_path / "o.csv"),
    ]
    code, modules = _modules_after("from engine.cli import main", argv, tmp_path)
    assert code == 0
    assert "engine.cli" in modules and "engine.analysis" in modules
    assert [m for m in modules if m.startswith(FORBIDDEN)] == []


def test_python_m_engine_imports_no_qt(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "engine", "run", str(MM1), "--end-time", "1100", "--quiet"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = [line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert "engine.cli" in imported
    assert [m for m in imported if m.startswith(FORBIDDEN)] == []


def test_the_launcher_run_path_imports_no_qt(tmp_path):
    """``queuestudio run`` goes through desktop.launcher, which must load no Qt and no other
    desktop module."""
    argv = ["run", str(MM1), "--end-time", "1100", "--quiet"]
    code, modules = _modules_after("from desktop.launcher import main", argv, tmp_path)
    assert code == 0
    assert [m for m in modules if m.startswith(("PySide6", "pyqtgraph", "shiboken6"))] == []
    assert [m for m in modules if m.startswith("desktop")] == ["desktop", "desktop.launcher"]


def _console_script() -> str | None:
    candidate = Path(sys.executable).parent / "queuestudio"
    if candidate.exists():
        return str(candidate)
    return None


@pytest.mark.skipif(_console_script() is None, reason="the queuestudio console script is not installed in this venv")
def test_queuestudio_console_script_runs_headless(tmp_path):
    script = _console_script()
    proc = subprocess.run(
        [script, "run", str(MM1), "--end-time", "1100", "--json", "-", "--quiet"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert set(strict_json(proc.stdout)["nodes"]) == {"cpu", "done"}
    bad = subprocess.run(
        [script, "run", str(tmp_path / "missing.json")],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert_clean_failure(bad, "no such file")


EXAMPLES_SCRIPT = """
import json, sys
from engine.cli import main
codes = {}
for path, end, out in json.loads(sys.argv[1]):
    codes[path] = main(["run", path, "--end-time", str(end), "--json", out, "--quiet"])
print(json.dumps(codes))
"""


def test_examples_all_run_through_the_cli(tmp_path):
    """Every bundled example runs end to end (shortened) and its JSON lists every station and sink."""
    jobs, models = [], {}
    for path in sorted(EXAMPLES.glob("*.json")):
        model = load_model(path)
        models[str(path)] = model
        jobs.append([str(path), model.simulation.warmup + 50, str(tmp_path / (path.stem + ".json"))])
    proc = subprocess.run(
        [sys.executable, "-c", EXAMPLES_SCRIPT, json.dumps(jobs)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    for path, _, out in jobs:
        assert codes[path] == 0, path
        data = strict_json(Path(out).read_text(encoding="utf-8"))
        expected = {n.id for n in models[path].nodes if n.kind not in ("source", "router")}
        assert set(data["nodes"]) == expected, path
        assert set(data["theory"]) == expected, path
