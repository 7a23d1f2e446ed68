"""The real-data tables and readings (notebooks 17-19) on a made-up frame."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ugc_lib import real_report as RR
from ugc_lib.real_studies import REAL_METHODS
from ugc_lib.readings import cell

WGA = {"ERM": 0.5, "UGC (global)": 0.6, "UGC (per class)": 0.8, "input k-means (per class)": 0.5,
       "random groups (UGC sizes)": 0.5, "oracle DRO": 0.8}  # test WGA(y,s) by method


def _frame(n_seeds: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for run, name in enumerate(REAL_METHODS):
        for seed in range(n_seeds):
            noise = 0.01 * rng.standard_normal()
            for split in ("train", "test"):
                rows.append({"run": run, "preset": "paper_text", "variant": name, "seed": seed,
                             "split": split, "epoch": 3, "acc": 0.9, "wga_s": WGA[name] + 0.1,
                             "wga_ys": WGA[name] + noise, **{f"acc_{g}": 0.9 for g in RR.GROUPS},
                             "rec_ari_s": 0.1, "rec_ari_ys": 0.9 if name == "UGC (per class)" else 0.1,
                             "rec_minority_precision": 0.5, "rec_minority_recall": 0.5,
                             "rec_minority_f1": 0.5 + noise, "rec_smallest_cluster_frac": 0.1})
    return pd.DataFrame(rows)


def test_gaps_are_paired_by_seed_and_named_method_minus_reference():
    gaps = RR.gap_table(_frame(), ["preset"])
    d = cell(gaps, "WGA(y,s)", preset="paper_text", gap="UGC (per class) − ERM")
    assert abs(d.mean - 0.3) < 0.02 and d.lo > 0
    assert cell(gaps, "WGA(y,s)", preset="paper_text", gap="ERM − oracle DRO").hi < 0
    assert "ERM − ERM" not in set(gaps["gap"])


def test_recovery_table_lists_only_the_methods_that_infer_groups():
    rec = RR.recovery_table(_frame(), ["preset"])
    assert set(rec["variant"]) == set(REAL_METHODS) - {"ERM", "oracle DRO"}


def test_reading_words_follow_the_intervals():
    final = _frame()
    test, gaps, rec = (RR.test_table(final, ["preset"]), RR.gap_table(final, ["preset"]),
                       RR.recovery_table(final, ["preset"]))
    lines = RR.method_lines(test, gaps, rec, preset="paper_text")
    per_class = next(x for x in lines if x.startswith("- **UGC (per class)**"))
    assert "above ERM" in per_class
    assert "groups in the gradients" in RR.structure_words(rec, preset="paper_text")
    assert "at least 0.2 below" in RR.shortcut_words(test, gaps, preset="paper_text")
