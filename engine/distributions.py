"""Latency (service, inter-arrival, delay) distributions.

Every distribution knows its own ``mean`` and ``variance`` (seconds, seconds squared) and
draws from the random generator of the simulation it runs in. Inside a run the engine draws
in numpy batches through :meth:`LatencyDistribution.sampler`; a user subclass that only
overrides :meth:`LatencyDistribution.get_latency` works everywhere a built-in one does.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.time import Duration

if TYPE_CHECKING:
    from engine.simulation import Simulation

#: Draws per numpy call inside a run: large enough that the per-call cost vanishes, small
#: enough that a live parameter change discards little.
BATCH = 1024

__all__ = [
    "LatencyDistribution",
    "ConstantLatency",
    "ExponentialLatency",
    "UniformLatency",
    "ErlangLatency",
    "LogNormalLatency",
    "ParetoLatency",
    "EmpiricalLatency",
    "from_spec",
]


_SQRT12 = math.sqrt(12.0)
#: Erlang phases above which draws are the mean itself (its cv, 1/√k, is below 1e-8).
_CONSTANT_K = 10**16


def _as_float(value: int | float) -> float:
    """``value`` as a float, ``inf`` for an int too large for one."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def finite_float(value: Any) -> float | None:
    """``value`` as a finite float, or None if it is not a number, is NaN/infinite, or is
    an integer too large for a float (JSON allows 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return None
    try:
        x = float(value)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def _number(value: Any, what: str, *, minimum: float | None = None, strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a number, got {value!r}")
    x = finite_float(value)
    if x is None:
        raise ValueError(f"{what} must be finite, got {value!r}")
    if minimum is not None and (x <= minimum if strict else x < minimum):
        raise ValueError(f"{what} must be {'>' if strict else '>='} {minimum:g}, got {value!r}")
    return x


def _batches(draw: Callable[[int], np.ndarray]) -> Callable[[], float]:
    def stream() -> Iterator[float]:
        while True:
            yield from draw(BATCH).tolist()

    return stream().__next__


class LatencyDistribution:
    """Base class: a distribution of non-negative times with the given ``mean`` (seconds).

    Subclass it and override :meth:`get_latency` to use any distribution you like.
    """

    def __init__(self, mean: float) -> None:
        self._mean = _number(mean, "mean", minimum=0.0)  # ValueError for an infinite mean
        self._own_rng: np.random.Generator | None = None

    @property
    def _rng(self) -> np.random.Generator:
        """The generator of the run it last joined, else its own (made on first use:
        building one costs more than the whole distribution, and theory builds many)."""
        if self._own_rng is None:
            self._own_rng = np.random.default_rng()
        return self._own_rng

    @_rng.setter
    def _rng(self, rng: np.random.Generator) -> None:
        self._own_rng = rng

    @property
    def mean(self) -> float:
        """Mean in seconds."""
        return self._mean

    @property
    def variance(self) -> float:
        """Variance in seconds squared (NaN when unknown, as for a user subclass)."""
        return math.nan

    @property
    def cv(self) -> float:
        """Coefficient of variation: standard deviation / mean."""
        return math.sqrt(self.variance) / self.mean if self.mean > 0 else 0.0

    @property
    def minimum(self) -> float:
        """The smallest value the distribution can produce."""
        return 0.0

    def get_latency(self, now: float) -> Duration:
        """One draw, as a Duration (seconds)."""
        return Duration(float(self._draw(self._rng, 1)[0]))

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.full(size, self._mean)

    def sampler(self, sim: Simulation, stream: str | None = None) -> Callable[[], float]:
        """A zero-argument callable that draws float seconds from ``sim``'s generator, or
        from its per-node ``stream`` when one is named (see :meth:`Simulation.stream`)."""
        rng = sim.rng if stream is None else sim.stream(stream)
        self._rng = rng
        if type(self).get_latency is not LatencyDistribution.get_latency:
            get = self.get_latency
            return lambda: float(get(sim.now))
        draw = self._draw
        return _batches(lambda n: draw(rng, n))

    def __add__(self, offset: float) -> LatencyDistribution:
        return _Shifted(self, _number(offset, "offset"))

    def __sub__(self, offset: float) -> LatencyDistribution:
        return _Shifted(self, -_number(offset, "offset"))

    def to_spec(self) -> dict[str, Any]:
        """The distribution as a model-file object (``{"dist": …}``)."""
        raise TypeError(f"{type(self).__name__} cannot be written to a model file")

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        try:
            return self.to_spec() == other.to_spec()  # type: ignore[attr-defined]
        except TypeError:
            return self is other

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        try:
            spec = self.to_spec()
        except TypeError:
            return f"{type(self).__name__}(mean={self.mean!r})"
        args = ", ".join(f"{k}={v!r}" for k, v in spec.items() if k != "dist")
        return f"{type(self).__name__}({args})"


class _Shifted(LatencyDistribution):
    """``base + offset``: the same shape moved by ``offset`` seconds."""

    _base: LatencyDistribution
    _offset: float

    def __init__(self, base: LatencyDistribution, offset: float) -> None:
        if isinstance(base, _Shifted):
            offset += base._offset
            base = base._base
        if base.minimum + offset < 0:
            raise ValueError(
                f"shifting {base!r} by {offset:g} s would produce negative latencies "
                f"(its minimum is {base.minimum:g} s)"
            )
        super().__init__(base.mean + offset)
        self._base = base
        self._offset = offset

    @property
    def variance(self) -> float:
        return self._base.variance

    @property
    def minimum(self) -> float:
        return self._base.minimum + self._offset

    def get_latency(self, now: float) -> Duration:
        return Duration(float(self._base.get_latency(now)) + self._offset)

    def sampler(self, sim: Simulation, stream: str | None = None) -> Callable[[], float]:
        inner = self._base.sampler(sim, stream)
        offset = self._offset
        return lambda: inner() + offset

    def __repr__(self) -> str:
        return f"{self._base!r} {'+' if self._offset >= 0 else '-'} {abs(self._offset):g}"


class _Builtin(LatencyDistribution):
    def get_latency(self, now: float) -> Duration:
        return Duration(float(self._draw(self._rng, 1)[0]))

    def sampler(self, sim: Simulation, stream: str | None = None) -> Callable[[], float]:
        if type(self).get_latency is not _Builtin.get_latency:
            return LatencyDistribution.sampler(self, sim, stream)
        self._rng = rng = sim.rng if stream is None else sim.stream(stream)
        draw = self._draw
        return _batches(lambda n: draw(rng, n))


class ConstantLatency(_Builtin):
    """Always ``value`` seconds."""

    def __init__(self, value: float) -> None:
        super().__init__(_number(value, "value", minimum=0.0))

    @property
    def value(self) -> float:
        return self._mean

    @property
    def variance(self) -> float:
        return 0.0

    @property
    def minimum(self) -> float:
        return self._mean

    def get_latency(self, now: float) -> Duration:
        return Duration(self._mean)

    def sampler(self, sim: Simulation, stream: str | None = None) -> Callable[[], float]:
        if type(self).get_latency is not ConstantLatency.get_latency:
            return LatencyDistribution.sampler(self, sim, stream)
        value = self._mean
        return lambda: value

    def to_spec(self) -> dict[str, Any]:
        return {"dist": "constant", "value": self._mean}


class ExponentialLatency(_Builtin):
    """Exponential with the given ``mean`` (seconds): memoryless, cv = 1."""

    def __init__(self, mean: float) -> None:
        super().__init__(_number(mean, "mean", minimum=0.0, strict=True))

    @property
    def variance(self) -> float:
        return self._mean * self._mean  # inf past 1.3e154 s, where ** would raise

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self._mean, size)

    def to_spec(self) -> dict[str, Any]:
        return {"dist": "exponential", "mean": self._mean}


class UniformLatency(_Builtin):
    """Uniform on [``low``, ``high``] seconds."""

    def __init__(self, low: float, high: float) -> None:
        lo = _number(low, "low", minimum=0.0)
        hi = _number(high, "high", minimum=0.0)
        if hi < lo:
            raise ValueError(f"high must be >= low ({lo:g}), got {high!r}")
        middle = (lo + hi) / 2
        super().__init__(middle if math.isfinite(middle) else lo / 2 + hi / 2)
        self.low, self.high = lo, hi

    @property
    def variance(self) -> float:
        half = (self.high - self.low) / _SQRT12  # (high − low)²/12 without overflow
        return half * half

    @property
    def minimum(self) -> float:
        return self.low

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size)

    def to_spec(self) -> dict[str, Any]:
        return {"dist": "uniform", "low": self.low, "high": self.high}


class ErlangLatency(_Builtin):
    """Erlang-k with the given ``mean``: the sum of k exponential phases, cv = 1/sqrt(k)."""

    def __init__(self, mean: float, k: int = 2) -> None:
        super().__init__(_number(mean, "mean", minimum=0.0, strict=True))
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be an integer >= 1, got {k!r}")
        self.k = int(k)

    @property
    def variance(self) -> float:
        k = _as_float(self.k)
        if k < math.inf:
            return self._mean * (self._mean / k)
        # k from JSON may be 10**400: mean²/k in logs (math.log takes ints of any size)
        return math.exp(min(2.0 * math.log(self._mean) - math.log(self.k), 710.0))

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        if self.k > _CONSTANT_K:  # the spread, mean/√k, is below a float's resolution
            return np.full(size, self._mean)
        return rng.gamma(self.k, self._mean / self.k, size)

    def to_spec(self) -> dict[str, Any]:
        return {"dist": "erlang", "k": self.k, "mean": self._mean}


class LogNormalLatency(_Builtin):
    """Log-normal with the given ``mean`` and coefficient of variation ``cv``."""

    def __init__(self, mean: float, cv: float = 1.0) -> None:
        super().__init__(_number(mean, "mean", minimum=0.0, strict=True))
        self._cv = _number(cv, "cv", minimum=0.0)
        if self._cv > 1e6:
            raise ValueError(f"cv must be <= 1e6, got {cv!r}")
        self._sigma = math.sqrt(math.log1p(self._cv**2))
        self._mu = math.log(self._mean) - self._sigma**2 / 2

    @property
    def cv(self) -> float:
        return self._cv

    @property
    def variance(self) -> float:
        sd = self._cv * self._mean
        return sd * sd  # inf where it overflows, never an OverflowError

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.lognormal(self._mu, self._sigma, size)

    def to_spec(self) -> dict[str, Any]:
        return {"dist": "lognormal", "mean": self._mean, "cv": self._cv}


class ParetoLatency(_Builtin):
    """Pareto (type I) with the given ``mean`` and tail index ``alpha`` > 1: heavy-tailed.

    The variance is infinite for alpha <= 2.
    """

    def __init__(self, mean: float, alpha: float = 2.5) -> None:
        super().__init__(_number(mean, "mean", minimum=0.0, strict=True))
        self.alpha = _number(alpha, "alpha", minimum=1.0, strict=True)
        self.scale = self._mean * ((self.alpha - 1) / self.alpha)  # no overflow for huge alpha

    @property
    def variance(self) -> float:
        a = self.alpha
        if a <= 2:
            return math.inf
        # scale²·a/((a−1)²(a−2)) = mean²/(a(a−2)), in factors that cannot overflow early
        return (self._mean / a) * (self._mean / (a - 2))

    @property
    def minimum(self) -> float:
        return self.scale

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return (rng.pareto(self.alpha, size) + 1.0) * self.scale

    def to_spec(self) -> dict[str, Any]:
        return {"dist": "pareto", "mean": self._mean, "alpha": self.alpha}


class EmpiricalLatency(_Builtin):
    """Draws uniformly from the observed ``values`` (seconds), e.g. measured latencies."""

    def __init__(self, values: Sequence[float]) -> None:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) == 0:
            raise ValueError(f"values must be a non-empty list of numbers, got {values!r}")
        data = [_number(v, f"values[{i}]", minimum=0.0) for i, v in enumerate(values)]
        self._values = np.asarray(data, dtype=float)
        top = max(data)
        # scaled by the largest value, so that the mean of values near 1e308 is finite
        super().__init__(top * (sum(x / top for x in data) / len(data)) if top > 0 else 0.0)

    @property
    def values(self) -> list[float]:
        return self._values.tolist()  # type: ignore[no-any-return]

    @property
    def variance(self) -> float:
        top = float(self._values.max())
        if top == 0:
            return 0.0
        spread = float((self._values / top).std())
        return (spread * top) * (spread * top)  # Python floats: inf on overflow, no warning

    @property
    def minimum(self) -> float:
        return float(self._values.min())

    def _draw(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.choice(self._values, size)

    def to_spec(self) -> dict[str, Any]:
        return {"dist": "empirical", "values": self.values}


_KINDS: dict[str, tuple[type[LatencyDistribution], tuple[str, ...], tuple[str, ...]]] = {
    # dist name: (class, required fields, optional fields)
    "constant": (ConstantLatency, ("value",), ()),
    "exponential": (ExponentialLatency, ("mean",), ()),
    "uniform": (UniformLatency, ("low", "high"), ()),
    "erlang": (ErlangLatency, ("k", "mean"), ()),
    "lognormal": (LogNormalLatency, ("mean", "cv"), ()),
    "pareto": (ParetoLatency, ("mean", "alpha"), ()),
    "empirical": (EmpiricalLatency, ("values",), ()),
}

#: The distribution names a model file may use, with their fields.
DISTRIBUTION_FIELDS: dict[str, tuple[str, ...]] = {name: req for name, (_, req, _) in _KINDS.items()}


def from_spec(spec: Any) -> LatencyDistribution:
    """Build a distribution from a model-file object such as ``{"dist": "exponential", "mean": 1}``.

    Raises ValueError/TypeError naming the field at fault.
    """
    if not isinstance(spec, dict):
        raise TypeError(f'a distribution must be an object like {{"dist": "exponential", "mean": 1}}, got {spec!r}')
    name = spec.get("dist")
    if name not in _KINDS:
        raise ValueError(f"dist must be one of {', '.join(_KINDS)}, got {name!r}")
    cls, required, optional = _KINDS[name]
    missing = [f for f in required if f not in spec]
    if missing:
        raise ValueError(f"{name} distribution needs {', '.join(missing)}")
    unknown = sorted(set(spec) - {"dist", *required, *optional})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} for a {name} distribution")
    try:
        return cls(**{k: spec[k] for k in (*required, *optional) if k in spec})
    except OverflowError:
        raise ValueError(f"{name} distribution parameters are too large") from None
