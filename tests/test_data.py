"""The synthetic spurious-correlation data."""

from __future__ import annotations

import numpy as np
import pytest

from ugc_lib.config import DataConfig
from ugc_lib.data import SPLITS, group_counts, group_id, make_synthetic

SMALL = DataConfig(n_samples=200, split_sizes=(100, 60, 40))


def test_split_sizes():
    ds = make_synthetic(SMALL, seed=0)
    for name, n in zip(SPLITS, SMALL.split_sizes):
        part = ds[name]
        assert len(part) == n
        assert part.X.shape == (n, SMALL.core_dim + 1)
        assert part.y.shape == part.s.shape == (n,)
        assert part.core.shape == (n, SMALL.core_dim)
        assert part.X.dtype == np.float32 and part.y.dtype == np.int64
    with pytest.raises(KeyError):
        ds["holdout"]


def test_same_seed_same_arrays_different_seed_differs():
    a, b, c = (make_synthetic(SMALL, seed) for seed in (3, 3, 4))
    for name in SPLITS:
        for field in ("X", "y", "s", "core"):
            np.testing.assert_array_equal(getattr(a[name], field), getattr(b[name], field))
    assert not np.array_equal(a.train.X, c.train.X)
    assert not np.array_equal(a.test.y, c.test.y)


@pytest.mark.parametrize("s_as_input", [True, False])
def test_columns_and_s_column(s_as_input):
    cfg = DataConfig(n_samples=200, split_sizes=(100, 60, 40), core_dim=3, s_as_input=s_as_input)
    ds = make_synthetic(cfg, seed=1)
    for name in SPLITS:
        part = ds[name]
        assert part.X.shape[1] == (4 if s_as_input else 3) == cfg.input_dim
        np.testing.assert_array_equal(part.X[:, :3], part.core)
        if s_as_input:
            np.testing.assert_array_equal(part.X[:, -1], part.s.astype(np.float32))
        assert set(np.unique(part.s)) <= {0, 1} and set(np.unique(part.y)) <= {0, 1}


def test_train_core_standardised():
    ds = make_synthetic(SMALL, seed=2)
    core = ds.train.core.astype(np.float64)
    np.testing.assert_allclose(core.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(core.std(0), 1.0, atol=1e-4)


def test_no_normalisation_keeps_raw_shift():
    cfg = DataConfig(n_samples=4000, split_sizes=(2000, 1000, 1000), normalize=False,
                     core_shift=2.0)
    ds = make_synthetic(cfg, seed=0)
    core, y = ds.train.core, ds.train.y
    np.testing.assert_allclose(core[y == 0].mean(0), 0.0, atol=0.15)
    np.testing.assert_allclose(core[y == 1].mean(0), 2.0, atol=0.15)


def test_full_correlation_gives_s_equal_y_in_train():
    cfg = DataConfig(n_samples=200, split_sizes=(100, 60, 40), spurious_corr=1.0,
                     spurious_corr_test=0.5)
    ds = make_synthetic(cfg, seed=5)
    np.testing.assert_array_equal(ds.train.s, ds.train.y)
    np.testing.assert_array_equal(ds.val.s, ds.val.y)


def test_zero_correlation_flips_s():
    cfg = DataConfig(n_samples=200, split_sizes=(100, 60, 40), spurious_corr=0.0,
                     spurious_corr_test=0.0)
    ds = make_synthetic(cfg, seed=5)
    for name in SPLITS:
        np.testing.assert_array_equal(ds[name].s, 1 - ds[name].y)


def test_test_correlation_is_separate():
    cfg = DataConfig(n_samples=20000, split_sizes=(10000, 5000, 5000), spurious_corr=0.95,
                     spurious_corr_test=0.5)
    ds = make_synthetic(cfg, seed=0)
    agree = {name: float((ds[name].s == ds[name].y).mean()) for name in SPLITS}
    assert abs(agree["train"] - 0.95) < 0.01
    assert abs(agree["val"] - 0.95) < 0.015
    assert abs(agree["test"] - 0.5) < 0.03
    assert abs(ds.train.y.mean() - 0.5) < 0.02


def test_groups_and_counts():
    ds = make_synthetic(SMALL, seed=0)
    np.testing.assert_array_equal(ds.train.groups, 2 * ds.train.y + ds.train.s)
    np.testing.assert_array_equal(group_id([0, 0, 1, 1], [0, 1, 0, 1]), [0, 1, 2, 3])
    counts = group_counts(ds)
    for name, n in zip(SPLITS, SMALL.split_sizes):
        assert sum(counts[name].values()) == n
