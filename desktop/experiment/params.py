"""Which inspector fields can be swept, under which parameter name, and the values proposed.

A sweep names its parameter as ``engine.experiments.with_param`` does: ``NODE.PARAM`` for a
number (an int, a float, an integer concurrency), ``NODE.PARAM.mean`` for a distribution (its
mean is scaled) and ``simulation.KEY`` for the simulation block. The proposed values sit
around the current one and inside the parameter's valid range (the kind's ``Param``
minimum/maximum from :mod:`engine.model.schema`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from engine.distributions import from_spec
from engine.model import Model
from engine.model.schema import KINDS, MAX_TIME, SIMULATION_FIELDS, TIME_RESOLUTION

#: Points proposed for a sweep of a continuous parameter.
DEFAULT_POINTS = 10
#: Simulation settings that can be swept (a sweep of the seed would sweep nothing).
SWEEPABLE_SETTINGS = ("end_time", "warmup", "sample_interval")


@dataclass(frozen=True)
class SweepTarget:
    """A parameter a sweep can vary: its ``path`` for :func:`engine.experiments.with_param`,
    the node whose metrics it is about (None: the simulation block), a short ``label``, the
    model's ``current`` value, whether it takes whole numbers, and its valid range."""

    path: str
    node: str | None
    label: str
    current: float
    integer: bool
    minimum: float | None = None
    exclusive_minimum: bool = False
    maximum: float | None = None
    unit: str = ""

    def allows(self, value: float) -> bool:
        """Whether ``value`` is inside the parameter's valid range (and whole if it must be)."""
        if not math.isfinite(value) or (self.integer and not float(value).is_integer()):
            return False
        if self.minimum is not None and (value < self.minimum or (self.exclusive_minimum and value == self.minimum)):
            return False
        return self.maximum is None or value <= self.maximum


def target_for(model: Model, node_id: str | None, name: str) -> SweepTarget | None:
    """The sweep target of inspector field ``name`` of node ``node_id`` (None: the simulation
    block), or None when that field holds nothing a sweep can vary (text, a choice, an
    unlimited capacity, a dynamic concurrency, a distribution without a finite mean)."""
    if node_id is None:
        if name not in SWEEPABLE_SETTINGS:
            return None
        value = getattr(model.simulation, name, None)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return None  # "auto" warm-up
        minimum = SIMULATION_FIELDS[name][1]
        return SweepTarget(
            f"simulation.{name}",
            None,
            name.replace("_", " "),
            float(value),
            False,
            minimum,
            name != "warmup",
            MAX_TIME,
            "s",
        )
    try:
        node = model.node(node_id)
    except KeyError:
        return None
    kind = KINDS.get(node.kind)
    param = kind.param(name) if kind is not None else None
    if param is None:
        return None
    value: Any = node.params.get(name, param.default)
    label = f"{node_id} {param.label}"
    if param.type in ("int", "number") or (param.type == "concurrency" and not isinstance(value, dict)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return None
        return SweepTarget(
            f"{node_id}.{name}",
            node_id,
            label,
            float(value),
            param.type != "number",
            param.minimum,
            param.exclusive_minimum,
            param.maximum,
            param.unit,
        )
    if param.type == "dist" and isinstance(value, dict):
        try:
            mean = from_spec(value).mean
        except (ValueError, TypeError, KeyError):
            return None
        if not (math.isfinite(mean) and mean > 0):
            return None
        return SweepTarget(
            f"{node_id}.{name}.mean",
            node_id,
            f"{label} mean",
            float(mean),
            False,
            TIME_RESOLUTION,
            False,
            MAX_TIME,
            param.unit,
        )
    return None


def nice_step(span: float, points: int = DEFAULT_POINTS) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about ``points`` values over ``span``."""
    raw = span / max(1, points - 1)
    if not (math.isfinite(raw) and raw > 0):
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * 0.999)


def default_range(target: SweepTarget) -> tuple[float, float, float]:
    """``(start, stop, step)`` proposed for ``target``: from half to twice the current value
    (whole numbers: up to 8 above), on a round step, inside the valid range."""
    current = target.current
    if target.integer:
        low = max(1.0, math.floor(current / 2)) if current >= 1 else 0.0
        high = max(current * 2, low + 7)
        step = 1.0 if high - low <= 20 else float(max(1, round(nice_step(high - low))))
    else:
        base = current if current > 0 else 1.0
        low, high = base / 2, base * 1.5 if current > 0 else base
        if current == 0:
            low = 0.0
        step = nice_step(high - low)
        low = math.floor(low / step) * step
        high = math.ceil(high / step) * step
    low, high = _inside(target, low), _inside(target, high)
    if high <= low:
        high = low + step
    return low, high, step


def _inside(target: SweepTarget, value: float) -> float:
    if target.minimum is not None and value < target.minimum:
        value = target.minimum
    if target.minimum is not None and target.exclusive_minimum and value <= target.minimum:
        value = target.minimum + (1 if target.integer else max(TIME_RESOLUTION, abs(target.minimum) * 1e-6))
    if target.maximum is not None and value > target.maximum:
        value = target.maximum
    return value


def values_outside(target: SweepTarget, values: list[float]) -> list[float]:
    """The values a sweep of ``target`` cannot take (out of range, or not whole)."""
    return [v for v in values if not target.allows(v)]
