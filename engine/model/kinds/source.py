"""The ``source`` kind: open arrivals, Poisson at a rate, a renewal process, or a rate profile."""

from __future__ import annotations

import math
from types import MappingProxyType
from typing import Any

import numpy as np

from engine.components.source import Source
from engine.distributions import finite_float
from engine.model.kinds.base import (
    MAX_RATE,
    MIN_RATE,
    Kind,
    LiveContext,
    Param,
    Unwired,
    describe_dist,
    dist,
)
from engine.simulation import Simulation

#: The ways of giving arrivals: exactly one is used.
ARRIVALS = ("rate", "interarrival", "profile")


def _normalise(r: dict[str, Any]) -> dict[str, Any]:
    # The rate's default applies only when no other way of giving arrivals is given.
    if r["profile"] is not None or r["interarrival"] is not None:
        r["rate"] = None
    if r["profile"] is not None:
        r["interarrival"] = None
    return r


def _check(params: dict[str, Any]) -> list[str]:
    given = [k for k in ARRIVALS if params.get(k) is not None]
    if len(given) > 1:
        return [f"give only one of rate, interarrival or profile (got {', '.join(given)})"]
    if not given and "rate" in params:
        return ["give one of rate, interarrival or profile"]
    if given == ["interarrival"]:
        try:
            mean = dist(params["interarrival"]).mean
        except (TypeError, ValueError, OverflowError):
            return []  # reported by the parameter's own check
        if mean <= 0:
            return ["interarrival mean must be > 0 (arrivals would never stop at one instant)"]
    return []


def _build(node_id: str, r: dict[str, Any], sim: Simulation, context: LiveContext) -> Source:
    out = Unwired(f"{node_id}:out")
    if r["profile"] is not None:
        source = Source(node_id, out, profile=r["profile"], limit=r["limit"])
    elif r["interarrival"] is not None:
        source = Source(node_id, out, dist(r["interarrival"]), limit=r["limit"])
    else:
        source = Source(node_id, out, rate=r["rate"], limit=r["limit"])
    source.set_priority(r["priority"])
    return source


def _set_rate(source: Source, r: dict[str, Any], context: LiveContext) -> None:
    if r["rate"] is not None:  # None leaves the arrivals to the parameter that is set
        source.set_rate(r["rate"])


def _set_interarrival(source: Source, r: dict[str, Any], context: LiveContext) -> None:
    if r["interarrival"] is not None:
        source.set_interarrival(dist(r["interarrival"]))


def _set_priority(source: Source, r: dict[str, Any], context: LiveContext) -> None:
    source.set_priority(r["priority"])


def arrival_rate(r: dict[str, Any], t: float = 0.0) -> float:
    """The long-run arrival rate per second of a source with resolved parameters ``r`` (its
    profile's rate at ``t``). Values that are not rates (a model being edited) count as 0."""
    if r["profile"] is not None:
        rate = 0.0
        for time, value in r["profile"]:
            if time <= t:
                rate = value
        return _rate(rate)
    if r["interarrival"] is not None:
        mean = dist(r["interarrival"]).mean
        return 1.0 / mean if mean > 0 else math.inf
    return _rate(r["rate"])


def _rate(value: Any) -> float:
    """A rate as a float: 0 for anything that is not a number >= 0, ``inf`` if too large."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return 0.0
    x = finite_float(value)
    if x is None:
        return math.inf if value > 0 else 0.0
    return max(0.0, x)


def _summary(r: dict[str, Any]) -> str:
    if r["interarrival"] is not None:
        return f"every {describe_dist(r['interarrival'])}"
    if r["profile"] is not None:
        return "rate profile"
    return f"λ {r['rate']:g}/s"


def _departures(r: dict[str, Any], outs: int) -> str | None:
    """Why these arrivals are not a Poisson stream in steady state (None if they are)."""
    if r["profile"] is not None:
        return "the arrival rate follows a profile (no steady state)"
    if r["limit"] is not None:
        return "a source stops after a limit (no steady state)"
    if r["interarrival"] is not None and r["interarrival"].get("dist") != "exponential":
        return f"arrivals are not Poisson ({r['interarrival'].get('dist')} inter-arrival times)"
    return None


KIND = Kind(
    "source",
    "Source",
    "Creates requests: Poisson arrivals at `rate` per second, or inter-arrival "
    "times drawn from `interarrival`; `profile` makes the rate change over time.",
    (
        Param(
            "rate",
            "number",
            "arrival rate",
            "Poisson arrivals per second (λ).",
            1.0,
            "1/s",
            minimum=MIN_RATE,
            exclusive_minimum=False,
            maximum=MAX_RATE,
            nullable=True,
            why_minimum="one arrival in the 9.2e9 s the engine's clock spans; to send nothing for a while, "
            "use a profile with a rate of 0",
            why_maximum="one arrival per nanosecond, the engine's time resolution",
        ),
        Param(
            "interarrival",
            "dist",
            "inter-arrival time",
            "Time between arrivals, instead of `rate` (a renewal process).",
            None,
            "s",
            nullable=True,
        ),
        Param(
            "profile",
            "profile",
            "rate profile",
            "[[t, rate], …]: the Poisson rate is piecewise constant, switching at each t (seconds).",
            None,
            "1/s",
            nullable=True,
        ),
        Param(
            "limit",
            "int",
            "arrival limit",
            "Stop after this many arrivals (null = never).",
            None,
            "requests",
            minimum=0,
            nullable=True,
        ),
        Param(
            "priority",
            "number",
            "priority",
            "Priority carried by these requests (lower is served first by priority queues).",
            None,
            nullable=True,
        ),
    ),
    has_input=False,
    is_station=False,
    exclusive=ARRIVALS,
    normalise=_normalise,
    check=_check,
    builder=_build,
    output="target",
    live=MappingProxyType({"rate": _set_rate, "interarrival": _set_interarrival, "priority": _set_priority}),
    arrivals=arrival_rate,
    departures=_departures,
    summarise=_summary,
)
