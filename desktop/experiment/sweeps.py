"""A finished sweep as data: the record kept with the model, its CSV rows, and the answer
to a target in words. No Qt here."""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Iterator, Sequence
from typing import Any

from engine.model.experiments_block import EXPERIMENTS_VERSION, MAX_SWEEPS, json_safe

#: Column titles of a sweep's CSV: those of ``queuestudio sweep --csv``.
CSV_HEADER = ("value", "node", "metric", "mean", "ci95", "theory")


def record(
    sweep_json: dict[str, Any],
    *,
    name: str,
    node: str,
    metrics: Sequence[str],
    settings: dict[str, Any],
    target: dict[str, Any] | None,
) -> dict[str, Any]:
    """The sweep as kept in a model's ``experiments`` block (see docs/model-format.md):
    ``sweep_json`` is :meth:`engine.experiments.SweepResult.to_json`'s document."""
    out: dict[str, Any] = {
        "name": name,
        "param": sweep_json["param"],
        "node": node,
        "metrics": list(metrics),
        "values": [p["value"] for p in sweep_json["points"]],
        **{k: v for k, v in settings.items() if k in ("replications", "precision", "seed", "end_time")},
        "target": target,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "points": sweep_json["points"],
    }
    return json_safe(out)  # type: ignore[no-any-return]


def csv_rows(sweep: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """Rows ``value,node,metric,mean,ci95,theory`` of a kept sweep, as ``queuestudio sweep --csv``
    writes them (empty cells where there is nothing)."""
    for point in sweep.get("points", []):
        for node_id, metrics in point.get("nodes", {}).items():
            ci = metrics.get("ci95", {}) or {}
            theory = metrics.get("theory", {}) or {}
            for name, mean in metrics.items():
                if name in ("ci95", "theory"):
                    continue
                yield (point.get("value"), node_id, name, _cell(mean), _cell(ci.get(name)), _cell(theory.get(name)))


def _cell(value: Any) -> Any:
    return "" if value is None else value


def kept(block: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The sweeps of a model's ``experiments`` block that can be shown (each with ``param``
    and ``points``)."""
    if not isinstance(block, dict):
        return []
    return [s for s in block.get("sweeps", []) if isinstance(s, dict) and "param" in s and "points" in s]


def with_sweep(block: dict[str, Any] | None, sweep: dict[str, Any]) -> dict[str, Any]:
    """A new ``experiments`` block: ``block`` with ``sweep`` added (the oldest dropped past
    :data:`engine.model.experiments_block.MAX_SWEEPS`)."""
    out = copy.deepcopy(block) if isinstance(block, dict) else {}
    out["version"] = EXPERIMENTS_VERSION
    sweeps = [*out.get("sweeps", []), copy.deepcopy(sweep)]
    out["sweeps"] = sweeps[-MAX_SWEEPS:]
    return out


def answer(
    label: str,
    values: Sequence[float],
    means: Sequence[float],
    halves: Sequence[float],
    *,
    metric: str,
    op: str,
    target: float,
    unit: str = "",
) -> str:
    """The target's answer in words, e.g. "the smallest concurrency that meets it is 5 (p99
    0.18 ± 0.01 s)". Judged on the means; which end of the sweep meets it decides whether the
    answer is the smallest or the largest value."""
    rows = [(v, m, h) for v, m, h in zip(values, means, halves) if math.isfinite(m)]
    if not rows:
        return "No point has a value yet."
    rows.sort()

    def meets(m: float) -> bool:
        return m <= target if op == "<=" else m >= target

    def shown(row: tuple[float, float, float]) -> str:
        v, m, h = row
        pm = f" ± {h:.2g}" if math.isfinite(h) else ""
        return f"{v:g} ({metric} {m:.3g}{pm}{' ' + unit if unit else ''})"

    ok = [meets(m) for _, m, _ in rows]
    if all(ok):
        return f"Every {label} in the sweep meets it; the smallest is {shown(rows[0])}."
    if not any(ok):
        best = min(rows, key=lambda r: r[1]) if op == "<=" else max(rows, key=lambda r: r[1])
        return f"No {label} in the sweep meets it; the nearest is {shown(best)}."
    if ok[-1]:  # the high end meets it: the smallest value from which on every one does
        i = len(ok) - 1
        while i > 0 and ok[i - 1]:
            i -= 1
        return f"The smallest {label} that meets it is {shown(rows[i])}."
    if ok[0]:  # the low end meets it: the largest value up to which every one does
        i = 0
        while i < len(ok) - 1 and ok[i + 1]:
            i += 1
        return f"The largest {label} that meets it is {shown(rows[i])}."
    inside = [r for r, good in zip(rows, ok) if good]
    return f"{label} from {inside[0][0]:g} to {inside[-1][0]:g} meets it (best: {shown(inside[0])})."
