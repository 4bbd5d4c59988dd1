"""The sums behind Erlang B, Erlang C and M/M/c/K, in log space.

Every function here takes any number of servers ``c`` (a Python int, up to 10^9 and beyond)
and any offered load ``a`` = λ/μ in Erlangs, and answers in bounded time and memory without
overflow: terms are summed relative to the largest one, only over the range where they
matter (about ±7·√a around it), in numpy chunks of fixed size. For c = a = 10^9 that is
about 4·10^5 terms, a few milliseconds.

The central quantity is T(c, a) = Σ_{k=0..c} (c! / k!) · a^(k−c), which is 1 / B(c, a):
the stationary weights of M/M/c/c measured in units of the weight of state c.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["log_erlang_sums", "log_erlang_b", "log_erlang_c", "loss_queue", "as_float"]

#: Terms below e^-46 (1e-20) of the largest are dropped; the tail after that point decays
#: at least geometrically, so what is dropped stays far below double precision.
_CUTOFF = 46.0
#: numpy chunk size: memory is bounded by a few arrays of this many floats.
_CHUNK = 1 << 15
#: Terms summed one by one on each side of the peak. Beyond this (only when a > ~3·10^9
#: with as many servers, past any model's limits) the terms vary so slowly that blocks of
#: them are summed by the trapezoid rule with an Euler–Maclaurin end correction.
_MAX_EXACT = 1 << 19
#: Ranges of at most this many terms are summed in plain Python floats.
_SMALL = 256
#: Queues longer than this are summed as if they were this long: ρ^(2^62) is 0 for any ρ
#: below 1 that a float can tell apart from 1.
_MAX_ROOM = float(1 << 62)


def as_float(n: Any) -> float:
    """``n`` (an int or float, numpy's too) as a float, ``inf`` when it is an int too large
    for one (10**400)."""
    try:
        return float(n)
    except OverflowError:
        return math.inf


def _log_ratio(i: np.ndarray, a: float) -> np.ndarray:
    """ln(i / a), elementwise, accurate when i is close to a and safe for tiny a."""
    if a < 1.0:
        return np.log(i) - math.log(a)
    d = (i - a) / a  # exact numerator when i and a are close: log1p keeps every digit
    if np.ndim(d) == 0 or float(np.min(d)) >= -0.5:
        return np.log1p(np.maximum(d, -0.5))
    return np.where(d >= -0.5, np.log1p(np.maximum(d, -0.5)), np.log(i / a))


def _theta(x: np.ndarray | float) -> np.ndarray | float:
    """Stirling's remainder: ln Γ(x+1) − ((x + ½)·ln x − x + ½·ln 2π), for x >= 16."""
    inv = 1.0 / x
    inv2 = inv * inv
    return inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))


def _block(m: np.ndarray | float, h: np.ndarray | float, a: float) -> np.ndarray | float:
    """Σ_{i=m+1..m+h} ln(i / a) for m >= 16, with an absolute error of about h·1e-16.

    Written as differences of Stirling's formula that never subtract two large numbers.
    """
    top = np.asarray(m) + h
    return (
        (np.asarray(m) + 0.5) * np.log1p(h / np.asarray(m))
        + h * _log_ratio(top, a)
        - h
        + _theta(top)
        - _theta(np.asarray(m))
    )


def _log_rise(m: int, n: int, a: float) -> float:
    """Σ_{i=m+1..n} ln(i / a) for 0 <= m < n."""
    span = n - m
    if span <= 4096 or m < 16 <= span <= _MAX_EXACT:
        total = 0.0
        for start in range(m + 1, n + 1, _CHUNK):
            i = np.arange(start, min(start + _CHUNK, n + 1), dtype=float)
            total += float(_log_ratio(i, a).sum())
        return total
    if m < 16:  # m small and n − m huge: the sum is astronomically large, precision moot
        return math.lgamma(as_float(n) + 1.0) - math.lgamma(m + 1.0) - as_float(span) * math.log(a)
    return float(_block(float(m), as_float(span), a))


