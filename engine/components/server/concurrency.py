"""Concurrency models: how many requests a server may process at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

__all__ = ["ConcurrencyModel", "FixedConcurrency", "DynamicConcurrency", "WeightedConcurrency"]


def _whole(value: object, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{what} must be >= {minimum}, got {value!r}")
    return value


@runtime_checkable
class ConcurrencyModel(Protocol):
    """A pool of processing capacity that requests acquire before and release after service."""

    @property
    def available(self) -> int:
        """Capacity units free now."""
        ...

    @property
    def active(self) -> int:
        """Capacity units in use now."""
        ...

    @property
    def limit(self) -> int:
        """Total capacity now."""
        ...

    def acquire(self, weight: int = 1) -> bool:
        """Take ``weight`` units if they are free; False otherwise."""
        ...

    def release(self, weight: int = 1) -> None:
        """Give back ``weight`` units."""
        ...

    def has_capacity(self, weight: int = 1) -> bool:
        """Whether ``weight`` units are free, without taking them."""
        ...


class _Slots:
    """Shared state of the slot-counting models; servers read ``_active``/``_limit``."""

    _active: int
    _limit: int

    @property
    def available(self) -> int:
        """Number of free slots (0 when the limit was lowered below the active count)."""
        return max(0, self._limit - self._active)

    @property
    def active(self) -> int:
        """Number of slots in use."""
        return self._active

    @property
    def limit(self) -> int:
        """Current number of slots."""
        return self._limit

    def acquire(self, weight: int = 1) -> bool:
        """Take one slot (``weight`` is ignored); False when all are in use."""
        if self._active < self._limit:
            self._active += 1
            return True
        return False

    def release(self, weight: int = 1) -> None:
        """Give back one slot (``weight`` is ignored); extra releases stop at zero."""
        if self._active > 0:
            self._active -= 1

    def has_capacity(self, weight: int = 1) -> bool:
        """Whether a slot is free (``weight`` is ignored)."""
        return self._active < self._limit

    def __repr__(self) -> str:
        return f"{type(self).__name__}(active={self._active}, limit={self._limit})"


class FixedConcurrency(_Slots):
    """A fixed number of slots; each request takes exactly one.

    Raises ValueError if ``max_concurrent`` < 1, TypeError if it is not an int.
    """

    def __init__(self, max_concurrent: int) -> None:
        self._limit = _whole(max_concurrent, "max_concurrent", 1)
        self._active = 0

    @property
    def max_concurrent(self) -> int:
        """The fixed slot count."""
        return self._limit


class DynamicConcurrency(_Slots):
    """A slot limit that can change during a run, within ``[min_limit, max_limit]``.

    Lowering the limit below the active count pre-empts nothing: work in flight finishes and
    nothing new starts until active < limit. Raising it on a server with waiting requests
    starts them at once.

    Raises ValueError if ``min_limit`` < 1, ``max_limit`` < ``min_limit``, or ``initial`` is
    outside the bounds.
    """

    def __init__(self, initial: int, min_limit: int = 1, max_limit: int | None = None) -> None:
        self._min = _whole(min_limit, "min_limit", 1)
        if max_limit is not None:
            _whole(max_limit, "max_limit", self._min)
        self._max = max_limit
        _whole(initial, "initial", self._min)
        if max_limit is not None and initial > max_limit:
            raise ValueError(f"initial must be <= max_limit ({max_limit}), got {initial!r}")
        self._limit = initial
        self._active = 0
        self._listeners: list[Callable[[int, int], None]] = []

    @property
    def current_limit(self) -> int:
        """The limit now."""
        return self._limit

    @property
    def min_limit(self) -> int:
        """The lowest the limit may go."""
        return self._min

    @property
    def max_limit(self) -> int | None:
        """The highest the limit may go (None = unlimited)."""
        return self._max

    def set_limit(self, new_limit: int) -> None:
        """Set the limit, clamped into ``[min_limit, max_limit]``."""
        _whole(new_limit, "new_limit", -(2**62))
        limit = max(self._min, new_limit)
        if self._max is not None:
            limit = min(self._max, limit)
        old, self._limit = self._limit, limit
        if limit != old:
            for listener in list(self._listeners):
                listener(old, limit)

    def set_bounds(self, min_limit: int, max_limit: int | None) -> None:
        """Change the bounds (the limit itself is left as it is; :meth:`set_limit` clamps
        into the new bounds). Raises as the constructor does for invalid bounds."""
        low = _whole(min_limit, "min_limit", 1)
        if max_limit is not None:
            _whole(max_limit, "max_limit", low)
        self._min, self._max = low, max_limit

    def scale_up(self, amount: int = 1) -> None:
        """Raise the limit by ``amount`` (ValueError if negative)."""
        self.set_limit(self._limit + _whole(amount, "amount", 0))

    def scale_down(self, amount: int = 1) -> None:
        """Lower the limit by ``amount`` (ValueError if negative)."""
        self.set_limit(self._limit - _whole(amount, "amount", 0))

    def add_listener(self, listener: Callable[[int, int], None]) -> None:
        """Call ``listener(old, new)`` whenever the limit changes (servers use this)."""
        self._listeners.append(listener)


class WeightedConcurrency:
    """A pool of capacity units; each request takes its own weight (at least 1).

    ``acquire(w)`` succeeds iff used + w <= total. Raises ValueError if ``total_capacity``
    < 1, and for weights < 1.
    """

    def __init__(self, total_capacity: int) -> None:
        self._limit = _whole(total_capacity, "total_capacity", 1)
        self._active = 0

    def set_total_capacity(self, total_capacity: int) -> None:
        """Change the total (work in flight keeps its units, even above a lowered total)."""
        self._limit = _whole(total_capacity, "total_capacity", 1)

    @staticmethod
    def _check(weight: int) -> int:
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 1:
            raise ValueError(f"weight must be a number >= 1, got {weight!r}")
        return weight

    @property
    def total_capacity(self) -> int:
        """Total capacity units."""
        return self._limit

    @property
    def available(self) -> int:
        """Free capacity units."""
        return self._limit - self._active

    @property
    def active(self) -> int:
        """Capacity units in use."""
        return self._active

    @property
    def limit(self) -> int:
        """Total capacity units."""
        return self._limit

    @property
    def utilization(self) -> float:
        """Used / total."""
        return self._active / self._limit

    def acquire(self, weight: int = 1) -> bool:
        """Take ``weight`` units if they fit; False otherwise."""
        w = self._check(weight)
        if self._active + w <= self._limit:
            self._active += w
            return True
        return False

    def release(self, weight: int = 1) -> None:
        """Give back ``weight`` units (never below zero)."""
        self._active = max(0, self._active - self._check(weight))

    def has_capacity(self, weight: int = 1) -> bool:
        """Whether ``weight`` units are free."""
        return self._active + self._check(weight) <= self._limit

    def __repr__(self) -> str:
        return f"WeightedConcurrency(active={self._active}, total_capacity={self._limit})"
