"""The ``experiments`` block of a model document: sweeps kept with the model.

A finished sweep can be kept with the model it was run on, so that reopening the file shows
its plot again. The block is versioned on its own (``{"version": 1, "sweeps": [...]}``); each
sweep holds its settings and its points in the ``queuestudio sweep --json`` form. The block is
kept as written (the desktop reads what it knows of each sweep); only its structure is checked
here: an object with a known ``version`` and a list of sweep objects, each naming its
``param`` and listing its ``points``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any

#: The version of the ``experiments`` block this Queue Studio writes and reads.
EXPERIMENTS_VERSION = 1
#: Most sweeps one model keeps (older ones are dropped by the desktop when more are kept).
MAX_SWEEPS = 50


def experiments_problems(raw: Any) -> list[str]:
    """What makes ``raw`` unusable as an ``experiments`` block (empty when it is fine)."""
    if not isinstance(raw, dict):
        return [f"experiments must be an object, got {type(raw).__name__}"]
    problems = []
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        problems.append(f"experiments: version must be an integer, got {version!r}")
    elif version > EXPERIMENTS_VERSION:
        problems.append(
            f"experiments: version {version} is newer than this Queue Studio understands "
            f"({EXPERIMENTS_VERSION}); please upgrade"
        )
    elif version < 1:
        problems.append(f"experiments: version must be >= 1, got {version}")
    for key in raw:
        if key not in ("version", "sweeps"):
            problems.append(f"experiments: unknown field {key!r}")
    sweeps = raw.get("sweeps", [])
    if not isinstance(sweeps, list):
        return [*problems, f"experiments: sweeps must be a list, got {type(sweeps).__name__}"]
    if len(sweeps) > MAX_SWEEPS:
        problems.append(f"experiments: at most {MAX_SWEEPS} sweeps, got {len(sweeps)}")
    for i, sweep in enumerate(sweeps):
        where = f"experiments: sweep {i}"
        if not isinstance(sweep, dict):
            problems.append(f"{where} must be an object, got {type(sweep).__name__}")
            continue
        if not isinstance(sweep.get("param"), str) or not sweep.get("param"):
            problems.append(f"{where}: param must be a non-empty string (NODE.PARAM)")
        points = sweep.get("points")
        if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
            problems.append(f"{where}: points must be a list of objects")
    return problems


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON data: every NaN or infinite float replaced by None (strict JSON
    has neither), mappings as dicts, sequences as lists, numpy scalars as Python numbers;
    what a sweep's results go through before they are kept in a document."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def experiments_docs() -> list[str]:
    """The ``experiments`` section of docs/model-format.md."""
    return [
        "## experiments",
        "",
        "Sweeps kept with the model (Experiment panel ▸ Keep with model), so reopening the file shows "
        f'their plots again: `{{"version": {EXPERIMENTS_VERSION}, "sweeps": [...]}}`. Each sweep is an '
        "object with `param` (the swept parameter, `NODE.PARAM`, `NODE.PARAM.mean` or `simulation.KEY`) "
        "and `points` (the points of `queuestudio sweep --json`: `value`, `replications`, and per node "
        "each metric's mean, `ci95` and `theory`), and may carry `name`, `node`, `metrics`, `values`, "
        "`replications`, `precision`, `seed`, `end_time`, `target` (`metric`, `op`, `value`) and "
        "`created` (ISO time). Numbers that have no value (NaN) are written as `null`. The block is "
        "versioned on its own: a newer `version` is refused, an older one migrated. At most "
        f"{MAX_SWEEPS} sweeps are kept. Tools that do not know a sweep's extra fields keep them as written.",
        "",
    ]
