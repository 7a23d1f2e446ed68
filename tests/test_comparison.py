"""Notebook 13's tuned comparison: rows per (dataset, method, seed, protocol), table, gaps, ranks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ugc_lib import comparison, tuning
from ugc_lib.config import PAPER_TEXT
from ugc_lib.studies import BASELINES, GAP, NO_INFERRED_GROUPS

METHODS = ("ERM", "UGC global (paper)", "random groups (UGC sizes)", "oracle Group DRO")
DATASET = "synthetic (paper_text)"


def _records(seeds=(0, 1, 2), methods=METHODS):
    """Every method's reduced grid with hand-made histories: epoch 1 warm-up, 2-3 robust.
    Validation and test scores are distinct per (method, point, seed, epoch)."""
    out = []
    for mi, name in enumerate(methods):
        for gi, cfg in enumerate(tuning.method_grid(name, PAPER_TEXT, reduced=True)):
            for seed in seeds:
                history = []
                for epoch in (1, 2, 3):
                    base = 0.1 * mi + 0.01 * gi + 0.001 * seed + 0.0001 * epoch
                    for split, shift in (("val", 0.0), ("test", 0.5)):
                        history.append({"epoch": epoch, "phase": "warmup" if epoch == 1 else "robust",
                                        "split": split, "acc": base + shift, "wga_ys": base + shift,
                                        "wga_s": base, "wca": 1 - base + shift})
                out.append({"seed": seed, "config": cfg.to_dict(), "history": history,
                            "recovery": {"minority_f1": 0.2 + 0.01 * gi}})
    return out


def test_one_row_per_method_seed_and_protocol_with_the_chosen_models_test_numbers():
    frame = comparison.selection_frame({DATASET: _records()})
    assert len(frame) == len(METHODS) * 3 * 2
    assert set(frame["method"]) == set(METHODS)
    group = frame[(frame["protocol"] == "group_wga") & (frame["method"] == "ERM")]
    # validation WGA grows with the grid index and the epoch: the last point, epoch 3
    last = tuning.grid_size("ERM", reduced=True) - 1
    assert set(group["grid_index"]) == {last} and set(group["epoch"]) == {3}
    expected = 0.01 * last + 0.001 * group["seed"] + 0.0003 + 0.5
    assert np.allclose(group["wga_ys"], expected)
    # worst-class accuracy falls as the index grows: the first point
    free = frame[(frame["protocol"] == "worst_class") & (frame["method"] == "ERM")]
    assert set(free["grid_index"]) == {0}


def test_minority_f1_is_blank_for_methods_that_infer_no_groups():
    frame = comparison.selection_frame({DATASET: _records()})
    for name, part in frame.groupby("method"):
        assert part["rec_minority_f1"].isna().all() == (name in NO_INFERRED_GROUPS)


def test_the_table_has_every_dataset_protocol_method_cell_and_na_where_blank():
    frame = comparison.selection_frame({DATASET: _records()})
    table = comparison.comparison_table(frame)
    assert len(table) == len(METHODS) * 2
    assert list(table.columns[:3]) == ["dataset", "protocol", "method"]
    erm = table[table["method"] == "ERM"]
    assert (erm[comparison.LABELS["rec_minority_f1"]] == comparison.NA).all()
    assert (table["n_seeds"] == 3).all()
    assert list(table["method"][:len(METHODS)]) == [m for m in BASELINES if m in METHODS]


def test_paired_gaps_are_seed_by_seed_differences():
    frame = comparison.selection_frame({DATASET: _records()})
    gaps = comparison.paired_gaps(frame, [("UGC global (paper)", "ERM"), ("nope", "ERM")])
    assert len(gaps) == 2  # one per protocol; an absent method gives no row
    row = gaps[gaps["protocol"] == "group_wga"].iloc[0]
    assert row["gap"] == f"UGC global (paper){GAP}ERM"
    a = frame[(frame["protocol"] == "group_wga") & (frame["method"] == "UGC global (paper)")]
    b = frame[(frame["protocol"] == "group_wga") & (frame["method"] == "ERM")]
    diff = (a.set_index("seed")["wga_ys"] - b.set_index("seed")["wga_ys"]).mean()
    assert row["test WGA(y,s)"].startswith(f"{diff:.3f} [")


def test_first_ranked_is_the_highest_mean_and_says_whether_the_seeds_separate_it():
    frame = comparison.selection_frame({DATASET: _records()})
    ranks = comparison.first_ranked(frame)
    group = ranks[ranks["protocol"] == "group_wga"].iloc[0]
    means = frame[frame["protocol"] == "group_wga"].groupby("method")["wga_ys"].mean()
    assert group["first"] == means.idxmax() and "first's mean" in ranks
    assert group["second"] == means.drop(means.idxmax()).idxmax()
    assert group["separated"]  # the oracle's rows sit 0.1 above the next on every seed
    tied = frame.copy()
    tied.loc[tied["method"] == "oracle Group DRO", "wga_ys"] = \
        tied.loc[tied["method"] == "random groups (UGC sizes)", "wga_ys"].to_numpy()
    assert not comparison.first_ranked(tied)["separated"].any()


def test_chosen_points_name_the_tuned_value():
    records = _records()
    frame = comparison.selection_frame({DATASET: records})
    chosen = comparison.chosen_points(frame, {DATASET: records})
    ugc = chosen[(chosen["method"] == "UGC global (paper)") & (chosen["protocol"] == "group_wga")]
    assert ugc["most chosen point"].iloc[0] == "k=4"  # the last point of its reduced grid
    assert ugc["chosen for"].iloc[0] == "3 of 3 seeds"


def test_dataset_configs_are_every_methods_grid_and_bad_names_fail():
    name = "COMPAS (s input)"
    configs = comparison.dataset_configs(name)
    assert len(configs) == len(comparison.REAL_METHODS) * tuning.REDUCED_POINTS
    assert {tuning.method_of({"config": c.to_dict()}) for c in configs} == set(comparison.REAL_METHODS)
    synthetic = comparison.dataset_configs(DATASET)
    assert len(synthetic) == len(BASELINES) * tuning.GRID_POINTS
    with pytest.raises(ValueError, match="dataset="):
        comparison.dataset_configs("MNIST")
    with pytest.raises(ValueError, match="dataset="):
        comparison.selection_frame({"MNIST": _records()})


def test_selection_frame_ignores_test_numbers_when_choosing():
    records = _records()
    clean = comparison.selection_frame({DATASET: records})
    for r in records:
        for h in r["history"]:
            if h["split"] == "test":
                h["wga_ys"] = h["wca"] = h["acc"] = float(np.random.default_rng(0).random())
    again = comparison.selection_frame({DATASET: records})
    pd.testing.assert_series_equal(clean["grid_index"], again["grid_index"])
    pd.testing.assert_series_equal(clean["epoch"], again["epoch"])
