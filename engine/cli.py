"""The headless command line: ``queuestudio run MODEL.json`` (also ``python -m engine run``).

Runs without a display and without importing Qt. Progress goes to stderr, the metrics
table to stdout; ``--json`` and ``--csv`` write them to files. Exit status: 0 on success,
2 on a bad model or bad arguments (a one-paragraph message, no traceback).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from engine.metrics import SERIES, SINK_METRICS, STATION_METRICS, SeriesBatch, json_safe
from engine.model import Model, ModelError, load_model
from engine.replications import aggregate, replicate


class UsageError(Exception):
    """Bad command-line arguments."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print usage and exit 2 itself
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="queuestudio", description="Run a Queue Studio model headless.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    run = sub.add_parser("run", help="run a model file and print its metrics")
    run.add_argument("model", help="model file (JSON, format queuestudio-model)")
    run.add_argument("--end-time", type=float, help="simulated seconds to run (overrides the model)")
    run.add_argument("--seed", type=int, help="random seed (overrides the model)")
    run.add_argument("--replications", type=int, default=1, help="independent replications (default 1)")
    run.add_argument("--workers", type=int, default=1, help="processes running replications in parallel")
    run.add_argument("--json", metavar="PATH", help="write the metrics as JSON to PATH ('-' for stdout)")
    run.add_argument("--csv", metavar="PATH", help="write the sampled time series (replication 1) as CSV")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


# ------------------------------------------------------------------ running
class _Progress:
    """A progress bar on stderr that appears only for runs longer than a moment."""

    def __init__(self, label: str, enabled: bool) -> None:
        self.label = label
        self.enabled = enabled
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, fraction: float) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        if elapsed < 0.5 and not self.shown:
            return
        width = 30
        filled = int(width * fraction)
        eta = elapsed / fraction - elapsed if fraction > 0 else math.nan
        sys.stderr.write(
            f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}  "
            f"{elapsed:5.1f}s elapsed, {eta:5.1f}s left "
        )
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _csv_writer(out: IO[str]) -> Callable[[SeriesBatch], None]:
    """A ``series`` callback for :func:`replicate` writing ``time,node,<series…>`` rows."""
    writer = csv.writer(out)
    writer.writerow(["time", "node", *SERIES])

    def write(batch: SeriesBatch) -> None:
        for i, t in enumerate(batch.times.tolist()):
            for sid, values in batch.values.items():
                writer.writerow([f"{t:.6g}", sid, *(f"{values[name][i]:.6g}" for name in SERIES)])

    return write


# ------------------------------------------------------------------ output
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
        lines.append(f"{node_id} ({kind})" + (f" — theory: {reason}" if reason else ""))
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
def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args_list = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser().parse_args(args_list)
        if args.replications < 1:
            raise UsageError(f"--replications must be >= 1, got {args.replications}")
        if args.workers < 1:
            raise UsageError(f"--workers must be >= 1, got {args.workers}")
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
        sys.stderr.write(
            f"queuestudio: {exc}\nUsage: queuestudio run MODEL.json [--end-time T] [--seed S] "
            "[--replications R] [--workers N] [--json PATH|-] [--csv PATH]\n"
        )
        return 2
    except ModelError as exc:
        sys.stderr.write(f"queuestudio: cannot run the model.\n{exc}\n")
        return 2
    except OSError as exc:
        sys.stderr.write(f"queuestudio: {exc}\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("\nqueuestudio: interrupted\n")
        return 130


def _run(model: Model, args: argparse.Namespace) -> int:
    seed = model.simulation.seed if args.seed is None else args.seed
    reps = args.replications
    progress = _Progress(f"{model.name}", enabled=not args.quiet)
    csv_file = open(args.csv, "w", newline="", encoding="utf-8") if args.csv else None  # noqa: SIM115
    try:
        runs = replicate(
            model,
            reps,
            seed=seed,
            end_time=args.end_time,
            workers=min(args.workers, os.cpu_count() or 1),
            progress=progress,
            series=_csv_writer(csv_file) if csv_file is not None else None,
        )
    finally:
        progress.close()
        if csv_file is not None:
            csv_file.close()
    results = aggregate(runs)
    analytic = analyze(model)
    document = {
        "model": model.name,
        "replications": reps,
        "end_time": model.simulation.end_time if args.end_time is None else args.end_time,
        "warmup": model.simulation.warmup,
        "nodes": results,
        "theory": analytic,
    }
    if args.json == "-":
        json.dump(json_safe(document), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(format_table(model, results, analytic))
        if args.json:
            with open(args.json, "w", encoding="utf-8") as fh:
                json.dump(json_safe(document), fh, indent=2, allow_nan=False)
                fh.write("\n")
    return 0
