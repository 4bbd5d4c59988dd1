"""The CLI against what consoles, files, signals and dead processes really do (issue 16
items 2, 4 and 5; issue 13's progress bar on a terminal only).

Subprocess tests run the real program; the timeouts only catch a hang, no test asserts
how long anything took.
"""

from __future__ import annotations

import io
import json
import os
import pty
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from engine import cli
from engine.model import build, load_model
from engine.replications import MAX_REPLICATIONS, MAX_WORKERS, Cancelled, Slicer, replicate, run_once

ROOT = Path(__file__).resolve().parents[2]
MM1 = ROOT / "resources" / "examples" / "mm1.json"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "PYTHONIOENCODING"):
        env.pop(name, None)
    return env


def strict_json(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in the JSON output")

    return json.loads(text, parse_constant=refuse)


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *needles: str, code: int = 2) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    message = proc.stderr.strip()
    assert message.startswith("queuestudio:"), message
    assert "\n\n" not in message, "one paragraph"
    for needle in needles:
        assert needle in message, (needle, message)


HANG = 120  # seconds: only to catch a hang


def model_file(tmp_path: Path, name: str = "model.json", *, end_time: float = 200, **ids: str) -> Path:
    """mm1.json without warm-up or lesson; ``ids`` renames nodes (``cpu="ρ≥"``)."""
    doc = json.loads(MM1.read_text(encoding="utf-8"))
    doc["simulation"].update({"end_time": end_time, "warmup": 0, "sample_interval": 10.0})
    doc.pop("lesson", None)  # its steps name the nodes by their old ids
    for old, new in ids.items():
        for node in doc["nodes"]:
            if node["id"] == old:
                node["id"] = new
        for link in doc["links"]:
            for end in ("from", "to"):
                if link[end] == old:
                    link[end] = new
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")  # ensure_ascii: a lone surrogate as \udc80
    return path


def start(*args: Any, env: dict[str, str] | None = None, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "engine", *map(str, args)],
        cwd=ROOT.parent,
        env=env or _env(),
        text=True,
        **kw,
    )


def run_cli(*args: Any, env: dict[str, str] | None = None, **kw: Any) -> subprocess.CompletedProcess[str]:
    kw.setdefault("capture_output", True)
    return subprocess.run(
        [sys.executable, "-m", "engine", *map(str, args)],
        cwd=ROOT.parent,
        env=env or _env(),
        text=True,
        timeout=HANG,
        **kw,
    )


