"""The headless command line: ``queuestudio run MODEL.json`` (also ``python -m engine run``).

Runs without a display and without importing Qt. A progress bar goes to stderr when stderr
is a terminal, the metrics table to stdout; ``--json`` and ``--csv`` write them to files.

The output files are checked before the run (their folder exists and takes a new file, the
path is not a folder) and written atomically after it: into a temporary file beside the
target, renamed over it when complete. So an interrupted or failed run leaves no file and
no half-written one, and the files are written before the table is printed: a console that
cannot show the table loses nothing. The table itself prints on any console: characters the
console's encoding lacks become ASCII (``rho``, ``>=``, ``+/-``) or escapes, and node ids
with unprintable characters are shown escaped.

Exit status (see :data:`EXIT_CODES`): 0 on success; 1 when a replication failed (its worker
process died, or the table could not be printed); 2 on a bad model, bad arguments, an
output that cannot be written, or a run that does not advance (a one-paragraph message, no
traceback); 130 on Ctrl-C and 143 on SIGTERM, leaving no output file.
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import csv
import json
import math
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from engine.metrics import SERIES, SINK_METRICS, STATION_METRICS, SeriesBatch, json_safe
from engine.model import Model, ModelError, load_model
from engine.replications import (
    MAX_REPLICATIONS,
    MAX_WORKERS,
    ReplicationFailed,
    Summary,
    replicate,
)
from engine.simulation import SimulationStalled

#: What each exit status means.
EXIT_CODES = {
    0: "success",
    1: "a replication failed (its worker process died) or the table could not be printed",
    2: "bad arguments, a bad model, an output that cannot be written, or a run that does not advance",
    130: "interrupted (Ctrl-C); no output file written",
    143: "terminated (SIGTERM); no output file written",
}
USAGE = (
    "Usage: queuestudio run MODEL.json [--end-time T] [--seed S] [--replications R] "
    "[--workers N] [--json PATH|-] [--csv PATH] [--quiet]"
)


class UsageError(Exception):
    """Bad command-line arguments."""


class OutputError(Exception):
    """An output file that cannot be written."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an exception so the temporary files are removed on the way out."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print usage and exit 2 itself
        raise UsageError(message)


