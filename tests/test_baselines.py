"""Group-inference baselines: JTT, feature / output clustering, random groups, and the
comparison helpers of notebooks 13-14."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ugc_lib import diagnostics, studies, tables
from ugc_lib.grouping import (ErrorSet, RandomGroups, check_per_class_k, feature_signatures,
                               infer_groups, output_signatures)
from ugc_lib.config import PAPER_CODE, PAPER_TEXT, GroupingConfig, ObjectiveConfig
from ugc_lib.data import make_synthetic
from ugc_lib.gradients import signatures
from ugc_lib.grouping import GradientClustering
from ugc_lib.objectives import JTT
from ugc_lib.train import fit, run_experiment

from conftest import make_tiny


# ---------------------------------------------------------------- JTT


@pytest.mark.parametrize("normalize", [False, True])
def test_jtt_upweights_exactly_the_error_set_by_lambda(normalize):
    errors = np.array([0, 1, 0, 0, 1, 0, 0, 0, 0, 1])
    cfg = ObjectiveConfig(method="jtt", jtt_lambda_up=7.0, normalize_weights=normalize)
    w = JTT(errors, np.zeros((10, 3)), cfg).weights.numpy()
    assert np.allclose(w[errors == 1] / w[errors == 0].mean(), 7.0)
    assert len(np.unique(w[errors == 1])) == 1 and len(np.unique(w[errors == 0])) == 1
    if normalize:
        assert w.mean() == pytest.approx(1.0)
    else:
        np.testing.assert_allclose(w, np.where(errors == 1, 7.0, 1.0))


def test_jtt_empty_error_set_warns_and_trains_as_erm():
    cfg = ObjectiveConfig(method="jtt", jtt_lambda_up=20.0)
    with pytest.warns(RuntimeWarning, match="error set is empty"):
        obj = JTT(np.zeros(8, dtype=np.int64), np.zeros((8, 2)), cfg)
    losses = torch.tensor([0.5, 1.0, 2.0])
    index = torch.tensor([0, 3, 5])
    torch.testing.assert_close(obj.batch_loss(losses, index), losses.mean())
    assert obj.state() == {"n_errors": 0,
                           "warning": "empty error set: JTT fell back to ERM (all weights 1)"}


def test_jtt_run_with_no_training_error_records_the_fallback():
    # core shift 20: the warm-up model classifies every training sample correctly
    cfg = make_tiny(**{"data.core_shift": 20.0, "objective.method": "jtt",
                       "grouping.source": "errors"})
    with pytest.warns(RuntimeWarning, match="error set is empty"):
        record = run_experiment(cfg, seed=0, progress=False)
    assert record["objective_state"]["n_errors"] == 0
    assert "ERM" in record["objective_state"]["warning"]
    assert set(record["clusters"]) == {0}


def test_error_set_marks_the_misclassified_samples():
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    y = np.array([0, 0, 1, 1])
    es = ErrorSet().fit(P, y)
    np.testing.assert_array_equal(es.labels_, [0, 1, 1, 0])
    assert es.n_errors_ == 2
    with pytest.raises(ValueError, match="n_samples"):
        ErrorSet().fit(P[:3], y)


def test_jtt_error_set_is_the_warm_up_models_errors(tiny_cfg):
    cfg = tiny_cfg.with_updates(**{"objective.method": "jtt", "grouping.source": "errors"})
    ds = make_synthetic(cfg.data, 0)
    out = fit(cfg.with_updates(**{"train.robust_epochs": 0}), ds.train.X, ds.train.y, seed=0)
    pred = out["model"](torch.as_tensor(ds.train.X)).argmax(1).numpy()
    np.testing.assert_array_equal(out["clusters"], (pred != ds.train.y).astype(int))


def test_jtt_goes_with_the_error_set_only():
    with pytest.raises(ValueError, match="grouping.source"):
        PAPER_TEXT.with_updates(**{"objective.method": "jtt"})
    with pytest.raises(ValueError, match="objective.method"):
        PAPER_TEXT.with_updates(**{"grouping.source": "errors"})
    with pytest.raises(ValueError, match="objective.jtt_lambda_up"):
        ObjectiveConfig(jtt_lambda_up=0.0)


# ---------------------------------------------------------------- random groups


def test_random_groups_keep_sizes_and_differ_from_the_labels():
    labels = np.array([0] * 30 + [1] * 60 + [2] * 10)
    a = RandomGroups(random_state=3).fit(labels).labels_
    np.testing.assert_array_equal(np.bincount(a), np.bincount(labels))
    assert (a != labels).mean() > 0.2
    np.testing.assert_array_equal(a, RandomGroups(random_state=3).fit(labels).labels_)
    assert not np.array_equal(a, RandomGroups(random_state=4).fit(labels).labels_)


def test_random_groups_within_class_keep_each_class_sizes(rng):
    y = rng.integers(0, 2, 200)
    labels = 2 * y + rng.integers(0, 2, 200)  # per-class labels: class * k + cluster
    a = RandomGroups(random_state=0).fit(labels, y).labels_
    for c in (0, 1):
        np.testing.assert_array_equal(np.bincount(a[y == c], minlength=4),
                                      np.bincount(labels[y == c], minlength=4))
    assert not np.array_equal(a, labels)


def test_random_source_permutes_ugcs_clusters(tiny_cfg):
    ds = make_synthetic(tiny_cfg.data, 0)
    cfg = tiny_cfg.with_updates(**{"train.robust_epochs": 0})
    ugc = fit(cfg, ds.train.X, ds.train.y, seed=0)["clusters"]
    rand = fit(cfg.with_updates(**{"grouping.source": "random"}), ds.train.X, ds.train.y,
               seed=0)["clusters"]
    np.testing.assert_array_equal(np.bincount(rand), np.bincount(ugc))
    assert not np.array_equal(rand, ugc)


# ---------------------------------------------------------------- feature / output clustering


@pytest.mark.parametrize("source,pca_dim", [("features", 5), ("outputs", None)])
def test_feature_and_output_clusters_are_per_class(tiny_cfg, source, pca_dim):
    cfg = tiny_cfg.with_updates(**{"grouping.source": source, "grouping.scope": "per_class",
                                   "grouping.pca_dim": pca_dim, "train.robust_epochs": 0})
    ds = make_synthetic(cfg.data, 1)
    labels = fit(cfg, ds.train.X, ds.train.y, seed=1)["clusters"]
    assert len(np.unique(labels)) == 2 * cfg.grouping.k
    for label in np.unique(labels):
        assert len(np.unique(ds.train.y[labels == label])) == 1, f"label {label} mixes classes"


def test_feature_and_output_signatures(model, batch):
    X, _ = batch
    H = feature_signatures(model, X.numpy())
    P = output_signatures(model, X.numpy())
    assert H.shape == (len(X), model.final.in_features)
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-6)
    with torch.no_grad():
        np.testing.assert_allclose(P, torch.softmax(model(X), 1).numpy(), atol=1e-6)


def test_default_source_is_the_papers_pipeline(tiny_cfg):
    """source="gradients" gives bit-identical signatures and clusters to the direct calls."""
    ds = make_synthetic(tiny_cfg.data, 2)
    model = fit(tiny_cfg.with_updates(**{"train.robust_epochs": 0}), ds.train.X, ds.train.y,
                seed=2)["model"]
    G, labels, _ = infer_groups(tiny_cfg.grouping, model, ds.train.X, ds.train.y, seed=2)
    G0 = signatures(model, ds.train.X, ds.train.y, where=tiny_cfg.grouping.where)
    np.testing.assert_array_equal(G, G0)
    np.testing.assert_array_equal(
        labels, GradientClustering.from_config(tiny_cfg.grouping, 2).fit(G0, ds.train.y).labels_)


# ---------------------------------------------------------------- validation


def test_per_class_k_larger_than_a_class_names_the_field():
    y = np.array([0] * 10 + [1] * 2)
    for source in ("gradients", "features", "outputs", "random"):
        cfg = GroupingConfig(k=3, scope="per_class", source=source, pca_dim=None)
        with pytest.raises(ValueError, match=r"grouping\.k=3.*class 1 has only 2"):
            check_per_class_k(cfg, y)
    check_per_class_k(GroupingConfig(k=3, scope="global"), y)  # global: no per-class limit


def test_unknown_source_names_the_field_and_the_allowed():
    with pytest.raises(ValueError, match=r"grouping\.source='umap'.*gradients"):
        GroupingConfig(source="umap")
    cfg = GroupingConfig()
    object.__setattr__(cfg, "source", "umap")  # bypass the dataclass check
    with pytest.raises(ValueError, match=r"grouping\.source='umap'.*features"):
        infer_groups(cfg, None, np.zeros((4, 2)), np.zeros(4, dtype=int), seed=0)


def test_pca_dim_is_checked_against_the_sources_width():
    with pytest.raises(ValueError, match=r"grouping\.pca_dim"):
        PAPER_TEXT.with_updates(**{"grouping.source": "outputs"})  # 2 softmax columns < 10
    PAPER_TEXT.with_updates(**{"grouping.source": "features"})  # 32 features >= 10
    with pytest.raises(ValueError, match=r"grouping\.pca_dim"):
        PAPER_TEXT.with_updates(**{"grouping.source": "features", "grouping.pca_dim": 33})


# ---------------------------------------------------------------- registry and comparison


@pytest.mark.parametrize("base", [PAPER_TEXT, PAPER_CODE], ids=lambda c: c.name)
def test_baselines_share_the_training_setup_and_are_labelled_back(base):
    configs = studies.baseline_configs(base)
    assert list(configs) == list(studies.BASELINES)
    for name, cfg in configs.items():
        assert (cfg.data, cfg.model, cfg.train) == (base.data, base.model, base.train), name
        assert studies.method_name(cfg.to_dict()) == name
    assert configs["UGC global (paper)"] == base  # the paper's UGC is the preset itself
    for cfg in studies.jtt_sweep(base):
        assert studies.method_name(cfg.to_dict()) == studies.JTT_ABLATION
        assert cfg.train.total_epochs == base.train.total_epochs


def test_sensitivity_grid_keeps_the_test_correlation_equal_to_training():
    configs = studies.sensitivity(PAPER_TEXT)
    n_cells = len(studies.CORE_DIMS) * len(studies.SPURIOUS_CORRS)
    assert len(configs) == n_cells * len(studies.SENSITIVITY_METHODS)
    assert all(c.data.spurious_corr_test == c.data.spurious_corr for c in configs)


def _cells(values: dict[str, list[float]], metric: str = "wga_ys") -> pd.DataFrame:
    rows = [{"data.core_dim": 1, "data.spurious_corr": 0.9, "seed": s, "method": m, metric: v,
             "rec_minority_f1": 0.9}
            for m, vs in values.items() for s, v in enumerate(vs)]
    return pd.DataFrame(rows)


def test_paired_gaps_are_seed_by_seed_differences():
    df = _cells({"A": [0.5, 0.6, 0.7], "oracle Group DRO": [0.4, 0.9, 0.7]})
    gaps = tables.paired_gaps(df, ["A"], "oracle Group DRO")
    np.testing.assert_allclose(gaps.sort_values("seed")["wga_ys"], [0.1, -0.3, 0.0], atol=1e-12)
    assert set(gaps["method"]) == {"A − oracle Group DRO"}


def test_regime_table_tags():
    df = _cells({"UGC": [0.80, 0.81, 0.79, 0.80], "oracle Group DRO": [0.80, 0.82, 0.78, 0.80],
                 "ERM": [0.50, 0.52, 0.49, 0.51]})
    table = tables.regime_table(df, "UGC")
    assert table.loc[1, 0.9] == "C1 C2 +ERM"
    df.loc[df["method"] == "UGC", "wga_ys"] -= 0.5  # now far below both
    df.loc[df["method"] == "UGC", "rec_minority_f1"] = 0.1
    assert tables.regime_table(df, "UGC").loc[1, 0.9] == "-ERM"


def test_reference_rows_floor_and_label_partition(tiny_cfg):
    ref = diagnostics.reference_rows([tiny_cfg, tiny_cfg], seeds=[0, 1])
    assert len(ref) == 4  # duplicates dropped: 2 seeds x 2 references
    one = ref[ref["method"] == studies.ONE_CLUSTER]
    train = make_synthetic(tiny_cfg.data, 0).train
    p = float((train.s != train.y).mean())
    assert one[one["seed"] == 0]["rec_minority_f1"].item() == pytest.approx(2 * p / (1 + p))
    by_y = ref[ref["method"] == studies.Y_ONLY]
    assert (by_y["rec_ari_y"] == 1.0).all()


def test_baseline_table_blanks_recovery_for_methods_without_groups():
    rows = [{"preset": "p", "method": m, "seed": s, "rec_ari_ys": 0.3, "rec_nmi_ys": 0.3,
             "rec_ari_s": 0.1, "rec_minority_f1": 0.2, "acc": 0.9, "wga_s": 0.8, "wga_ys": 0.7}
            for m in ("oracle Group DRO", "UGC global (paper)", "ERM") for s in range(2)]
    table = tables.baseline_table(pd.DataFrame(rows))
    assert list(table["method"]) == ["ERM", "UGC global (paper)", "oracle Group DRO"]
    assert (table.loc[table["method"] != "UGC global (paper)", "ARI vs (y,s)"] == "n/a").all()
    assert table.loc[1, "ARI vs (y,s)"] == "0.300 [0.300, 0.300]"