def _side(peak: int, bound: int, a: float) -> tuple[float, float, bool]:
    """Σ exp(s_k) over the k between ``peak`` (excluded) and ``bound`` (included), where
    s_k = ln(u_k / u_peak); stops where the terms fall below e^-_CUTOFF.

    Returns (the sum, the term at ``bound`` if the sum reached it else 0, reached).
    """
    step = 1 if bound > peak else -1
    span = abs(bound - peak)
    if span <= _SMALL:
        return _small_side(peak, bound, a)
    total, level, done = 0.0, 0.0, 0
    while done < span and done < _MAX_EXACT and level > -_CUTOFF:
        n = min(_CHUNK, span - done)
        j = np.arange(done + 1, done + n + 1, dtype=float)
        if step > 0:  # k = peak + j: going up divides by (k / a)
            incr = -_log_ratio(float(peak) + j, a)
        else:  # k = peak − j: going down multiplies by ((k + 1) / a)
            incr = _log_ratio(float(peak) - j + 1.0, a)
        s = level + np.cumsum(incr)
        total += float(np.exp(s).sum())
        level = float(s[-1])
        done += n
    if done < span and level > -_CUTOFF:
        return _coarse_side(peak, bound, a, done, level, total)
    reached = done == span
    return total, (math.exp(level) if reached else 0.0), reached


def _small_side(peak: int, bound: int, a: float) -> tuple[float, float, bool]:
    """:func:`_side` for a short range, one term at a time in plain floats (numpy's
    per-call cost dominates below a few hundred terms)."""
    total, level = 0.0, 0.0
    near = a >= 1.0
    log_a = math.log(a)
    k = peak
    step = 1 if bound > peak else -1
    while k != bound and level > -_CUTOFF:
        k += step
        i = float(k) if step > 0 else float(k + 1)
        if near and i > a / 2:
            r = math.log1p((i - a) / a)
        else:
            r = math.log(i) - log_a
        level += -r if step > 0 else r
        total += math.exp(level)
    reached = k == bound
    return total, (math.exp(level) if reached else 0.0), reached


