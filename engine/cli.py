"""The headless command line: ``queuestudio run MODEL.json``, ``queuestudio sweep MODEL.json
--param NODE.PARAM --values SPEC`` and ``queuestudio compare A.json B.json`` (also
``python -m engine …``). Sweeps, comparisons and ``run --precision / --warmup auto /
--scheduler`` go through :mod:`engine.experiments` (common random numbers, precision
targets, MSER-5, local processes or a Dask cluster).

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
import itertools
import json
import logging
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

from engine import experiments as ex
from engine.metrics import SERIES, SINK_METRICS, STATION_METRICS, SeriesBatch, json_safe
from engine.model import Model, ModelError, load_model
from engine.model.document import fsync_folder
from engine.replications import (
    MAX_REPLICATIONS,
    MAX_WORKERS,
    ReplicationFailed,
    Summary,
    replicate,
)
from engine.simulation import SimulationStalled
from engine.version import queuestudio_version

log = logging.getLogger(__name__)

#: What each exit status means.
EXIT_CODES = {
    0: "success",
    1: "a replication failed (its worker process died) or the table could not be printed",
    2: "bad arguments, a bad model, an output that cannot be written, or a run that does not advance",
    130: "interrupted (Ctrl-C); no output file written",
    143: "terminated (SIGTERM); no output file written",
}
USAGE = (
    "Usage: queuestudio run MODEL.json [--end-time T] [--seed S] [--replications R | --precision EPS "
    "[--max-replications N]] [--warmup T|auto] [--workers N] [--scheduler ADDRESS|local] [--json PATH|-] "
    "[--csv PATH] [--quiet]\n"
    "       queuestudio sweep MODEL.json --param NODE.PARAM --values SPEC [same options]\n"
    "       queuestudio compare A.json B.json [same options]"
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


def _fraction(text: str) -> float:
    """An argparse type for ``--precision``: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"--precision must be a number between 0 and 1 (e.g. 0.05), got {text!r}")
    return value


