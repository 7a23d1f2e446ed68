"""readme_text: the README's generated sentences follow the numbers they describe (tiny
results fixtures, no notebook run)."""

from __future__ import annotations

import pytest

from ugc_lib import readme_text
from ugc_lib.studies import GAP, NO_INFERRED_GROUPS, ONE_CLUSTER, ORACLE

METHODS = ["ERM", "UGC global (paper)", "GEORGE-style (features)", "random groups (UGC sizes)", ORACLE]


def _est(x: float, half: float = 0.02) -> str:
    return f"{x:.3f} [{x - half:.3f}, {x + half:.3f}]"


def _baseline_results(wga: dict[str, float], gap: float) -> dict:
    """13_baselines results with the given test WGA(y,s) per method (both presets)."""
    rows = []
    for p in readme_text.PRESETS:
        for m in METHODS:
            f1 = "n/a" if m in NO_INFERRED_GROUPS else _est(0.10)
            rows.append([p, m, f1, _est(wga[m])])
        rows.append([p, ONE_CLUSTER, _est(0.098), "n/a"])
    gaps = [[p, f"UGC global (paper){GAP}random groups (UGC sizes)", _est(gap, 0.05)]
            for p in readme_text.PRESETS]
    return {"13_baselines": {
        "tables": {"Group inference compared (test, last epoch)": {
                       "columns": ["preset", "method", "minority F1", "WGA(y,s)"], "data": rows},
                   "Paired gaps in test WGA": {"columns": ["preset", "method", "WGA(y,s)"], "data": gaps}},
        "notes": {"no_inferred_groups": list(NO_INFERRED_GROUPS), "oracle": ORACLE,
                  "one_cluster": ONE_CLUSTER, "random": "random groups (UGC sizes)", "gap": GAP}}}


def test_oracle_on_top_only_when_it_is():
    top = {"ERM": 0.89, "UGC global (paper)": 0.82, "GEORGE-style (features)": 0.90,
           "random groups (UGC sizes)": 0.87, ORACLE: 0.94}
    text = readme_text.baselines(_baseline_results(top, gap=-0.05))
    assert text.count("the oracle, which is handed the groups, is on top (0.940)") == 2
    beaten = dict(top, **{"random groups (UGC sizes)": 0.95})
    text = readme_text.baselines(_baseline_results(beaten, gap=-0.05))
    assert "is on top" not in text
    assert "random groups (UGC sizes) (0.950) reaches or exceeds the oracle's mean (0.940)" in text
    two = dict(beaten, ERM=0.96)
    assert "ERM (0.960) and random groups (UGC sizes) (0.950) reach or exceed" in \
        readme_text.baselines(_baseline_results(two, gap=-0.05))


def test_floor_sentence_counts_the_methods_above_one_cluster():
    text = readme_text.baselines(_baseline_results({m: 0.9 for m in METHODS}, gap=0.0))
    assert "no group-inference method finds the minority groups" in text
    results = _baseline_results({m: 0.9 for m in METHODS}, gap=0.0)
    rows = results["13_baselines"]["tables"]["Group inference compared (test, last epoch)"]["data"]
    for row in rows:
        if row[0] == "paper_code" and row[1] == "GEORGE-style (features)":
            row[2] = _est(0.30)
    text = readme_text.baselines(results)
    assert "finds little of the minority" in text
    assert "1 of 6 (preset, method) pairs are more than 0.05 above it, the highest " \
           "GEORGE-style (features) under `paper_code`" in text