def _coarse_side(peak: int, bound: int, a: float, done: int, level: float, total: float) -> tuple[float, float, bool]:
    """Continue :func:`_side` past _MAX_EXACT terms with blocks of h terms (trapezoid rule).

    Only reached when a > ~3·10^9 and c is at least about as large (more servers than a
    model may have): the terms then change by a relative 1/√a per step, so the trapezoid
    error, about (h/√a)^2 / 12, and the rounding of the block sums keep the result within
    about 1e-9 of exact.
    """
    step = 1 if bound > peak else -1
    span = abs(bound - peak)
    width = math.sqrt(2.0 * _CUTOFF) * math.sqrt(a) * 2.0
    h = max(2, math.ceil(width / (8 * _CHUNK)))
    first = math.exp(level)
    trapezoid = 0.0
    prev = first
    while done < span and level > -_CUTOFF:
        n = min(_CHUNK, (span - done) // h)
        if n == 0:
            sizes = np.array([float(span - done)])
        else:
            sizes = np.full(n, float(h))
        starts = float(done) + np.concatenate(([0.0], np.cumsum(sizes)[:-1]))
        if step > 0:  # terms divide by the block's ratios
            incr = -_block(float(peak) + starts, sizes, a)
        else:  # k goes from peak − start down to peak − start − size: i in (k, peak − start]
            incr = _block(float(peak) - starts - sizes, sizes, a)
        s = level + np.cumsum(incr)
        f = np.exp(s)
        before = np.concatenate(([prev], f[:-1]))
        trapezoid += float((sizes * (before + f)).sum()) / 2.0
        prev = float(f[-1])
        level = float(s[-1])
        done += int(sizes.sum())
    reached = done >= span
    last = prev if reached else 0.0
    # Σ_{k=k0+1..k1} f(k) ≈ ∫_{k0}^{k1} f + (f(k1) − f(k0)) / 2 (Euler–Maclaurin)
    return total + trapezoid + (prev - first) / 2.0, last, reached


def log_erlang_sums(c: int, a: float) -> tuple[float, float]:
    """(ln T, ln(T − 1)) for T = Σ_{k=0..c} (c!/k!)·a^(k−c) = 1 / B(c, a).

    ``c`` >= 1 is an int of any size, ``a`` >= 0 a float (``inf`` allowed). T − 1 is the
    weight of the states with fewer than c busy servers, summed without subtracting.
    """
    if a == 0.0 or as_float(c) == math.inf:
        return math.inf, math.inf
    if a == math.inf:
        return 0.0, -math.inf
    peak = c if a >= c else int(a)  # the largest term: u_k grows while k < a
    lift = 0.0 if peak == c else _log_rise(peak, c, a)  # ln(u_peak / u_c)
    below, _, _ = _side(peak, 0, a) if peak > 0 else (0.0, 0.0, True)
    if peak == c:
        total = 1.0 + below
        return math.log(total), _ln(below)
    above, last, reached = _side(peak, c, a)
    total = 1.0 + below + above
    rest = 1.0 + below + (above - last if reached else above)
    return lift + math.log(total), lift + math.log(rest)


def log_erlang_b(c: int, a: float) -> float:
    """ln B(c, a): the log of the Erlang B blocking probability (``-inf`` when it is 0)."""
    return -log_erlang_sums(c, a)[0]


def log_erlang_c(c: int, a: float) -> float:
    """ln C(c, a) for 0 <= a < c: the log of the Erlang C probability of waiting.

    Uses 1/C = ρ + (1 − ρ)/B with ρ = a/c, so nothing cancels even when ρ is close to 1.
    """
    cf = as_float(c)
    if cf == math.inf or a / cf == 0.0:  # also a denormal a whose ratio to c underflows: C is 0 then
        return -math.inf
    log_t = log_erlang_sums(c, a)[0]
    return -_add(math.log(a / cf), math.log((cf - a) / cf) + log_t)


def _ln(v: float) -> float:
    return math.log(v) if v > 0 else -math.inf


def _add(x: float, y: float) -> float:
    """ln(e^x + e^y) without overflow."""
    hi, lo = (x, y) if x >= y else (y, x)
    if lo == -math.inf:
        return hi
    return hi + math.log1p(math.exp(lo - hi))


def _ln_rho(a: float, c: float) -> float:
    """ln(a / c), accurate when a is close to c and safe for subnormal a."""
    if a > c / 2:
        return math.log1p((a - c) / c)
    return math.log(a) - math.log(c)


def _geometric(y: float, n: float) -> float:
    """Σ_{j=0..n−1} e^{j·y} for y <= 0 and n >= 0 (n may be huge)."""
    if n == 0:
        return 0.0
    if y == 0.0:
        return n
    return math.expm1(max(n * y, -800.0)) / math.expm1(y)


def _geometric_mean(x: float, q: float) -> float:
    """The mean of m on {0..q} with weights e^{m·x} (a truncated geometric law)."""
    if abs(x) * (q + 1.0) < 1e-4:  # series: the closed form cancels here
        return q / 2.0 + x * q * (q + 2.0) / 12.0
    if x > 0:  # mirror image: m → q − m turns x into −x
        return q - _geometric_mean(-x, q)
    far = -(q + 1.0) * x
    tail = 0.0 if far > 700.0 else (q + 1.0) / math.expm1(far)
    return math.exp(x) / -math.expm1(x) - tail  # ρ/(1 − ρ) − (q+1)·ρ^(q+1)/(1 − ρ^(q+1))


def loss_queue(c: int, a: float, room: int) -> tuple[float, float, float, float]:
    """M/M/c/(c + room) with offered load ``a`` = λ/μ (0 < a < inf): (blocking probability,
    admitted fraction 1 − blocking, probability that an admitted request waits, mean number
    waiting Lq).

    The queue states n = c + m carry weights ρ^m (ρ = a/c) relative to state c, summed in
    closed form, with the reference moved to the fullest state when ρ > 1, so that no
    weight overflows and ``room`` = 10^9 (or 10^400) costs nothing.
    """
    log_t, log_low = log_erlang_sums(c, a)  # states 0..c and 0..c−1, in units of state c
    cf = as_float(c)
    if cf == math.inf:
        return 0.0, 1.0, 0.0, 0.0
    if room == 0:
        return math.exp(-log_t), math.exp(log_low - log_t), 0.0, 0.0
    q = min(as_float(room), _MAX_ROOM)
    x = _ln_rho(a, cf)
    if x <= 0.0:  # weights relative to state c
        log_low_ref = log_low
        log_top = max(q * x, -1e300)
        waiting = _geometric(x, q)  # states c .. c + room − 1
    else:  # relative to the fullest state c + room
        log_low_ref = log_low - q * x
        log_top = 0.0
        waiting = math.exp(-x) * _geometric(-x, q)
    log_wait = _ln(waiting)
    log_queue = _add(log_wait, log_top)  # states c .. c + room
    log_z = _add(log_low_ref, log_queue)
    log_admitted = _add(log_low_ref, log_wait)
    p_wait = math.exp(log_wait - log_admitted) if log_admitted > -math.inf else 1.0
    lq = _geometric_mean(x, q) * math.exp(log_queue - log_z)
    return math.exp(log_top - log_z), math.exp(log_admitted - log_z), p_wait, lq
