"""Small statistics helpers (no scipy): confidence intervals across replications."""

from __future__ import annotations

import math
from collections.abc import Sequence

# Two-sided 95 % Student t quantiles t(0.975, df) for df = 1..30.
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)


def t975(df: int) -> float:
    """The 97.5 % quantile of Student's t with ``df`` degrees of freedom (ValueError if df < 1)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df <= len(_T975):
        return _T975[df - 1]
    z = 1.959964
    # Cornish–Fisher expansion: accurate to ~1e-4 for df > 30.
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and half-width of the 95 % t confidence interval of ``values`` (NaNs skipped).

    The half-width is NaN with fewer than two finite values. Values near the float limit
    give a finite mean and, where the spread itself does not fit a float, an infinite
    half-width; never an OverflowError.
    """
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return math.nan, math.nan
    scale = max(abs(x) for x in xs)
    if scale == 0:
        return 0.0, (0.0 if n > 1 else math.nan)
    scaled = [x / scale for x in xs]  # in [-1, 1]: neither the sum nor the squares overflow
    middle = sum(scaled) / n
    mean = middle * scale
    if n < 2:
        return mean, math.nan
    var = sum((x - middle) * (x - middle) for x in scaled) / (n - 1)
    return mean, t975(n - 1) * math.sqrt(var / n) * scale