def _warmup(text: str) -> float | str:
    """An argparse type for ``--warmup``: seconds >= 0, or ``auto`` (MSER-5)."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"--warmup must be seconds >= 0 or 'auto', got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="queuestudio",
        description="Run Queue Studio models headless: one model, a parameter sweep, or two models compared.",
    )
    version = f"queuestudio {queuestudio_version()}"
    parser.add_argument("--version", action="version", version=version)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a model file and print its metrics")
    run.add_argument("model", help="model file (JSON, format queuestudio-model)")
    sweep = sub.add_parser("sweep", help="run a model at each value of one parameter (mean ± 95%% CI per point)")
    sweep.add_argument("model", help="model file (JSON, format queuestudio-model)")
    sweep.add_argument("--param", required=True, help="NODE.PARAM, NODE.PARAM.mean or simulation.KEY")
    sweep.add_argument("--values", required=True, help="V1,V2,... or START:STOP:STEP (STOP included)")
    compare = sub.add_parser("compare", help="compare two models on common random numbers (paired differences)")
    compare.add_argument("model", metavar="A.json", help="scenario A")
    compare.add_argument("model_b", metavar="B.json", help="scenario B")
    for command in (run, sweep, compare):
        command.add_argument("--version", action="version", version=version)
        _common_options(command, many=command is not run)
    return parser


def _common_options(command: argparse.ArgumentParser, many: bool) -> None:
    command.add_argument("--end-time", type=float, help="simulated seconds to run (overrides the model)")
    command.add_argument("--seed", type=int, help="random seed (overrides the model)")
    command.add_argument("--warmup", type=_warmup, help="seconds discarded at the start, or 'auto' (MSER-5)")
    command.add_argument(
        "--replications",
        type=_whole("--replications", MAX_REPLICATIONS),
        help=f"independent replications, 1 to {MAX_REPLICATIONS:,} (default {5 if many else 1})",
    )
    command.add_argument(
        "--precision",
        type=_fraction,
        metavar="EPS",
        help="replicate until every station's mean_response half-width is at most EPS·|mean|",
    )
    command.add_argument(
        "--max-replications",
        type=_whole("--max-replications", MAX_REPLICATIONS),
        default=ex.MAX_REPLICATIONS,
        help=f"most replications with --precision (default {ex.MAX_REPLICATIONS})",
    )
    command.add_argument(
        "--workers",
        type=_whole("--workers", MAX_WORKERS),
        help=f"processes running replications in parallel, 1 to {MAX_WORKERS} (default {'every core' if many else 1})",
    )
    command.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster: 'local' starts one here, tcp://HOST:PORT uses a running one",
    )
    command.add_argument("--json", metavar="PATH", help="write the results as JSON to PATH ('-' for stdout)")
    command.add_argument(
        "--csv",
        metavar="PATH",
        help="run: the sampled time series (replication 1); sweep: value,node,metric,mean,ci95,theory; "
        "compare: node,metric,a,b,diff,ci95,significant",
    )
    command.add_argument("--quiet", action="store_true", help="no progress bar")
    command.add_argument(
        "-v", "--verbose", action="count", default=0, help="log what happens to stderr (-vv: in detail)"
    )


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
        fsync_folder(self.target.parent)

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


@contextlib.contextmanager
def _outputs(args: argparse.Namespace) -> Iterator[dict[str, _AtomicFile]]:
    """The ``--json`` (unless ``-``) and ``--csv`` files, checked and opened before the run;
    every temporary file is removed on the way out unless committed."""
    files: dict[str, _AtomicFile] = {}
    models = {os.path.realpath(p) for p in (args.model, getattr(args, "model_b", None)) if p is not None}
    wanted = [("--json", args.json, None), ("--csv", args.csv, "")]
    try:
        for option, path, newline in wanted:
            if path is None or (option == "--json" and path == "-"):
                continue
            if os.path.realpath(path) in models:
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
            if args.verbose:
                handler = logging.StreamHandler(sys.stderr)
                handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
                logging.getLogger().addHandler(handler)
                logging.getLogger().setLevel(logging.INFO if args.verbose == 1 else logging.DEBUG)
            log.info("queuestudio %s: %s", queuestudio_version(), " ".join(args_list))
            if args.end_time is not None and not (math.isfinite(args.end_time) and args.end_time > 0):
                raise UsageError(f"--end-time must be a positive number of seconds, got {args.end_time}")
            if args.seed is not None and args.seed < 0:
                raise UsageError(f"--seed must be >= 0, got {args.seed}")
            if args.replications is not None and args.precision is not None:
                raise UsageError("give --replications or --precision, not both")
            models = [_load(args.model, args)]
            if args.command == "compare":
                models.append(_load(args.model_b, args))
            if args.command == "sweep":
                return _sweep(models[0], args)
            if args.command == "compare":
                return _compare(models[0], models[1], args)
            auto = args.warmup == "auto" or (args.warmup is None and models[0].simulation.auto_warmup)
            if args.precision is not None or args.scheduler or auto:
                return _run_experiment(models[0], args)
            return _run(models[0], args)
        except ex.ExperimentError as exc:
            _say(sys.stderr, f"queuestudio: {_one_paragraph(str(exc))}\n{USAGE}\n")
            return 2
        except ex.TaskFailed as exc:
            _say(
                sys.stderr,
                f"queuestudio: {_one_paragraph(str(exc))}. The other runs were stopped; no output file was written.\n",
            )
            return 1
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


def _load(path: str, args: argparse.Namespace) -> Model:
    """The model at ``path`` with ``--warmup`` (seconds) applied; the end time checked."""
    model = load_model(path)
    if isinstance(args.warmup, float):
        model.simulation.warmup = args.warmup
    end = model.simulation.end_time if args.end_time is None else args.end_time
    if args.warmup != "auto" and end <= model.simulation.warmup:
        which = "--end-time" if args.end_time is not None else f"the end time of {path}"
        raise UsageError(f"{which} ({end:g}) must be greater than the warmup ({model.simulation.warmup:g})")
    return model


def _run(model: Model, args: argparse.Namespace) -> int:
    seed = model.simulation.seed if args.seed is None else args.seed
    reps = args.replications or 1
    args.workers = args.workers or 1
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
        return _finish(args, files, document, format_table(model, results, analytic))


def _finish(
    args: argparse.Namespace,
    files: dict[str, _AtomicFile],
    document: dict[str, Any],
    table: str,
    csv_rows: Iterator[tuple[Any, ...]] | None = None,
) -> int:
    """Write ``--json`` (and ``csv_rows`` to ``--csv``), commit the files, then print the
    table (or the JSON for ``--json -``). Returns the exit status."""
    # ASCII JSON (ensure_ascii): any id travels, lone surrogates as \\udc80 escapes.
    text = json.dumps(json_safe(document), indent=2, allow_nan=False) + "\n"
    if "--json" in files:
        files["--json"].file.write(text)
        files["--json"].commit()
    csv_file = files.get("--csv")
    if csv_file is not None:
        if csv_rows is not None:
            csv.writer(csv_file.file).writerows(csv_rows)
        csv_file.commit()
    out = text if args.json == "-" else table
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


# ------------------------------------------------------------------ experiments
def _settings(args: argparse.Namespace, model: Model, many: bool) -> dict[str, Any]:
    """:class:`engine.experiments.Experiment` keyword arguments from the options."""
    settings: dict[str, Any] = {
        "seed": model.simulation.seed if args.seed is None else args.seed,
        "end_time": args.end_time,
        "auto_warmup": args.warmup == "auto" or (args.warmup is None and model.simulation.auto_warmup),
    }
    if args.precision is not None:
        settings.update(precision=args.precision, max_replications=args.max_replications)
    else:
        settings["replications"] = args.replications or (5 if many else 1)
    return settings


@contextlib.contextmanager
def _executor(args: argparse.Namespace, many: bool) -> Iterator[ex.Executor]:
    workers = args.workers or (None if many else 1)
    with ex.make_executor(workers, args.scheduler) as executor:
        yield executor


def _go(experiment: ex.Experiment, args: argparse.Namespace, label: str, many: bool) -> list[ex.VariantResult]:
    """Run ``experiment`` with a progress bar, on the executor the options name."""
    with _executor(args, many) as executor:
        log.info(
            "%s: %d model(s) on %s with %d worker(s)",
            label,
            len(experiment.variants),
            type(executor).__name__,
            executor.workers,
        )
        progress = Progress(label, enabled=not args.quiet)
        try:
            return experiment.run(executor, progress=progress)
        finally:
            progress.close()


def _run_experiment(model: Model, args: argparse.Namespace) -> int:
    """``run`` with ``--precision``, ``--warmup auto`` or ``--scheduler``."""
    if args.csv:
        raise UsageError("--csv (the time series) is not available with --precision, --warmup auto or --scheduler")
    experiment = ex.Experiment([ex.Variant(None, model)], **_settings(args, model, many=False))
    with _outputs(args) as files:
        (point,) = _go(experiment, args, model.name, many=False)
        results = point.summary
        analytic = _theory(model, results)
        document: dict[str, Any] = {
            "model": model.name,
            "replications": point.replications,
            "end_time": model.simulation.end_time if args.end_time is None else args.end_time,
            "warmup": model.simulation.warmup if point.warmup is None else point.warmup,
            "nodes": results,
            "theory": analytic,
        }
        head = f"{point.replications} replication(s)"
        if point.target_met is not None:
            document["target_met"] = point.target_met
            head += (
                f"; precision ±{100 * args.precision:g}% {'met' if point.target_met else 'NOT met (maximum reached)'}"
            )
        if point.warmup is not None:
            head += f"; warm-up cut by MSER-5 at {point.warmup:,.6g} s"
        return _finish(args, files, document, f"{head}\n\n" + format_table(model, results, analytic))


def _theory(model: Model, results: dict[str, Any]) -> dict[str, Any]:
    try:
        return analyze(model)
    except Exception as exc:  # noqa: BLE001 - a theory bug must not lose the run's results
        reason = f"theory could not be computed ({type(exc).__name__}: {_one_paragraph(str(exc))})"
        return {node_id: reason for node_id in results}


def _sweep(model: Model, args: argparse.Namespace) -> int:
    values = ex.parse_values(args.values)
    experiment = ex.plan_sweep(model, args.param, values, **_settings(args, model, many=True))
    with _outputs(args) as files:
        result = ex.SweepResult(args.param, _go(experiment, args, f"sweep {args.param}", many=True))
        document = result.to_json()
        header = iter([("value", "node", "metric", "mean", "ci95", "theory")])
        rows = itertools.chain(header, result.csv_rows())
        return _finish(args, files, document, format_sweep(model, document), rows)


def _compare(a: Model, b: Model, args: argparse.Namespace) -> int:
    experiment = ex.plan_comparison(a, b, **_settings(args, a, many=True))
    with _outputs(args) as files:
        comparison = ex.Comparison(*_go(experiment, args, "compare", many=True))
        document = comparison.to_json()
        rows = (
            (node_id, name, row["a"], row["b"], row["diff"], row["ci95"], row["significant"])
            for node_id, metrics in document["nodes"].items()
            for name, row in metrics.items()
        )
        header = iter([("node", "metric", "a", "b", "diff", "ci95", "significant")])
        return _finish(args, files, document, format_comparison(a, b, document), itertools.chain(header, rows))


#: The columns of a sweep's table, per station: (metric, with its half-width, with theory).
SWEEP_COLUMNS = (
    ("mean_response", True, True),
    ("p99_response", True, False),
    ("utilization", False, True),
    ("mean_in_system", False, True),
    ("throughput", False, False),
)


def format_sweep(model: Model, document: dict[str, Any]) -> str:
    """A sweep as one block per station, one row per value: the main metrics, their 95 %
    half-widths and theory's value."""
    points = document["points"]
    kinds = {n.id: n.kind for n in model.nodes}
    lines = [f"Sweep of {printable(document['param'])} over {len(points)} value(s)", ""]
    stations = [n for n in points[0]["nodes"] if kinds.get(n) != "sink"] if points else []
    for sid in stations:
        blocking = any(p["nodes"][sid].get("rejected") for p in points)
        columns = [*SWEEP_COLUMNS, *((("blocking_probability", True, True),) if blocking else ())]
        lines.append(f"{printable(sid)} ({kinds.get(sid, '')})")
        header = f"  {'value':>10}{'n':>5}"
        for name, with_ci, with_theory in columns:
            header += f"{name:>16}" + (f"{'± 95%':>10}" if with_ci else "") + (f"{'theory':>10}" if with_theory else "")
        lines.append(header)
        for point in points:
            metrics = point["nodes"][sid]
            row = f"  {point['value']:>10.6g}{point['replications']:>5}"
            for name, with_ci, with_theory in columns:
                row += f"{_fmt(metrics.get(name), name):>16}"
                if with_ci:
                    row += f"{_fmt(metrics['ci95'].get(name)):>10}"
                if with_theory:
                    row += f"{_fmt(metrics['theory'].get(name)):>10}"
            if point.get("target_met") is False:
                row += "  (precision not met)"
            lines.append(row)
        lines.append("")
    return "\n".join(lines)


