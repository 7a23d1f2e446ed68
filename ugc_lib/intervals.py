"""Confidence intervals of a mean over seeds: BCa bootstrap (scipy), Student-t as its fallback.

One function for every interval the suite prints or judges: mean_ci(values, level).
Paired statistics are intervals of the seed-by-seed differences (the caller takes the
differences, so resampling seeds keeps the pairs together). Every interval is
deterministic: the bootstrap's generator is seeded.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from scipy import stats

CI_METHOD = "BCa bootstrap (scipy.stats.bootstrap, 9999 resamples, seeded); Student-t where BCa is undefined"
N_RESAMPLES = 9_999
RANDOM_STATE = 0


class Interval(NamedTuple):
    mean: float
    low: float
    high: float
    method: str  # "BCa", "t" (fallback) or "exact" (all values equal, or one value)
    n: int


def interval(values, level: float = 0.95) -> Interval:
    """The mean of the finite values and its two-sided `level` confidence interval."""
    if not 0 < level < 1:
        raise ValueError(f"level={level!r} is invalid: allowed a number in (0, 1)")
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    n = len(v)
    if n == 0:
        nan = float("nan")
        return Interval(nan, nan, nan, "none", 0)
    mean = float(v.mean())
    if n == 1 or np.ptp(v) == 0:
        return Interval(mean, mean, mean, "exact", n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degenerate jackknife: handled by the fallback
        res = stats.bootstrap((v,), np.mean, confidence_level=level, method="BCa",
                              n_resamples=N_RESAMPLES, vectorized=True,
                              random_state=np.random.default_rng(RANDOM_STATE))
    low, high = float(res.confidence_interval.low), float(res.confidence_interval.high)
    if np.isfinite(low) and np.isfinite(high):
        return Interval(mean, min(low, mean), max(high, mean), "BCa", n)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / np.sqrt(n))
    return Interval(mean, mean - half, mean + half, "t", n)


def mean_ci(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of interval(values, level): the form tables and figures print."""
    iv = interval(values, level)
    return iv.mean, iv.low, iv.high


def seeds_needed(sd: float, margin: float, level: float = 0.95, floor: int = 50,
                 cap: int = 10_000) -> int:
    """Smallest n >= floor whose t-interval half-width t(n-1) * sd / sqrt(n) is below margin
    (a normal-theory planning figure; cap when the margin cannot be reached)."""
    if margin <= 0:
        raise ValueError(f"margin={margin!r} is invalid: allowed a number > 0")
    if not np.isfinite(sd) or sd <= 0:
        return floor
    n = max(floor, 2)
    while n < cap and stats.t.ppf(0.5 + level / 2, n - 1) * sd / np.sqrt(n) >= margin:
        n += 1
    return n
