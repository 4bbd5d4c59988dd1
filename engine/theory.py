"""Queueing theory: steady-state results for the stations and networks that have closed forms.

Rates are per second, times are seconds, counts are requests. Every station function returns
a :class:`StationResult` whose fields carry the names of the simulated metrics
(a station's ``window_metrics``), so the app can put theory and simulation side by side.

A station with an unlimited queue whose offered load per server is 1 or more has no steady
state: its function raises :class:`UnstableError` (a ValueError). Bad parameters (a negative
rate, fewer than one server, a capacity below the server count, …) raise ValueError; values
that are not numbers at all raise TypeError. Nothing overflows: any server count and queue
length (10^9 and beyond) is computed in log space in milliseconds, and a result too large
for a float is ``inf``.

Closed networks (a fixed population of clients with think time): exact mean value analysis,
asymptotic and balanced job bounds, the saturation point N* and the interactive response
time law live in :mod:`engine.closed`.

This module is the public face: the formulas live in :mod:`engine.queueing` (with the
log-space sums in :mod:`engine.erlang`), the model-wide analysis in :mod:`engine.analysis`.
The arrow points one way: this module imports both, and neither imports this module (a
new formula goes in :mod:`engine.queueing` or a module beside it, which the analysis
imports; ``tests/engine/test_kinds.py`` fails on an import cycle).
"""

from __future__ import annotations

from typing import Any

from engine.analysis import analyze_model
from engine.closed import (
    ClientsResult,
    ClosedBounds,
    ClosedResult,
    ClosedStation,
    closed_bounds,
    interactive_response_time,
    mva,
    mva_curve,
    saturation_population,
)
from engine.queueing import (
    NetworkResult,
    StationResult,
    UnstableError,
    erlang_b,
    erlang_c,
    jackson,
    md1,
    mg1,
    mm1,
    mm1_response_percentile,
    mmc,
    mmck,
    mminf,
    priority_nonpreemptive_mg1,
)

__all__ = [
    "UnstableError",
    "StationResult",
    "NetworkResult",
    "mm1",
    "mmc",
    "mmck",
    "erlang_b",
    "erlang_c",
    "md1",
    "mg1",
    "mminf",
    "priority_nonpreemptive_mg1",
    "mm1_response_percentile",
    "jackson",
    "ClosedStation",
    "ClosedResult",
    "ClientsResult",
    "ClosedBounds",
    "mva",
    "mva_curve",
    "closed_bounds",
    "saturation_population",
    "interactive_response_time",
    "analyze",
    "metric_value",
]


def analyze(model: Any) -> dict[str, Any]:
    """For every station and sink of a model document: the analytic metrics where theory
    solves it (a :class:`StationResult`; for a sink a dict with ``mean_latency`` and
    ``throughput``), else a string saying why not ("service is lognormal and c > 1").

    Bounded in time for any model the validator accepts (10^4 nodes, 10^9 servers or queue
    places). See :mod:`engine.analysis` for when each station counts as solved.
    """
    return analyze_model(model)


def metric_value(model: Any, metric: str) -> float | str:
    """What queueing theory says ``NODE.METRIC`` is for ``model`` (see
    :func:`analyze`), or the reason it has no answer."""
    node_id, _, name = metric.rpartition(".")
    try:
        analysed = analyze(model)
    except (ValueError, ArithmeticError) as exc:
        return f"theory cannot solve this model ({exc})"
    if node_id not in analysed:
        return f"theory has nothing to say about {node_id!r}"
    found = analysed[node_id]
    if isinstance(found, str):
        return found
    values = found if isinstance(found, dict) else found.as_dict()
    value = values.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"theory gives no {name} for {node_id!r}"
    return float(value)