def format_comparison(a: Model, b: Model, document: dict[str, Any]) -> str:
    """A comparison as one block per node both models have: A, B, B − A ± its 95 %
    half-width (paired), and a plain verdict."""
    kinds = {n.id: n.kind for n in a.nodes}
    lines = [
        f"A = {printable(a.name)}, B = {printable(b.name)}: {document['replications']} paired replications "
        "(common random numbers)",
        "",
    ]
    for node_id, metrics in document["nodes"].items():
        lines.append(f"{printable(node_id)} ({kinds.get(node_id, '')})")
        lines.append(f"  {'metric':<22}{'A':>12}{'B':>12}{'B - A':>12}{'± 95%':>10}  verdict")
        names = SINK_METRICS if kinds.get(node_id) == "sink" else STATION_METRICS
        for name in (n for n in names if n in metrics):
            row = metrics[name]
            lines.append(
                f"  {name:<22}{_fmt(row['a'], name):>12}{_fmt(row['b'], name):>12}{_fmt(row['diff'], name):>12}"
                f"{_fmt(row['ci95'], name):>10}  {_verdict(row)}"
            )
        lines.append("")
    return "\n".join(lines)


def _verdict(row: dict[str, Any]) -> str:
    diff, half = row["diff"], row["ci95"]
    if not (isinstance(diff, float) and math.isfinite(diff)):
        return "-"
    if not row["significant"]:
        return "no significant difference" if math.isfinite(half) else "no interval (too few replications)"
    return f"B {'higher' if diff > 0 else 'lower'} by {_fmt(abs(diff))} ± {_fmt(half)}"
