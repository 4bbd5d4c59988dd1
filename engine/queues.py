"""Queue policies: the order in which waiting requests are served."""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable
from typing import Any

__all__ = ["QueuePolicy", "FIFOQueue", "LIFOQueue", "PriorityQueue"]


def _capacity(capacity: int | None) -> int | None:
    if capacity is None:
        return None
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise TypeError(f"capacity must be an int or None, got {capacity!r}")
    if capacity < 0:
        raise ValueError(f"capacity must be >= 0, got {capacity!r}")
    return capacity


class QueuePolicy:
    """A bounded or unbounded queue of waiting items.

    ``push`` returns False (and keeps nothing) when the queue is full; ``pop`` and ``peek``
    return None when it is empty.
    """

    def __init__(self, capacity: int | None = None) -> None:
        self._capacity = _capacity(capacity)

    @property
    def capacity(self) -> int | None:
        """How many items it can hold (None = unlimited)."""
        return self._capacity

    def push(self, item: Any) -> bool:
        """Add ``item``; False if the queue is full."""
        raise NotImplementedError

    def pop(self) -> Any:
        """Remove and return the next item, or None if empty."""
        raise NotImplementedError

    def peek(self) -> Any:
        """The next item without removing it, or None if empty."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def is_empty(self) -> bool:
        """Whether nothing is waiting."""
        return len(self) == 0

    def __bool__(self) -> bool:
        return len(self) > 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}(len={len(self)}, capacity={self._capacity})"


class FIFOQueue(QueuePolicy):
    """First in, first out."""

    def __init__(self, capacity: int | None = None) -> None:
        super().__init__(capacity)
        self._items: deque[Any] = deque()

    def push(self, item: Any) -> bool:
        if self._capacity is not None and len(self._items) >= self._capacity:
            return False
        self._items.append(item)
        return True

    def pop(self) -> Any:
        return self._items.popleft() if self._items else None

    def peek(self) -> Any:
        return self._items[0] if self._items else None

    def __len__(self) -> int:
        return len(self._items)


class LIFOQueue(FIFOQueue):
    """Last in, first out: the newest waiting request is served next."""

    def pop(self) -> Any:
        return self._items.pop() if self._items else None

    def peek(self) -> Any:
        return self._items[-1] if self._items else None


def _default_priority(item: Any) -> float:
    ctx = getattr(item, "context", None)
    if isinstance(ctx, dict):
        return ctx.get("metadata", {}).get("priority", 0)  # type: ignore[no-any-return]
    return 0


class PriorityQueue(QueuePolicy):
    """Lowest key first, first in first out among equal keys.

    The default key is ``event.context["metadata"].get("priority", 0)``.
    """

    def __init__(self, capacity: int | None = None, key: Callable[[Any], Any] | None = None) -> None:
        super().__init__(capacity)
        if key is not None and not callable(key):
            raise TypeError(f"key must be callable, got {key!r}")
        self._key = key or _default_priority
        self._heap: list[tuple[Any, int, Any]] = []
        self._seq = itertools.count()

    def push(self, item: Any) -> bool:
        if self._capacity is not None and len(self._heap) >= self._capacity:
            return False
        heapq.heappush(self._heap, (self._key(item), next(self._seq), item))
        return True

    def pop(self) -> Any:
        return heapq.heappop(self._heap)[2] if self._heap else None

    def peek(self) -> Any:
        return self._heap[0][2] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)