def _tuned_results(first_gap: float, ugc_gap: float) -> dict:
    """13_baselines' Part B tables for one dataset, both protocols."""
    protocols = {"group_wga": "validation WGA(y,s)", "worst_class": "validation worst-class accuracy"}
    ranks = [["D", p, "A", "0.900", "B", "0.800", _est(first_gap), first_gap - 0.02 > 0]
             for p in protocols]
    cols = ["dataset", "protocol", "first", "first's mean", "second", "second's mean",
            "first − second", "separated"]
    gaps = [["D", p, f"UGC global (paper){GAP}{ref}", _est(ugc_gap), 3] for p in protocols
            for ref in ("GRASP-style (gradients, DBSCAN)", "random groups (UGC sizes)")]
    return {"13_baselines": {"tables": {
        "Tuned: datasets": {"columns": ["dataset", "methods", "grid", "seeds", "runs"],
                            "data": [["D", 11, "reduced", 3, 66]]},
        "Tuned: first-ranked": {"columns": cols, "data": ranks},
        "Tuned: first-ranked without group labels": {"columns": cols, "data": ranks},
        "Tuned: UGC paired gaps": {"columns": ["dataset", "protocol", "gap", "test WGA(y,s)", "n_seeds"],
                                   "data": gaps}},
        "notes": {"protocols": protocols, "grid_points": 32, "reduced_grid_points": 2, "gap": GAP}}}


def test_tuned_bullet_follows_the_separation_and_the_gap_signs():
    text = readme_text.tuned_baselines(_tuned_results(first_gap=0.1, ugc_gap=0.1))
    assert "`group_wga`: A (0.900)," in text and "; not separated from" not in text
    assert "(above 0) under `group_wga`" in text and "reduced grid, 3 seeds" in text
    text = readme_text.tuned_baselines(_tuned_results(first_gap=0.0, ugc_gap=-0.1))
    assert "A (0.900; not separated from B)" in text
    assert "(below 0)" in text and "(above 0)" not in text
    assert "(includes 0)" in readme_text.tuned_baselines(_tuned_results(0.0, 0.0))


def test_random_groups_sentence_follows_the_paired_gap():
    wga = {m: 0.9 for m in METHODS}
    assert "train at least as well as" in readme_text.baselines(_baseline_results(wga, gap=0.0))
    assert "train worse than" in readme_text.baselines(_baseline_results(wga, gap=0.2))


def test_missing_results_name_the_notebook():
    with pytest.raises(KeyError, match="13_baselines"):
        readme_text.baselines({})


def _real_results(gap_ugc: float, gap_oracle: float) -> dict:
    """Results of notebooks 15 and 17-19 with one row per shown method and the two gaps."""
    out = {}
    for nb, title, _, where in readme_text.REAL_DATA:
        keys = ["preset"] + (["data.s_as_input"] if "data__s_as_input" in where else [])
        vals = ["paper_text"] + ([True] if "data__s_as_input" in where else [])
        test = [[*vals, m, _est(0.5), 20] for m in readme_text.REAL_SHOWN]
        gaps = [[*vals, "UGC (global) − ERM", _est(gap_ugc)],
                [*vals, "ERM − oracle DRO", _est(gap_oracle)]]
        out[readme_text.NB[nb]] = {"tables": {
            f"{title} test metrics (last epoch)": {"columns": [*keys, "variant", "WGA(y,s)", "n_seeds"],
                                                   "data": test},
            f"{title} paired gaps (test)": {"columns": [*keys, "gap", "WGA(y,s)"], "data": gaps}},
            "verdicts": [{"id": "C12", "preset": "paper_text", "definition": "ys",
                          "verdict": "partly reproduced"}]}  # notebook 17's, before the ledger's rule
    out["12_claims"] = {"verdicts": [{"id": "C12", "preset": "paper_text", "definition": "ys",
                                      "verdict": "not reproduced"}]}
    return out


def test_real_data_bullets_say_which_side_of_zero_each_gap_lies():
    text = readme_text.real_data(_real_results(gap_ugc=0.10, gap_oracle=-0.30))
    assert text.count("UGC (global) − ERM 0.100 [0.080, 0.120] (above 0)") == 4
    assert text.count("ERM − oracle DRO -0.300 [-0.320, -0.280] (below 0)") == 4
    assert "`paper_text` WGA(y,s): not reproduced" in text
    spans = readme_text.real_data(_real_results(gap_ugc=0.0, gap_oracle=0.0))
    assert spans.count("(interval spans 0)") == 8
    assert "s as an input" in text and "20 seeds" in text
