"""readings: estimates read back from printed tables, number formatting, comparison words,
and the README generator's error messages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ugc_lib import readings as R
from ugc_lib.intervals import mean_ci as bootstrap_ci
from ugc_lib.tables import summarize


@pytest.fixture
def table() -> pd.DataFrame:
    """A summarize() table: two presets x two learning rates, three seeds each."""
    rows = [{"preset": p, "train.lr": lr, "seed": s, "acc": base + 0.01 * s}
            for p, base in (("paper_text", 0.90), ("paper_code", 0.50))
            for lr in (1e-3, 1e-2) for s in range(3)]
    return summarize(pd.DataFrame(rows), ["preset", "train.lr"], ["acc"])


def test_cell_reads_back_the_printed_estimate(table):
    e = R.cell(table, "accuracy", preset="paper_text", train__lr=1e-2)
    mean, lo, hi = bootstrap_ci([0.90, 0.91, 0.92])
    assert e.ci() == R.fmt_ci(mean, lo, hi) and e.m() == "0.910"
    assert str(e) == e.ci() and e.m(1) == "0.9"


def test_cell_errors_name_the_column_and_the_match(table):
    with pytest.raises(KeyError, match="'nope' not in the table"):
        R.cell(table, "nope", preset="paper_text")
    with pytest.raises(ValueError, match="2 rows match"):
        R.cell(table, "accuracy", preset="paper_text")
    with pytest.raises(ValueError, match="0 rows match"):
        R.cell(table, "accuracy", preset="paper_text", train__lr=0.5)
    with pytest.raises(KeyError, match="'train.x' not in the table"):
        R.rows(table, train__x=1)


def test_na_cells_and_plain_values():
    t = pd.DataFrame({"m": ["a", "b"], "x": ["n/a", "0.5 [0.4, 0.6]"], "n": [3, 4]})
    assert R.cell(t, "x", m="a") is None
    assert R.cell(t, "n", m="b") == 4
    assert R.column(t, "x") == [R.Estimate(0.5, 0.4, 0.6)]
    with pytest.raises(ValueError, match="not of the form"):
        R.parse_estimate("0.5 (0.4-0.6)")


def test_estimate_sides_and_overlap():
    assert R.Estimate(0.1, 0.05, 0.2).side() == "above"
    assert R.Estimate(-0.1, -0.2, -0.05).side() == "below"
    assert R.Estimate(0.0, -0.1, 0.1).side() == "includes"
    assert R.Estimate(0.5, 0.4, 0.6).overlaps(R.Estimate(0.7, 0.6, 0.8))
    assert not R.Estimate(0.5, 0.4, 0.59).overlaps(R.Estimate(0.7, 0.6, 0.8))
    e = R.estimate([1.0, 2.0, np.nan])
    assert e.mean == 1.5


@pytest.mark.parametrize("values, decimals, expected", [
    ([0.1, 0.3, 0.2], 2, "0.10 to 0.30"),
    ([0.4999, 0.5001], 2, "0.50"),
    ([-0.0001, 0.0], 3, "0.000"),
])
def test_span(values, decimals, expected):
    assert R.span(values, decimals) == expected


def test_formatting_helpers():
    assert R.num(-0.0001, 3) == "0.000"  # never "-0.000"
    assert R.pct(0.0127) == "1.3%" and R.pct(0.0127, 2) == "1.27%"
    assert R.pct_span([0.496, 0.524]) == "49.6% to 52.4%"
    assert [R.sci(x) for x in (1e-4, 1e-3, 1e-2, 0.1, 1.0, 0.005)] == ["1e-4", "1e-3", "1e-2", "0.1", "1",
                                                                         "0.005"]
    assert R.words(["a"]) == "a" and R.words(["a", "b", "c"]) == "a, b and c"
    assert R.count_of(10, 10) == "all 10" and R.count_of(2, 2) == "both"
    assert R.count_of(0, 16) == "none of the 16" and R.count_of(3, 16) == "3 of 16"


def test_comparison_words_follow_the_numbers():
    assert R.compare(0.943, 0.941) == "above" and R.compare(0.941, 0.943) == "below"
    assert R.compare(0.9411, 0.9409) == "equal to"  # equal as printed
    assert R.growth(1.16) == "faster than linearly" and R.growth(0.95) == "about linearly"
    assert R.growth(0.37) == "slower than linearly"
    assert R.by_preset({"paper_text": "x", "paper_code": "x"}) == "x for both presets"
    assert R.by_preset({"paper_text": "x", "paper_code": "y"}) == "x for `paper_text` and y for `paper_code`"


def test_results_lookups_name_what_is_missing():
    results = {"13_baselines": {"tables": {"T": {"columns": ["a"], "data": [[1]]}}, "notes": {"k": 2}}}
    assert R.results_table(results, "13_baselines", "T")["a"].tolist() == [1]
    assert R.results_note(results, "13_baselines", "k") == 2
    with pytest.raises(KeyError, match="no results for notebook '06_ablation_lr'"):
        R.results_table(results, "06_ablation_lr", "T")
    with pytest.raises(KeyError, match="saved no table 'U'"):
        R.results_table(results, "13_baselines", "U")
    with pytest.raises(KeyError, match="saved no note 'z'"):
        R.results_note(results, "13_baselines", "z")
