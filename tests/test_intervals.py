"""intervals: the BCa interval of a mean, its fallbacks, coverage, and the seed planner."""

from __future__ import annotations

import numpy as np
import pytest

from ugc_lib.intervals import interval, mean_ci, seeds_needed


def test_interval_contains_mean_is_reproducible_and_uses_bca():
    values = [0.91, 0.95, 0.97, 0.88, 0.99, 0.93, 0.90, 0.96]
    iv = interval(values)
    assert iv.mean == pytest.approx(np.mean(values))
    assert iv.low < iv.mean < iv.high
    assert iv.method == "BCa" and iv.n == len(values)
    assert interval(values) == iv
    assert mean_ci(values) == (iv.mean, iv.low, iv.high)


def test_wider_level_gives_a_wider_interval():
    values = np.random.default_rng(0).normal(0.8, 0.05, 40)
    i90, i95 = interval(values, 0.90), interval(values, 0.95)
    assert i95.low < i90.low and i90.high < i95.high


def test_constant_single_and_empty_inputs():
    assert interval([0.7] * 7)[:3] == pytest.approx((0.7, 0.7, 0.7))
    assert interval([0.7] * 7).method == "exact"
    assert interval([0.3])[:3] == (0.3, 0.3, 0.3)
    assert interval([0.5, float("nan"), 0.5])[:3] == pytest.approx((0.5, 0.5, 0.5))
    assert all(np.isnan(x) for x in interval([])[:3])


def test_invalid_level_names_the_field():
    with pytest.raises(ValueError, match="level"):
        interval([1.0, 2.0], level=95)


def test_coverage_near_nominal_at_fifty_seeds():
    """Share of 95% intervals covering the true mean, over 200 normal samples of n = 50."""
    rng = np.random.default_rng(1)
    hits = sum(iv.low <= 0.0 <= iv.high for iv in (interval(rng.normal(0, 1, 50))
                                                   for _ in range(200)))
    assert 0.88 <= hits / 200 <= 0.99


def test_seeds_needed_grows_with_spread_and_keeps_the_floor():
    assert seeds_needed(0.001, 0.01) == 50
    big = seeds_needed(0.05, 0.01)
    assert big > 50
    assert seeds_needed(0.10, 0.01) > big
    with pytest.raises(ValueError, match="margin"):
        seeds_needed(0.1, 0.0)