def _whole(option: str, maximum: int) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to ``maximum`` (``1e3`` accepted as 1000)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                number = math.nan
            if not (math.isfinite(number) and number == int(number)):
                raise argparse.ArgumentTypeError(
                    f"{option} must be a whole number from 1 to {maximum:,}, got {text!r}"
                ) from None
            value = int(number)
        if not 1 <= value <= maximum:
            raise argparse.ArgumentTypeError(f"{option} must be from 1 to {maximum:,}, got {text}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="queuestudio", description="Run a Queue Studio model headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a model file and print its metrics")
    run.add_argument("model", help="model file (JSON, format queuestudio-model)")
    run.add_argument("--end-time", type=float, help="simulated seconds to run (overrides the model)")
    run.add_argument("--seed", type=int, help="random seed (overrides the model)")
    run.add_argument(
        "--replications",
        type=_whole("--replications", MAX_REPLICATIONS),
        default=1,
        help=f"independent replications, 1 to {MAX_REPLICATIONS:,} (default 1)",
    )
    run.add_argument(
        "--workers",
        type=_whole("--workers", MAX_WORKERS),
        default=1,
        help=f"processes running replications in parallel, 1 to {MAX_WORKERS} (default 1)",
    )
    run.add_argument("--json", metavar="PATH", help="write the metrics as JSON to PATH ('-' for stdout)")
    run.add_argument("--csv", metavar="PATH", help="write the sampled time series (replication 1) as CSV")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


# ------------------------------------------------------------------ any console
#: ASCII for the non-ASCII characters the table and the messages use.
ASCII_NAMES = {
    "ρ": "rho",
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "±": "+/-",
    "—": "-",
    "–": "-",
    "…": "...",
    "λ": "lambda",
    "μ": "mu",
    "σ": "sigma",
    "×": "x",
    "·": "*",
    "→": "->",
    "∞": "inf",
    "√": "sqrt",
    "²": "^2",
    "’": "'",
    "‘": "'",
    "“": '"',
    "”": '"',
}
_ERRORS = "queuestudio-ascii"


def _fallback(exc: UnicodeError) -> tuple[str, int]:
    """A codec error handler: ASCII names where there are some, backslash escapes otherwise."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    out = []
    for ch in bad:
        name = ASCII_NAMES.get(ch)
        if name is None:
            name = ch.encode("ascii", "backslashreplace").decode("ascii")
        out.append(name)
    return "".join(out), exc.end


codecs.register_error(_ERRORS, _fallback)


def for_console(text: str, encoding: str | None) -> str:
    """``text`` with every character ``encoding`` cannot encode replaced (see :data:`ASCII_NAMES`)."""
    encoding = encoding or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return text.encode(encoding, _ERRORS).decode(encoding)
    except LookupError:
        return text.encode("ascii", _ERRORS).decode("ascii")
    return text


def _say(stream: IO[str], text: str) -> None:
    stream.write(for_console(text, getattr(stream, "encoding", None)))
    stream.flush()


def printable(name: str) -> str:
    """A node id as shown in the table: unprintable characters (controls, lone surrogates) escaped."""
    if name.isprintable():
        return name
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape", "backslashreplace").decode("ascii") for ch in name
    )


# ------------------------------------------------------------------ progress
def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds < 365 * 86400:
        return f"{seconds / 86400:.1f} days"
    return f"{seconds / (365.25 * 86400):.3g} years"


def _percent(fraction: float) -> str:
    if 0 < fraction < 0.001:
        return f"{100 * fraction:.1e}%"
    return f"{100 * fraction:.1f}%"


class Progress:
    """A progress bar on ``stream`` (stderr), drawn only when it is a terminal, only once the
    run has lasted ``delay`` seconds, and redrawn at most every ``interval`` seconds.

    ``clock`` is injectable so tests need no slow run.
    """

    def __init__(
        self,
        label: str,
        *,
        enabled: bool = True,
        stream: IO[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        delay: float = 0.5,
        interval: float = 0.1,
    ) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.label = printable(label)[:40]
        self.enabled = enabled and _is_terminal(self.stream)
        self.clock = clock
        self.delay = delay
        self.interval = interval
        self.start = clock()
        self.shown = False
        self._drawn_at = -math.inf
        self._width = 0

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        now = self.clock()
        elapsed = now - self.start
        if elapsed < self.delay or (now - self._drawn_at < self.interval and fraction < 1.0):
            return
        self._drawn_at = now
        width = 30
        filled = min(width, int(width * fraction))
        eta = elapsed / fraction - elapsed if fraction > 0 else math.inf
        line = (
            f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {_percent(fraction)}  "
            f"{_duration(elapsed)} elapsed, {_duration(eta)} left"
        )
        pad = " " * max(0, self._width - len(line))
        self._width = len(line)
        _say(self.stream, f"\r{line}{pad}")
        self.shown = True

    def close(self) -> None:
        if self.shown:
            _say(self.stream, "\n")
            self.shown = False


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


# ------------------------------------------------------------------ output files
class _AtomicFile:
    """An output file written into a temporary file beside ``path`` and renamed over it by
    :meth:`commit`; :meth:`discard` removes the temporary file. Follows a symlink at ``path``
    (the link's target is replaced, the link kept)."""

    def __init__(self, path: str, option: str, *, newline: str | None = None) -> None:
        given = Path(path)
        target = Path(os.path.realpath(given)) if given.is_symlink() else given
        if target.is_dir():
            raise OutputError(f"cannot write {option} to {path}: it is a folder")
        folder = target.parent
        if not folder.exists():
            raise OutputError(f"cannot write {option} to {path}: the folder {folder} does not exist")
        if not folder.is_dir():
            raise OutputError(f"cannot write {option} to {path}: {folder} is not a folder")
        try:
            fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
        except OSError as exc:
            raise OutputError(f"cannot write {option} to {path}: {exc.strerror or exc}") from None
        self.path = path
        self.target = target
        self.temp = temp
        try:
            mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
            os.chmod(temp, mode)
        except OSError:
            pass
        # Lone surrogates (from an odd node id) are written as backslash escapes, not refused.
        self.file: IO[str] = os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline=newline)

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temp, self.target)
        self.temp = ""
        _fsync_folder(self.target.parent)

    def discard(self) -> None:
        if not self.file.closed:
            self.file.close()
        if self.temp:
            with contextlib.suppress(OSError):
                os.unlink(self.temp)
            self.temp = ""


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":  # pragma: no cover - Windows cannot open a folder
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _outputs(args: argparse.Namespace) -> Iterator[dict[str, _AtomicFile]]:
    """The ``--json`` (unless ``-``) and ``--csv`` files, checked and opened before the run;
    every temporary file is removed on the way out unless committed."""
    files: dict[str, _AtomicFile] = {}
    model = os.path.realpath(args.model)
    wanted = [("--json", args.json, None), ("--csv", args.csv, "")]
    try:
        for option, path, newline in wanted:
            if path is None or (option == "--json" and path == "-"):
                continue
            if os.path.realpath(path) == model:
                raise OutputError(f"cannot write {option} to {path}: it is the model file")
            if any(os.path.realpath(f.path) == os.path.realpath(path) for f in files.values()):
                raise OutputError(f"--json and --csv name the same file: {path}")
            files[option] = _AtomicFile(path, option, newline=newline)
        yield files
    finally:
        for f in files.values():
            f.discard()


