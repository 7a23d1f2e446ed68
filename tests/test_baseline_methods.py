"""The baselines of issue 13: faithful JTT, balancing, DFR, GRASP-style groups, and what the
batched runner does with each."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

import ugc_lib.train as train
from tests.conftest import make_tiny
from ugc_lib.batched import batch_problem, run_batched
from ugc_lib.config import ObjectiveConfig
from ugc_lib.data import make_dataset
from ugc_lib.grasp import DensityClustering, centre_normalise
from ugc_lib.grouping import infer_groups
from ugc_lib.models import build_model
from ugc_lib.objectives import (DFR, InverseFrequency, JTTRetrain, METHODS, OracleSubsample,
                                Subsample, balanced_subsample)
from ugc_lib.train import fit, halve, run_experiment

JTT_RETRAIN = {"objective.method": "jtt_retrain", "grouping.source": "errors"}
NEW = {  # a tiny config of each new method or source
    "jtt_retrain": JTT_RETRAIN,
    "class_subsample": {"objective.method": "subsample", "grouping.source": "labels"},
    "class_reweight": {"objective.method": "inverse_freq", "grouping.source": "labels"},
    "oracle_subsample": {"objective.method": "oracle_subsample"},
    "dfr": {"objective.method": "dfr", "objective.dfr_l1": 1e-3},
    "grasp_drop": {"grouping.source": "grasp", "grouping.pca_dim": None},
    "grasp_group": {"grouping.source": "grasp", "grouping.pca_dim": None,
                    "grouping.dbscan_noise": "group"},
}


def _canon(record: dict) -> str:
    return json.dumps({k: v for k, v in record.items() if k != "timings"}, sort_keys=True)


def _state(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# ---------------------------------------------------------------- JTT


def test_jtt_final_model_starts_from_a_fresh_initialisation():
    cfg = make_tiny(**JTT_RETRAIN, **{"train.warmup_epochs": 2})
    ds = make_dataset(cfg.data, 3)
    created = []

    def make_model(d, c):
        model = build_model(cfg.model, d)
        created.append(_state(model))
        return model

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        out = fit(cfg, ds.train.X, ds.train.y, 3, make_model=make_model, progress=False)
    torch.manual_seed(3)
    fresh = _state(build_model(cfg.model, ds.train.X.shape[1]))
    assert len(created) == 2  # the identification model, then the final model
    assert _equal(created[1], fresh) and _equal(created[0], fresh)
    assert not _equal(_state(out["model"]), fresh)  # and the final model did train


def test_jtt_upsamples_the_error_rows_lambda_times():
    groups = np.array([0, 1, 0, 1, 1, 0])
    obj = JTTRetrain(groups, np.zeros((6, 2)), ObjectiveConfig(method="jtt_retrain",
                                                               jtt_lambda_up=5.0))
    counts = np.bincount(obj.rows(), minlength=6)
    np.testing.assert_array_equal(counts, [1, 5, 1, 5, 5, 1])
    assert obj.state() == {"n_errors": 3, "n_rows": 18}
    loss = obj.batch_loss(torch.tensor([1.0, 3.0]), torch.tensor([1, 1]))
    assert loss.item() == 2.0  # plain mean: the data are upsampled, the loss is not weighted


def test_jtt_robust_epochs_run_over_the_upsampled_rows(monkeypatch):
    seen = []
    real = train.train_epoch

    def spy(model, opt, X, y, objective, batch_size, generator, rows=None, penalty=None):
        seen.append(None if rows is None else np.asarray(rows).copy())
        return real(model, opt, X, y, objective, batch_size, generator, rows, penalty)

    monkeypatch.setattr(train, "train_epoch", spy)
    cfg = make_tiny(**JTT_RETRAIN, **{"objective.jtt_lambda_up": 4.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        record = run_experiment(cfg, 0, progress=False)
    warm, robust = seen[:1], seen[1:]
    assert warm == [None] and len(robust) == cfg.train.robust_epochs
    errors = np.flatnonzero(np.asarray(record["clusters"]) == 1)
    counts = np.bincount(robust[0], minlength=cfg.data.split_sizes[0])
    assert (counts[errors] == 4).all() and (np.delete(counts, errors) == 1).all()


def test_jtt_config_checks_name_the_field():
    with pytest.raises(ValueError, match=r"objective\.jtt_lambda_up"):
        make_tiny(**JTT_RETRAIN, **{"objective.jtt_lambda_up": 2.5})
    with pytest.raises(ValueError, match=r"grouping\.source"):
        make_tiny(**{"objective.method": "jtt_retrain"})


# ---------------------------------------------------------------- balancing


def test_class_balanced_weights_give_every_class_the_same_total():
    cfg = make_tiny(**NEW["class_reweight"])
    ds = make_dataset(cfg.data, 0)
    model = build_model(cfg.model, ds.train.X.shape[1])
    _, labels, _ = infer_groups(cfg.grouping, model, ds.train.X, ds.train.y, 0)
    np.testing.assert_array_equal(labels, ds.train.y)  # the "labels" source: groups = y
    w = InverseFrequency(labels, ds.train.X, cfg.objective).weights.double().numpy()
    totals = np.bincount(ds.train.y, weights=w)
    np.testing.assert_allclose(totals, totals[0], rtol=1e-6)
    assert np.bincount(ds.train.y).min() < np.bincount(ds.train.y).max()  # classes unequal


@pytest.mark.parametrize("cls", [Subsample, OracleSubsample])
def test_balanced_subsample_has_equal_group_counts(cls):
    rng = np.random.default_rng(0)
    groups = rng.choice(4, size=400, p=[0.47, 0.03, 0.05, 0.45])
    obj = cls(groups, np.zeros((400, 1)), ObjectiveConfig(), seed=7)
    counts = np.bincount(groups[obj.subsample], minlength=4)
    assert (counts == np.bincount(groups).min()).all()
    assert len(np.unique(obj.subsample)) == len(obj.subsample)  # no row twice in the draw
    rows = obj.rows()
    assert len(rows) >= 400 and (np.bincount(groups[rows], minlength=4) == counts[0] * obj.repeats).all()
    again = balanced_subsample(groups, np.random.default_rng(7))
    np.testing.assert_array_equal(again, obj.subsample)  # drawn from the seed alone


# ---------------------------------------------------------------- DFR


def test_dfr_retrains_only_the_last_layer_on_half_of_validation():
    cfg = make_tiny(**NEW["dfr"])
    ds = make_dataset(cfg.data, 1)
    fit_half, select_half = halve(ds.val, 1)
    assert len(fit_half) + len(select_half) == len(ds.val)
    for g in np.unique(ds.val.groups):  # every group divided evenly between the halves
        assert abs(int((fit_half.groups == g).sum()) - int((select_half.groups == g).sum())) <= 1
    states = {}

    def keep(epoch, phase, model):
        states[(epoch, phase)] = _state(model)

    with pytest.raises(ValueError, match="holdout"):
        fit(cfg, ds.train.X, ds.train.y, 1, true_groups=ds.train.groups, progress=False)
    fit(cfg, ds.train.X, ds.train.y, 1, true_groups=ds.train.groups, on_epoch=keep,
        progress=False, holdout=(fit_half.X, fit_half.y, fit_half.groups))
    base = states[(cfg.train.warmup_epochs, "warmup")]
    final = states[(cfg.train.total_epochs, "robust")]
    for name in base:
        same = torch.equal(base[name], final[name])
        assert same != name.startswith("final."), name
    assert DFR.uses_true_groups and DFR.last_layer_only


def test_dfr_record_reports_the_held_out_half_as_val():
    cfg = make_tiny(**NEW["dfr"])
    record = run_experiment(cfg, 1, progress=False)
    _, select_half = halve(make_dataset(cfg.data, 1).val, 1)
    val = record["final"]["val"]
    assert set(val) >= {"wca", "wga_ys"}
    assert abs(val["acc"] * len(select_half) - round(val["acc"] * len(select_half))) < 1e-9


# ---------------------------------------------------------------- GRASP-style


def _blobs(rng, centres, n):
    return np.concatenate([c + 0.05 * rng.standard_normal((n, len(c))) for c in centres])


def test_density_clustering_finds_the_blobs_of_each_class_and_marks_noise():
    rng = np.random.default_rng(0)
    a = _blobs(rng, [np.array([1.0, 0, 0]), np.array([0, 1.0, 0])], 60)  # class 0
    b = _blobs(rng, [np.array([0, 0, 1.0]), np.array([1.0, 1.0, 0])], 60)  # class 1
    G = np.concatenate([a, b, [[-5.0, 3.0, -7.0]]])  # one far point in class 1
    y = np.array([0] * 120 + [1] * 121)
    drop = DensityClustering(eps=0.2, min_samples=5).fit(G, y)
    assert drop.labels_[-1] == -1 and drop.n_noise_ == 1
    assert set(drop.labels_[:120]) == {0, 1} and set(drop.labels_[120:-1]) == {2, 3}
    assert len(set(drop.labels_[:60])) == 1 and drop.labels_[0] != drop.labels_[60]
    group = DensityClustering(eps=0.2, min_samples=5, noise="group").fit(G, y)
    assert group.labels_[-1] == 4 and (group.labels_[:-1] == drop.labels_[:-1]).all()
    rule = DensityClustering().fit(G, y)  # GRASP's silhouette rule picks eps itself
    assert set(rule.labels_[:120]) == {0, 1} and rule.params_[0]["eps"] is not None


def test_centre_normalise_gives_unit_rows_around_the_mean():
    Z = centre_normalise(np.random.default_rng(1).standard_normal((30, 4)) + 5)
    np.testing.assert_allclose(np.linalg.norm(Z, axis=1), 1.0)


def test_grasp_noise_rows_are_left_out_of_the_robust_phase(monkeypatch):
    seen = []
    real = train.train_epoch

    def spy(model, opt, X, y, objective, batch_size, generator, rows=None, penalty=None):
        seen.append(rows)
        return real(model, opt, X, y, objective, batch_size, generator, rows, penalty)

    monkeypatch.setattr(train, "train_epoch", spy)
    cfg = make_tiny(**NEW["grasp_drop"])  # its silhouette rule leaves noise here
    record = run_experiment(cfg, 0, progress=False)
    clusters = np.asarray(record["clusters"])
    noise_id = clusters.max()
    n_noise = record["objective_state"]["n_outliers_dropped"]
    assert n_noise == int((clusters == noise_id).sum()) > 0
    assert set(seen[1]) == set(np.flatnonzero(clusters != noise_id))


# ---------------------------------------------------------------- the batched runner


@pytest.mark.parametrize("name", list(NEW))
def test_batched_runner_equals_single_runs_or_says_why_not(name):
    cfg = make_tiny(**NEW[name])
    problem = batch_problem(cfg)
    if problem is not None:
        assert "objective.method" in problem or "grouping.source" in problem
        with pytest.raises(ValueError, match="cannot batch"):
            run_batched(cfg, [0, 1], progress=False)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        batch = run_batched(cfg, [0, 1], progress=False)
        singles = [run_experiment(cfg, s, progress=False) for s in (0, 1)]
    assert [_canon(r) for r in batch] == [_canon(r) for r in singles]


def test_every_method_is_either_stacked_or_declined_by_name():
    declined = {m for m in METHODS if METHODS[m].resamples or METHODS[m].retrains_model
                or METHODS[m].last_layer_only}
    assert declined == {"jtt_retrain", "subsample", "oracle_subsample", "dfr"}
    for m in declined:
        upd = NEW.get(m) or {"objective.method": m, "grouping.source": "labels"}
        assert m in batch_problem(make_tiny(**upd))


def test_grasp_on_a_class_larger_than_the_dense_limit_labels_every_row_by_its_core_points(monkeypatch):
    import ugc_lib.grasp as grasp
    rng = np.random.default_rng(0)
    centres = np.eye(8)[:2] * 5.0  # two directions: two clusters after centring
    G = np.concatenate([centres[0] + rng.normal(0, 0.3, (150, 8)),
                        centres[1] + rng.normal(0, 0.3, (150, 8))])
    blob = np.repeat([0, 1], 150)
    y = np.zeros(300, dtype=int)
    monkeypatch.setattr(grasp, "DENSE_LIMIT", 60)
    for eps in (None, 0.3):
        model = DensityClustering(eps=eps, min_samples=5).fit(G, y)
        labels = model.labels_
        assert model.params_[0]["subsample"] == 60
        kept = labels >= 0
        assert kept.mean() > 0.9  # rows outside the subsample are labelled, not all noise
        # the two blobs end in two different clusters, each blob in one
        assert len(set(labels[kept & (blob == 0)])) == 1
        assert len(set(labels[kept & (blob == 1)])) == 1
        assert set(labels[kept & (blob == 0)]) != set(labels[kept & (blob == 1)])
