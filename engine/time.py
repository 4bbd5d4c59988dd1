"""Points and lengths of simulated time.

The engine keeps time as plain ``float`` seconds internally; :class:`Instant` and
:class:`Duration` are ``float`` subclasses so that code written against the seed library
(``Instant.from_seconds(2.5)``, ``instant.to_seconds()``) runs unchanged and can be mixed
freely with plain numbers.
"""

from __future__ import annotations

import math
import sys

_NS = 1e9

#: The engine's time resolution in seconds: the seed library's clock counts nanoseconds,
#: and a run whose clock advances by less than this for too long does not advance (see
#: ``engine.simulation.SimulationStalled``).
RESOLUTION = 1.0 / _NS


def _round_ns(seconds: float) -> float:
    if math.isinf(seconds):
        return seconds
    return round(seconds * _NS) / _NS


def _nanoseconds(seconds: float) -> int:
    """``seconds`` as a whole number of nanoseconds (the nearest); infinity as the seed
    library's stand-in for it, ``sys.maxsize`` (negated for minus infinity)."""
    if math.isinf(seconds):
        return sys.maxsize if seconds > 0 else -sys.maxsize
    if math.isnan(seconds):
        raise ValueError("a time of nan seconds has no number of nanoseconds")
    return round(seconds * _NS)


class Duration(float):
    """A length of simulated time in seconds."""

    __slots__ = ()

    @classmethod
    def from_seconds(cls, seconds: float) -> Duration:
        """A duration of ``seconds``, rounded to the nearest nanosecond."""
        value = float(seconds)
        if math.isnan(value):
            raise ValueError(f"duration must be a number of seconds, got {seconds!r}")
        return cls(_round_ns(value))

    def to_seconds(self) -> float:
        """The duration as plain float seconds."""
        return float(self)

    @property
    def nanoseconds(self) -> int:
        """The duration as an integer number of nanoseconds (the nearest)."""
        return _nanoseconds(float(self))

    def __repr__(self) -> str:
        return f"Duration({float(self)!r})"


class Instant(float):
    """A point in simulated time, in seconds since the simulation's epoch."""

    __slots__ = ()

    Epoch: Instant
    Infinity: Instant

    @classmethod
    def from_seconds(cls, seconds: float) -> Instant:
        """The instant ``seconds`` after the epoch, rounded to the nearest nanosecond."""
        value = float(seconds)
        if math.isnan(value):
            raise ValueError(f"instant must be a number of seconds, got {seconds!r}")
        return cls(_round_ns(value))

    def to_seconds(self) -> float:
        """The instant as plain float seconds since the epoch."""
        return float(self)

    @property
    def nanoseconds(self) -> int:
        """The instant as an integer number of nanoseconds since the epoch (the nearest;
        ``Instant.Infinity`` reads ``sys.maxsize``, as in the seed library)."""
        return _nanoseconds(float(self))

    def __add__(self, other: float) -> Instant:  # type: ignore[override]
        return Instant(float(self) + float(other))

    __radd__ = __add__  # type: ignore[assignment]

    def __sub__(self, other: float) -> Duration | Instant:  # type: ignore[override]
        if isinstance(other, Instant):
            return Duration(float(self) - float(other))
        return Instant(float(self) - float(other))

    def __repr__(self) -> str:
        return f"Instant({float(self)!r})"


Instant.Epoch = Instant(0.0)
Instant.Infinity = Instant(math.inf)


def seconds(value: float, what: str = "time") -> float:
    """``value`` as plain float seconds; ValueError naming ``what`` if it is not a number."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be a number of seconds, got {value!r}")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a number of seconds, got {value!r}") from None
    if math.isnan(result):
        raise ValueError(f"{what} must be a number of seconds, got nan")
    return result