def _csv_writer(out: IO[str]) -> Callable[[SeriesBatch], None]:
    """A ``series`` callback for :func:`replicate` writing ``time,node,<series…>`` rows."""
    writer = csv.writer(out)
    writer.writerow(["time", "node", *SERIES])

    def write(batch: SeriesBatch) -> None:
        for i, t in enumerate(batch.times.tolist()):
            for sid, values in batch.values.items():
                writer.writerow([f"{t:.6g}", sid, *(f"{values[name][i]:.6g}" for name in SERIES)])

    return write


# ------------------------------------------------------------------ the table
COUNTS = ("arrivals", "completed", "rejected", "count")


def _fmt(value: Any, name: str = "") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if name in COUNTS:  # a mean count over replications
        return f"{value:,.1f}"
    if abs(value) >= 1e5 or (0 < abs(value) < 1e-3):
        return f"{value:.4g}"
    return f"{value:.4f}"


def format_table(model: Model, results: dict[str, dict[str, Any]], analytic: dict[str, Any]) -> str:
    """The metrics as a readable table: one block per node, theory beside the simulation."""
    lines: list[str] = []
    kinds = {n.id: n.kind for n in model.nodes}
    for node_id, metrics in results.items():
        kind = kinds.get(node_id, "")
        names = SINK_METRICS if kind == "sink" else STATION_METRICS
        theory = analytic.get(node_id)
        reason = theory if isinstance(theory, str) else None
        values = theory if isinstance(theory, dict) else {}
        ci = metrics.get("ci95", {})
        lines.append(f"{printable(node_id)} ({kind})" + (f" — theory: {printable(reason)}" if reason else ""))
        header = f"  {'metric':<20}{'simulated':>14}"
        if ci:
            header += f"{'± 95% CI':>12}"
        if values:
            header += f"{'theory':>14}"
        lines.append(header)
        for name in names:
            if name not in metrics:
                continue
            row = f"  {name:<20}{_fmt(metrics[name], name):>14}"
            if ci:
                row += f"{_fmt(ci.get(name), name):>12}"
            if values:
                row += f"{_fmt(values.get(name)):>14}"
            lines.append(row)
        lines.append("")
    return "\n".join(lines)


def analyze(model: Model) -> dict[str, Any]:
    """Analytic metrics per node where theory applies, else the reason it does not."""
    from engine import theory

    out: dict[str, Any] = {}
    for node_id, value in theory.analyze(model).items():
        out[node_id] = value if isinstance(value, (str, dict)) else value.as_dict()
    return out


