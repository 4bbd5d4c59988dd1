"""Percentiles with bounded memory.

A :class:`QuantileSketch` keeps every sample while there are at most ``exact_limit`` of
them, and answers exactly (linear interpolation at position p·(n−1)). Past that it folds
the samples into logarithmic buckets (the DDSketch layout): every percentile it reports is
then within ``relative_error`` (1 % by default) of a value whose rank is the requested one.
Memory is bounded by ``exact_limit`` floats plus one counter per bucket (about 2,100
buckets span 1 ns to 1e9 s at 1 %).
"""

from __future__ import annotations

import math

import numpy as np

_TINY = 1e-12


class QuantileSketch:
    """Streaming percentiles: exact for small samples, within 1 % relative error beyond.

    Hot paths append to :attr:`values` directly and call :meth:`fold` when
    ``len(values) >= exact_limit``; :meth:`add` does both.
    """

    __slots__ = (
        "values",
        "exact_limit",
        "relative_error",
        "_gamma",
        "_log_gamma",
        "_buckets",
        "_zeros",
        "_n_folded",
        "_min",
        "_max",
        "_sorted_cache",
        "_sorted_key",
    )

    def __init__(self, exact_limit: int = 65536, relative_error: float = 0.01) -> None:
        if exact_limit < 1:
            raise ValueError(f"exact_limit must be >= 1, got {exact_limit!r}")
        if not 0 < relative_error < 1:
            raise ValueError(f"relative_error must be in (0, 1), got {relative_error!r}")
        self.values: list[float] = []
        self.exact_limit = exact_limit
        self.relative_error = relative_error
        self._gamma = (1 + relative_error) / (1 - relative_error)
        self._log_gamma = math.log(self._gamma)
        self._buckets: dict[int, int] = {}
        self._zeros = 0
        self._n_folded = 0
        self._min = math.inf
        self._max = -math.inf
        self._sorted_cache = np.empty(0)
        self._sorted_key: tuple[int, int] | None = None  # (id, length) of the sorted buffer

    def add(self, value: float) -> None:
        """Record one sample."""
        self.values.append(value)
        if len(self.values) >= self.exact_limit:
            self.fold()

    def clear(self) -> None:
        """Forget every sample."""
        self.values.clear()
        self._sorted_key = None
        self._buckets.clear()
        self._zeros = 0
        self._n_folded = 0
        self._min = math.inf
        self._max = -math.inf

    @property
    def count(self) -> int:
        """How many samples were recorded."""
        return self._n_folded + len(self.values)

    @property
    def exact(self) -> bool:
        """Whether percentiles are still exact (nothing has been folded)."""
        return self._n_folded == 0

    def fold(self) -> None:
        """Move the buffered samples into the buckets."""
        if not self.values:
            return
        arr = np.asarray(self.values, dtype=float)
        self.values.clear()
        self._min = min(self._min, float(arr.min()))
        self._max = max(self._max, float(arr.max()))
        self._n_folded += arr.size
        positive = arr[arr > _TINY]
        self._zeros += arr.size - positive.size
        if positive.size:
            idx = np.ceil(np.log(positive) / self._log_gamma).astype(np.int64)
            keys, counts = np.unique(idx, return_counts=True)
            buckets = self._buckets
            for k, c in zip(keys.tolist(), counts.tolist()):
                buckets[k] = buckets.get(k, 0) + c

    @property
    def min(self) -> float:
        """The smallest sample (NaN when empty)."""
        if self.count == 0:
            return math.nan
        return min(self._min, min(self.values)) if self.values else self._min

    @property
    def max(self) -> float:
        """The largest sample (NaN when empty)."""
        if self.count == 0:
            return math.nan
        return max(self._max, max(self.values)) if self.values else self._max

    def _sorted(self) -> np.ndarray:
        """The buffered samples, sorted; cached until another sample arrives (several
        percentiles of one snapshot sort once)."""
        key = (id(self.values), len(self.values))
        if self._sorted_key != key:
            self._sorted_cache = np.sort(np.asarray(self.values, dtype=float))
            self._sorted_key = key
        return self._sorted_cache

    def percentile(self, p: float) -> float:
        """The p-quantile for p in [0, 1] (0.0 when empty).

        Raises ValueError for p outside [0, 1] or NaN (99 for 0.99 is a common mistake).
        """
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"percentile must be between 0 and 1 (e.g. 0.99 for p99), got {p!r}")
        n = self.count
        if n == 0:
            return 0.0
        if self._n_folded == 0:
            data = self._sorted()
            if p <= 0:
                return float(data[0])
            if p >= 1:
                return float(data[-1])
            pos = p * (n - 1)
            lo = int(pos)
            if lo + 1 >= n:
                return float(data[-1])
            return float(data[lo] + (data[lo + 1] - data[lo]) * (pos - lo))
        self.fold()
        if p <= 0:
            return self._min
        if p >= 1:
            return self._max
        rank = p * (n - 1)
        seen = self._zeros
        if rank < seen:
            return 0.0
        for key in sorted(self._buckets):
            seen += self._buckets[key]
            if rank < seen:
                estimate = 2 * self._gamma**key / (self._gamma + 1)
                return min(max(estimate, self._min), self._max)
        return self._max
