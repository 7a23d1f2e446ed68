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
    assert "random groups (UGC sizes) (0.950) reach or exceed the oracle's mean (0.940)" in text


def test_random_groups_sentence_follows_the_paired_gap():
    wga = {m: 0.9 for m in METHODS}
    assert "train at least as well as" in readme_text.baselines(_baseline_results(wga, gap=0.0))
    assert "train worse than" in readme_text.baselines(_baseline_results(wga, gap=0.2))


def test_missing_results_name_the_notebook():
    with pytest.raises(KeyError, match="13_baselines"):
        readme_text.baselines({})


def _digits_results(equal: dict[str, bool]) -> dict:
    variants = {"ERM": 0.0, "UGC (global)": 0.0, "UGC (per class)": 0.09, "oracle DRO": 0.14}
    test = [[p, v, _est(x)] for p in readme_text.PRESETS for v, x in variants.items()]
    groups = [[p, "ERM", _est(1.0, 0), _est(0.0, 0), _est(0.0, 0), _est(1.0, 0)] for p in readme_text.PRESETS]
    rec = [[p, "UGC (per class)", _est(1.0, 0)] for p in readme_text.PRESETS]
    return {"15_colored_digits": {
        "tables": {"Colored-Digits test metrics (last epoch)": {"columns": ["preset", "variant", "WGA(y,s)"],
                                                                "data": test},
                   "Colored-Digits per-group test accuracy": {
                       "columns": ["preset", "variant", "acc_y0s0", "acc_y0s1", "acc_y1s0", "acc_y1s1"],
                       "data": groups},
                   "Colored-Digits pseudo-groups (train)": {"columns": ["preset", "variant", "ARI vs (y,s)"],
                                                            "data": rec}},
        "notes": {"per_class_equals_oracle": equal,
                  "per_class_ari_exact": {p: True for p in readme_text.PRESETS}}}}


def test_per_class_equals_the_oracle_only_where_it_does():
    text = readme_text.colored_digits(_digits_results({"paper_text": True, "paper_code": False}))
    assert "(`paper_text`) it equals the oracle" in text
    assert "(`paper_code`) its test WGA(y,s) is 0.090 against the oracle's 0.140" in text
    both = readme_text.colored_digits(_digits_results({"paper_text": True, "paper_code": True}))
    assert "equals the oracle under both presets" in both
    none = readme_text.colored_digits(_digits_results({"paper_text": False, "paper_code": False}))
    assert "does not equal the oracle" in none