# ------------------------------------------------------------------ main
def _one_paragraph(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (see :data:`EXIT_CODES`)."""
    args_list = sys.argv[1:] if argv is None else list(argv)
    with _sigterm_raises():
        try:
            args = _parser().parse_args(args_list)
            if args.end_time is not None and not (math.isfinite(args.end_time) and args.end_time > 0):
                raise UsageError(f"--end-time must be a positive number of seconds, got {args.end_time}")
            if args.seed is not None and args.seed < 0:
                raise UsageError(f"--seed must be >= 0, got {args.seed}")
            model = load_model(args.model)
            end = args.end_time
            if end is not None and end <= model.simulation.warmup:
                raise UsageError(
                    f"--end-time ({end:g}) must be greater than the model's warmup ({model.simulation.warmup:g})"
                )
            return _run(model, args)
        except UsageError as exc:
            _say(sys.stderr, f"queuestudio: {_one_paragraph(str(exc))}\n{USAGE}\n")
            return 2
        except ModelError as exc:
            _say(sys.stderr, f"queuestudio: cannot run the model.\n{exc}\n")
            return 2
        except OutputError as exc:
            _say(sys.stderr, f"queuestudio: {exc}. Nothing was run.\n")
            return 2
        except SimulationStalled as exc:  # its message names the nodes and the likely cause
            _say(sys.stderr, f"queuestudio: {_one_paragraph(str(exc))} No output file was written.\n")
            return 2
        except ReplicationFailed as exc:
            _say(
                sys.stderr,
                f"queuestudio: {_one_paragraph(str(exc))}. The other replications were stopped; "
                "no output file was written.\n",
            )
            return 1
        except OSError as exc:
            _say(sys.stderr, f"queuestudio: {_one_paragraph(str(exc))}\n")
            return 2
        except Terminated:
            _say(sys.stderr, "queuestudio: terminated; no output file was written\n")
            return 143
        except KeyboardInterrupt:
            _say(sys.stderr, "queuestudio: interrupted; no output file was written\n")
            return 130


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While running, SIGTERM raises :class:`Terminated` (so temporary files are removed)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "SIGTERM"):
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(model: Model, args: argparse.Namespace) -> int:
    seed = model.simulation.seed if args.seed is None else args.seed
    reps = args.replications
    with _outputs(args) as files:
        csv_file = files.get("--csv")
        progress = Progress(model.name, enabled=not args.quiet)
        summary = Summary()  # every replication's metrics, as rows of floats
        try:
            replicate(
                model,
                reps,
                seed=seed,
                end_time=args.end_time,
                workers=args.workers,
                progress=progress,
                series=_csv_writer(csv_file.file) if csv_file is not None else None,
                collect=summary.add,
            )
        finally:
            progress.close()
        results = summary.result()
        try:
            analytic = analyze(model)
        except Exception as exc:  # noqa: BLE001 - a theory bug must not lose the run's results
            reason = f"theory could not be computed ({type(exc).__name__}: {_one_paragraph(str(exc))})"
            analytic = {node_id: reason for node_id in results}
        document = {
            "model": model.name,
            "replications": reps,
            "end_time": model.simulation.end_time if args.end_time is None else args.end_time,
            "warmup": model.simulation.warmup,
            "nodes": results,
            "theory": analytic,
        }
        # ASCII JSON (ensure_ascii): any id travels, lone surrogates as \\udc80 escapes.
        text = json.dumps(json_safe(document), indent=2, allow_nan=False) + "\n"
        if "--json" in files:
            files["--json"].file.write(text)
            files["--json"].commit()
        if csv_file is not None:
            csv_file.commit()
    out = text if args.json == "-" else format_table(model, results, analytic)
    try:
        _say(sys.stdout, out)
    except KeyboardInterrupt:
        written = " and ".join(f"{o} {f.path}" for o, f in files.items())
        _say(sys.stderr, f"queuestudio: interrupted while printing{f' ({written} written)' if written else ''}\n")
        return 130
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        written = " and ".join(f"{o} {f.path}" for o, f in files.items())
        saved = f" ({written} written)" if written else ""
        _say(sys.stderr, f"queuestudio: could not print the results: {exc}{saved}\n")
        return 1
    return 0
