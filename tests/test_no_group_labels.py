"""Paper claim C14: UGC trains "without any group labels".

s stays an input feature (column of X, as in the paper's script), but the group-label
array (Split.s, hence Split.groups) must never be read by the method: scrambling it
must leave the clusters, the trained weights and the predictions bit-identical.
Only the oracle reads true groups.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from ugc_lib.data import SPLITS, Dataset, make_synthetic
from ugc_lib.train import fit, predict, run_experiment

from conftest import make_tiny

METHODS = ["group_dro", "inverse_freq"]


def _scrambled(ds: Dataset, seed: int = 99) -> Dataset:
    rng = np.random.default_rng(seed)
    parts = {}
    for name in SPLITS:
        part = ds[name]
        garbage = rng.integers(0, 2, len(part)).astype(np.int64)
        assert not np.array_equal(garbage, part.s)
        parts[name] = dataclasses.replace(part, s=garbage, X=part.X.copy())
    return Dataset(**parts)


@pytest.fixture(scope="module")
def datasets():
    cfg = make_tiny()
    ds = make_synthetic(cfg.data, seed=0)
    return ds, _scrambled(ds)


def _fit(cfg, split, true_groups):
    out = fit(cfg, split.X, split.y, seed=0, true_groups=true_groups, progress=False)
    model = out["model"]
    pred, loss = predict(model, split.X, split.y, out["device"])
    return out, pred, loss


@pytest.mark.parametrize("method", METHODS)
def test_fit_ignores_group_labels(datasets, method):
    ds, bad = datasets
    assert not np.array_equal(ds.train.groups, bad.train.groups)
    cfg = make_tiny(**{"objective.method": method})
    a, pred_a, loss_a = _fit(cfg, ds.train, None)
    b, pred_b, loss_b = _fit(cfg, bad.train, None)
    # true groups handed over (real or garbage) must be ignored too
    c, pred_c, _ = _fit(cfg, ds.train, bad.train.groups)
    for other, pred in ((b, pred_b), (c, pred_c)):
        np.testing.assert_array_equal(a["clusters"], other["clusters"])
        np.testing.assert_array_equal(a["signatures"], other["signatures"])
        sa, so = a["model"].state_dict(), other["model"].state_dict()
        assert sa.keys() == so.keys()
        for key in sa:
            assert torch.equal(sa[key], so[key]), key
        np.testing.assert_array_equal(pred_a, pred)
        assert a["objective_state"] == other["objective_state"]
    assert loss_a == loss_b
    for name in ("val", "test"):
        pa, _ = predict(a["model"], ds[name].X, ds[name].y, a["device"])
        pb, _ = predict(b["model"], bad[name].X, bad[name].y, b["device"])
        np.testing.assert_array_equal(pa, pb)


@pytest.mark.parametrize("method", METHODS + ["erm", "feature_weight"])
def test_run_experiment_training_ignores_group_labels(datasets, method):
    """Through run_experiment (which hands the true groups to fit): only the metrics change."""
    ds, bad = datasets
    cfg = make_tiny(**{"objective.method": method})
    a = run_experiment(cfg, 0, dataset=ds, progress=False)
    b = run_experiment(cfg, 0, dataset=bad, progress=False)
    assert a["clusters"] == b["clusters"]
    assert a["objective_state"] == b["objective_state"]
    blind = [(h["epoch"], h["split"], h["acc"], h["loss"]) for h in a["history"]]
    assert blind == [(h["epoch"], h["split"], h["acc"], h["loss"]) for h in b["history"]]


def test_oracle_does_read_groups(datasets):
    """Positive control: the same comparison detects a method that reads the groups."""
    ds, bad = datasets
    cfg = make_tiny(**{"objective.method": "oracle_dro"})
    a = run_experiment(cfg, 0, dataset=ds, progress=False)
    b = run_experiment(cfg, 0, dataset=bad, progress=False)
    assert a["objective_state"] != b["objective_state"]


def test_oracle_without_true_groups_raises(datasets):
    ds, _ = datasets
    cfg = make_tiny(**{"objective.method": "oracle_dro"})
    with pytest.raises(ValueError, match="oracle_dro"):
        fit(cfg, ds.train.X, ds.train.y, seed=0, true_groups=None, progress=False)