def temp_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + HANG
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# ------------------------------------------------------------------ any console
@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "utf-8"])
def test_the_table_prints_on_any_console_and_odd_ids_survive(tmp_path, encoding):
    """Ids with ρ, ≥ and a lone surrogate: the table prints (ASCII names or escapes where the
    console lacks a character), the JSON and CSV files are complete and keep the ids."""
    path = model_file(tmp_path, cpu="ρ≥1 \udc80", done="fin—é")
    env = _env() | {"PYTHONIOENCODING": encoding}
    out_json, out_csv = tmp_path / "out.json", tmp_path / "out.csv"
    proc = run_cli(
        "run",
        path,
        "--replications",
        2,
        "--json",
        out_json,
        "--csv",
        out_csv,
        "--quiet",
        env=env,
        encoding=encoding,  # read the output as the console would
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    table = proc.stdout
    if encoding == "ascii":
        assert table.isascii()
        assert "rho>=1 \\udc80 (server)" in table
        assert "fin-\\xe9 (sink)" in table
        assert "+/- 95% CI" in table
    elif encoding == "cp1252":
        assert "rho>=1 \\udc80 (server)" in table
        assert "fin—é (sink)" in table  # cp1252 has both
        assert "± 95% CI" in table
    else:
        assert "ρ≥1 \\udc80 (server)" in table
    data = strict_json(out_json.read_text(encoding="utf-8"))
    assert set(data["nodes"]) == {"ρ≥1 \udc80", "fin—é"}
    assert data["nodes"]["ρ≥1 \udc80"]["arrivals"] > 0
    rows = out_csv.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 21 and rows[1].split(",")[1] == "ρ≥1 \\udc80"


def test_json_to_stdout_on_an_ascii_console(tmp_path):
    path = model_file(tmp_path, cpu="ρ\udc80")
    proc = run_cli("run", path, "--json", "-", "--quiet", env=_env() | {"PYTHONIOENCODING": "ascii"})
    assert proc.returncode == 0, proc.stderr
    assert set(strict_json(proc.stdout)["nodes"]) == {"ρ\udc80", "done"}


def test_error_messages_print_on_an_ascii_console(tmp_path):
    doc = json.loads(model_file(tmp_path, cpu="ρ≥\udc80").read_text(encoding="utf-8"))
    doc["nodes"][1]["params"]["concurrency"] = 0
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    proc = run_cli("run", path, env=_env() | {"PYTHONIOENCODING": "ascii"})
    assert_clean_failure(proc, "concurrency must be >= 1")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_failed_print_keeps_the_json_file(tmp_path):
    """stdout on a full device: printing fails, the --json and --csv files are written all the same."""
    out_json, out_csv = tmp_path / "out.json", tmp_path / "out.csv"
    with open("/dev/full", "w") as full:
        proc = run_cli(
            "run",
            model_file(tmp_path),
            "--json",
            out_json,
            "--csv",
            out_csv,
            "--quiet",
            capture_output=False,
            stdout=full,
            stderr=subprocess.PIPE,
        )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "could not print" in proc.stderr and str(out_json) in proc.stderr
    assert set(strict_json(out_json.read_text(encoding="utf-8"))["nodes"]) == {"cpu", "done"}
    assert len(out_csv.read_text(encoding="utf-8").splitlines()) == 21
    assert temp_files(tmp_path) == []


def test_printable_escapes_controls_and_surrogates():
    assert cli.printable("cpu") == "cpu"
    assert cli.printable("ρ≥") == "ρ≥"
    assert cli.printable("a\nb\x1b[31m\udc80") == "a\\nb\\x1b[31m\\udc80"


def test_for_console_falls_back_to_ascii_names():
    text = "offered load ρ = 1.2 ≥ 1 — ± \u2603"
    assert cli.for_console(text, "utf-8") == text
    assert cli.for_console(text, "ascii") == "offered load rho = 1.2 >= 1 - +/- \\u2603"
    assert cli.for_console(text, "cp1252") == "offered load rho = 1.2 >= 1 — ± \\u2603"
    assert cli.for_console("x", "no-such-codec") == "x"


# ------------------------------------------------------------------ output files
def test_outputs_are_checked_before_the_run(tmp_path):
    """Each bad output path is refused at once: the model's end time (9e9 s) would take
    forever, so a prompt exit 2 proves the check came first."""
    path = model_file(tmp_path, end_time=9e9)
    folder = tmp_path / "a folder"
    folder.mkdir()
    plain = tmp_path / "plain.txt"
    plain.write_text("x", encoding="utf-8")
    cases = [
        (["--json", folder], "is a folder"),
        (["--csv", folder], "is a folder"),
        (["--json", tmp_path / "missing" / "o.json"], "does not exist"),
        (["--csv", plain / "o.csv"], "is not a folder"),
        (["--json", path], "model file"),
        (["--json", tmp_path / "o", "--csv", tmp_path / "o"], "same file"),
    ]
    for args, needle in cases:
        proc = run_cli("run", path, *args)
        assert_clean_failure(proc, needle, "Nothing was run")
        assert proc.stdout == ""
    assert temp_files(tmp_path) == [] and temp_files(folder) == []
    assert path.read_text(encoding="utf-8").startswith("{")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_folder_that_takes_no_new_file_is_refused_before_the_run(tmp_path):
    """A read-only folder (for root, who may write anywhere else, sysfs)."""
    path = model_file(tmp_path, end_time=9e9)
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
    elif Path("/sys/kernel").is_dir():
        locked = Path("/sys/kernel")
    else:  # pragma: no cover
        pytest.skip("running as root without sysfs")
    try:
        proc = run_cli("run", path, "--json", locked / "o.json")
        assert_clean_failure(proc, "cannot write --json", "Nothing was run")
        assert "Permission denied" in proc.stderr or "Read-only file system" in proc.stderr, proc.stderr
    finally:
        if locked.is_relative_to(tmp_path):
            locked.chmod(0o700)


def _interrupt_a_long_run(tmp_path: Path, sig: int, *extra: Any) -> tuple[int, str, Path, Path]:
    """Start a run that cannot finish, wait until its output temp files exist, send ``sig``."""
    path = model_file(tmp_path, end_time=9e9)
    out_json, out_csv = tmp_path / "out.json", tmp_path / "out.csv"
    out_json.write_text("old results\n", encoding="utf-8")
    proc = start(
        "run", path, "--json", out_json, "--csv", out_csv, *extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        wait_for(lambda: len(temp_files(tmp_path)) == 2, "the temporary output files")
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert out == ""
    return proc.returncode, err, out_json, out_csv


def test_ctrl_c_exits_130_leaving_no_output_file(tmp_path):
    code, err, out_json, out_csv = _interrupt_a_long_run(tmp_path, signal.SIGINT)
    assert code == 130, err
    assert err == "queuestudio: interrupted; no output file was written\n"  # and no progress frames: not a TTY
    assert out_json.read_text(encoding="utf-8") == "old results\n"
    assert not out_csv.exists()
    assert temp_files(tmp_path) == []


def test_sigterm_exits_143_leaving_no_output_file(tmp_path):
    code, err, out_json, out_csv = _interrupt_a_long_run(tmp_path, signal.SIGTERM)
    assert code == 143, err
    assert "terminated" in err and "Traceback" not in err
    assert out_json.read_text(encoding="utf-8") == "old results\n"
    assert not out_csv.exists() and temp_files(tmp_path) == []


def test_ctrl_c_stops_the_workers_too(tmp_path):
    path = model_file(tmp_path, end_time=9e9)
    proc = start("run", path, "--replications", 4, "--workers", 2, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(children(proc.pid)) >= 2, "two worker processes")
        workers = children(proc.pid)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), pid


def test_a_symlinked_output_replaces_its_target_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    proc = run_cli("run", model_file(tmp_path), "--json", link, "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert link.is_symlink()
    assert set(strict_json(real.read_text(encoding="utf-8"))["nodes"]) == {"cpu", "done"}
    assert temp_files(tmp_path) == []


def test_an_output_file_keeps_the_usual_permissions(tmp_path):
    out = tmp_path / "o.json"
    proc = run_cli("run", model_file(tmp_path), "--json", out, "--quiet")
    assert proc.returncode == 0, proc.stderr
    mask = os.umask(0)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


# ------------------------------------------------------------------ replications
def children(pid: int) -> list[int]:
    """Child processes of ``pid`` from /proc (psutil is not a dependency)."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            out += [int(x) for x in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
        except OSError:
            pass
    return out


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (OSError, IndexError):
        return True


needs_proc = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds worker processes through /proc")


@needs_proc
@pytest.mark.parametrize("csv", [False, True], ids=["pool-only", "first-in-process"])
def test_a_killed_worker_is_reported_promptly_and_nothing_is_written(tmp_path, csv):
    """kill -9 one of the two workers of ``--replications 4 --workers 2``: the CLI says which
    replication failed and exits 1 (no retry), stops the other worker, writes nothing."""
    path = model_file(tmp_path, end_time=9e9)
    outputs = ["--json", tmp_path / "o.json"] + (["--csv", tmp_path / "o.csv"] if csv else [])
    proc = start(
        "run", path, "--replications", 4, "--workers", 2, *outputs, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    wanted = 1 if csv else 2  # with --csv replication 1 runs in the CLI's own process
    try:
        wait_for(lambda: len(children(proc.pid)) >= wanted, "the worker processes")
        workers = children(proc.pid)
        os.kill(workers[0], signal.SIGKILL)
        out, err = proc.communicate(timeout=HANG)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1, err
    assert "Traceback" not in err
    message = err.strip()
    assert message.startswith("queuestudio: replication ") and "\n" not in message, message
    number = int(message.split()[2])
    assert number in ((2, 3) if csv else (1, 2))  # the first replications handed out
    assert "failed: worker process killed by signal 9 (SIGKILL)" in message
    assert "no output file was written" in message
    assert out == ""
    assert not (tmp_path / "o.json").exists() and not (tmp_path / "o.csv").exists()
    assert temp_files(tmp_path) == []
    for pid in workers[1:]:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie(pid), "the other worker was left running"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--replications", "1e23"], f"--replications must be from 1 to {MAX_REPLICATIONS:,}, got 1e23"),
        (["--replications", str(MAX_REPLICATIONS + 1)], "--replications must be from 1 to 10,000"),
        (["--replications", "1e400"], "--replications must be a whole number"),
        (["--replications", "2.5"], "--replications must be a whole number"),
        (["--replications", "many"], "--replications must be a whole number"),
        (["--workers", str(MAX_WORKERS + 1)], f"--workers must be from 1 to {MAX_WORKERS}"),
        (["--workers", "99999999999999999999999"], "--workers must be from 1"),
        (["--workers", "-2"], "--workers must be from 1"),
    ],
)
def test_replication_and_worker_limits(args, needle, capsys):
    assert cli.main(["run", str(MM1), *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_clean_failure(subprocess.CompletedProcess(args, 2, "", captured.err), needle, "Usage:")


def test_whole_numbers_may_be_written_as_floats():
    args = cli._parser().parse_args(["run", "m.json", "--replications", "1e3", "--workers", "4.0"])
    assert (args.replications, args.workers) == (1000, 4)


def test_replicate_refuses_beyond_its_maxima():
    model = load_model(MM1)
    with pytest.raises(ValueError, match="10,000"):
        replicate(model, MAX_REPLICATIONS + 1)
    with pytest.raises(ValueError, match="workers"):
        replicate(model, 2, workers=MAX_WORKERS + 1)


# ------------------------------------------------------------------ progress
class FakeTerminal(io.StringIO):
    def __init__(self, tty: bool = True) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_bar_appears_after_the_delay_on_a_terminal():
    clock, term = FakeClock(), FakeTerminal()
    bar = cli.Progress("M/M/1", stream=term, clock=clock, delay=0.5, interval=0.1)
    bar(0.1)
    clock.now += 0.4
    bar(0.2)
    assert term.getvalue() == ""  # not yet: a short run shows nothing
    clock.now += 0.2
    bar(0.25)
    frame = term.getvalue()
    assert frame.startswith("\rM/M/1 [#######.......................] 25.0%")
    assert "0.6 s elapsed, 1.8 s left" in frame
    clock.now += 0.05
    bar(0.3)
    assert term.getvalue() == frame  # redrawn at most every 0.1 s
    clock.now += 0.1
    bar(0.5)
    assert term.getvalue().count("\r") == 2
    bar(1.0)  # the last frame is always drawn
    assert "[##############################] 100.0%" in term.getvalue()
    bar.close()
    assert term.getvalue().endswith("\n") and term.getvalue().count("\n") == 1


@pytest.mark.parametrize("tty", [False, True])
def test_no_bar_off_a_terminal_or_when_quiet(tty):
    clock, term = FakeClock(), FakeTerminal(tty)
    bar = cli.Progress("M/M/1", stream=term, clock=clock, enabled=not tty)  # a pipe, or a terminal with --quiet
    for k in range(1, 101):
        clock.now += 10.0
        bar(k / 100)
    bar.close()
    assert term.getvalue() == ""


def test_the_bar_shows_tiny_fractions_and_long_waits():
    clock, term = FakeClock(), FakeTerminal()
    bar = cli.Progress("big", stream=term, clock=clock)
    clock.now += 2.0
    bar(2e-9)
    assert "2.0e-07%" in term.getvalue() and "years left" in term.getvalue()


def test_slices_follow_the_wall_clock():
    clock = FakeClock()
    slicer = Slicer(0.0, 1e15, target=0.05, clock=clock, growth=16.0)
    stops = []
    while not slicer.done and len(stops) < 200:
        stops.append(slicer.next_stop())
        clock.now += 0.001  # fast slices: the next one is 16 times longer
        slicer.finished_slice()
    assert stops[0] <= 1e-6
    assert all(b > a for a, b in zip(stops, stops[1:]))
    assert stops[-1] == 1e15 and slicer.done and slicer.fraction == 1.0
    assert len(stops) < 40
    # a slow slice shrinks the next one
    slicer = Slicer(0.0, 100.0, target=0.05, clock=clock)
    slicer.next_stop()
    slicer.finished_slice()  # no time at all: grows
    span = slicer.span
    slicer.next_stop()
    clock.now += 0.1
    slicer.finished_slice()
    assert slicer.span == pytest.approx(span / 2)


def test_a_slice_never_stands_still_where_floats_are_sparse():
    slicer = Slicer(1e15, 1e15 + 1, clock=FakeClock())
    first = slicer.next_stop()
    assert first > 1e15


def test_progress_is_reported_for_an_end_time_of_1e15():
    """The bug: 200 slices of 5e12 s each, so the first progress call never came. Now the
    slices are cut by wall time and progress comes from the very first ones."""
    model = load_model(MM1)
    fractions: list[float] = []
    with pytest.raises(Cancelled):
        run_once(model, 1, 1e15, progress=fractions.append, cancelled=lambda: len(fractions) >= 20)
    assert len(fractions) == 20
    assert fractions == sorted(fractions) and 0 < fractions[-1] < 1e-6


def test_the_slicing_never_changes_the_results():
    """Slices cut by a clock that makes slices seem slow or fast at random, or always fast,
    give the same numbers as a plain run."""
    model = load_model(MM1)
    model.simulation.end_time = 1500.0
    run = build(model, seed=3)
    run.run_until(run.end_time)
    expected = run.results()
    jitter = random.Random(7)
    ticks = [0.0]

    def jittery_clock() -> float:  # slices seem to take 0 to 0.1 s: they grow and shrink
        ticks[0] += jitter.uniform(0.0, 0.1)
        return ticks[0]

    assert run_once(model, 3, clock=jittery_clock) == expected
    assert run_once(model, 3, clock=lambda: 0.0) == expected


def _read_pty(fd: int, until: Any) -> bytes:
    data = b""
    deadline = time.monotonic() + HANG
    while not until(data) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    return data


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_a_bar_on_a_terminal_for_an_end_time_of_1e15_and_ctrl_c(tmp_path):
    """stderr on a pseudo-terminal: the bar shows for a run that cannot finish; Ctrl-C ends it
    with 130 and no output file."""
    path = model_file(tmp_path, end_time=9e9)
    master, slave = pty.openpty()
    proc = start("run", path, "--json", tmp_path / "o.json", stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    try:
        frames = _read_pty(master, lambda data: data.count(b"\r") >= 3)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=HANG)
        rest = _read_pty(master, lambda data: b"interrupted" in data)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    text = frames.decode("utf-8", "replace")
    assert text.count("\r") >= 3, text
    assert "M/M/1 [" in text and "% " in text and "elapsed" in text and "left" in text
    assert proc.returncode == 130
    assert b"interrupted; no output file was written" in rest
    assert b"Traceback" not in frames + rest
    assert out == ""
    assert not (tmp_path / "o.json").exists() and temp_files(tmp_path) == []


# ------------------------------------------------------------------ runs that do not advance
def ping_pong(tmp_path: Path) -> Path:
    """Two routers linked to each other (one ``shortest_queue``) in front of a server: a
    request bounces between them for ever at one instant (the kernel's stall test)."""

    def node(nid: str, kind: str, **params: Any) -> dict[str, Any]:
        return {"id": nid, "kind": kind, "position": [0, 0], "params": params}

    doc = {
        "format": "queuestudio-model",
        "version": 1,
        "name": "ping-pong",
        "simulation": {"end_time": 100.0, "warmup": 0, "seed": 1, "sample_interval": 1.0},
        "nodes": [
            node("arrivals", "source", rate=1.0),
            node("r1", "router", policy="shortest_queue"),
            node("r2", "router"),
            node("web", "server", service_time={"dist": "exponential", "mean": 0.5}),
            node("done", "sink"),
        ],
        "links": [
            {"from": a, "to": b}
            for a, b in [("arrivals", "r1"), ("r1", "web"), ("r1", "r2"), ("r2", "r1"), ("web", "done")]
        ],
    }
    path = tmp_path / "ping_pong.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "extra",
    [[], ["--replications", "3", "--workers", "2"], ["--replications", "3", "--workers", "2", "--csv", "o.csv"]],
    ids=["one-run", "pool", "pool-and-csv"],
)
def test_a_run_that_does_not_advance_exits_2_naming_the_nodes(tmp_path, extra):
    path = ping_pong(tmp_path)
    extra = [str(tmp_path / a) if a == "o.csv" else a for a in extra]
    proc = run_cli("run", path, "--json", tmp_path / "o.json", *extra)
    assert_clean_failure(proc, "does not advance", "'r1'", "'r2'", "No output file was written")
    assert proc.stdout == ""
    assert not (tmp_path / "o.json").exists() and not (tmp_path / "o.csv").exists()
    assert temp_files(tmp_path) == []


def test_a_stall_in_a_worker_reaches_the_caller_whole(tmp_path):
    from engine.simulation import SimulationStalled

    model = load_model(ping_pong(tmp_path))
    with pytest.raises(SimulationStalled) as info:
        replicate(model, 2, workers=2, start_method="spawn")
    assert sorted(info.value.nodes) == ["r1", "r2"] and info.value.events > 0
