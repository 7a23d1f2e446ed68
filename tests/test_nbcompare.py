"""The tolerant comparer: fails on a changed verdict, word or out-of-tolerance number; passes
numbers moved within tolerance."""

from __future__ import annotations

import base64

import nbformat
import pytest

from ugc_lib import nbcompare
from ugc_lib.nbcompare import TOLERANCES, compare_claims, compare_json, compare_text

ROW = "paper_code  UGC (global)  0.500 [0.472, 0.527]  partly reproduced  k = 2, seed 0: 0.4810"


def test_identical_text_passes_with_zero_deviation():
    out = compare_text(ROW, ROW)
    assert out.failures == [] and out.largest() == {}
    assert {d.kind for d in out.deviations} == {"mean", "bound", "integer", "decimal"}


def test_numbers_moved_within_tolerance_pass():
    moved = ROW.replace("0.500 [0.472, 0.527]", "0.515 [0.490, 0.510]").replace("0.4810", "0.4999")
    out = compare_text(ROW, moved)
    assert out.failures == []
    largest = out.largest()
    assert largest["mean"].size == pytest.approx(0.015)
    assert largest["bound"].size == pytest.approx(0.018)
    assert largest["decimal"].size == pytest.approx(0.0189)


def test_a_wide_interval_allows_its_width():
    # Notebook 15's CNN under another CPU kernel set: the seeds' runs are re-drawn.
    ref = "ERM  0.047 [0.017, 0.081]"                                   # width 0.064
    assert compare_text(ref, "ERM  0.090 [0.060, 0.145]").failures == []  # pooled width 0.0745
    assert compare_text(ref, "ERM  0.150 [0.120, 0.160]").failures       # mean moved 0.103
    assert compare_text(ref, "ERM  0.047 [0.017, 0.230]").failures       # beyond 2 x 0.064


def test_a_bound_cannot_justify_itself_by_widening_the_interval():
    ref = "UGC  0.480 [0.475, 0.490]"                                   # width 0.015
    assert compare_text(ref, "UGC  0.474 [0.440, 0.514]").failures == []  # pooled 0.0445
    assert compare_text(ref, "UGC  0.474 [0.400, 0.490]").failures       # 0.075 > 0.0525


@pytest.mark.parametrize("old, new", [
    ("0.500 [", "0.560 ["),            # a mean beyond the interval's width (0.055)
    ("[0.472,", "[0.520,"),            # a bound beyond the pooled width (0.031)
    ("0.4810", "0.5100"),              # a plain decimal beyond 0.02
    ("k = 2", "k = 3"),                # an integer: exact
])
def test_a_number_beyond_its_tolerance_fails(old, new):
    out = compare_text(ROW, ROW.replace(old, new))
    assert len(out.failures) == 1 and "beyond its tolerance" in out.failures[0]


@pytest.mark.parametrize("old, new", [
    ("partly reproduced", "reproduced"),   # a changed verdict
    ("UGC (global)", "UGC (per class)"),   # a changed word
    ("seed 0:", "seeds 0:"),
    ("0.4810", "nan"),                     # a number became a word
])
def test_a_changed_word_or_verdict_fails(old, new):
    out = compare_text(ROW, ROW.replace(old, new))
    assert len(out.failures) == 1 and "text differs" in out.failures[0]


def test_words_with_digits_and_versions_are_text_not_numbers():
    assert compare_text("C12 on y0s1, torch 2.13.0", "C12 on y0s1, torch 2.13.0").deviations == []
    assert compare_text("C12", "C13").failures
    assert compare_text("torch 2.13.0", "torch 2.13.1").failures


def test_column_padding_may_change_with_a_number_width():
    ref = "  acc     wga\n0  0.99  -0.002\n"
    new = "  acc    wga\n0  0.99  0.001\n"
    assert compare_text(ref, new).failures == []


def test_larger_decimals_have_a_relative_tolerance():
    tol = TOLERANCES["decimal"]
    assert compare_text("loss 100.0", f"loss {100.0 * (1 + tol.rel * 0.9):.3f}").failures == []
    assert compare_text("loss 100.0", f"loss {100.0 * (1 + tol.rel * 1.5):.3f}").failures


def test_every_tolerance_gives_its_reason():
    for kind, tol in TOLERANCES.items():
        assert tol.abs >= 0 and tol.rel >= 0 and len(tol.why) > 40, kind
    with pytest.raises(ValueError, match="unknown number kind 'x'"):
        nbcompare.within("x", 0.0, 0.0)


def _claims(verdict="partly reproduced", mean=0.503, lo=0.478, n=5, rule="rule text"):
    return {"claims": [{"id": "C12", "preset": "paper_code", "definition": "ys", "mean": mean,
                        "ci_low": lo, "ci_high": 0.540, "n_seeds": n, "verdict": verdict,
                        "rule": rule, "detail": {"std": 0.01}}]}


def test_claims_json_verdicts_identical_numbers_within_tolerance():
    assert compare_claims(_claims(), _claims(mean=0.507, lo=0.488)).failures == []
    assert compare_claims(_claims(), _claims(verdict="reproduced")).failures
    assert compare_claims(_claims(), _claims(rule="another rule")).failures
    assert compare_claims(_claims(), _claims(mean=0.60)).failures
    assert compare_claims(_claims(), _claims(n=3)).failures
    missing = {"claims": []}
    assert "entries differ" in compare_claims(_claims(), missing).failures[0]


def test_a_printed_mean_lo_hi_list_is_an_interval():
    # Notebook 12 prints a verdict's detail, where [mean, lo, hi] lists hold intervals.
    ref = "detail={'ugc_beats_erm_frac': 0.2, 'oracle_minus_erm': [0.1376, 0.0146, 0.2982]}"
    moved = "detail={'ugc_beats_erm_frac': 0.2, 'oracle_minus_erm': [0.1298, 0.0146, 0.2717]}"
    out = compare_text(ref, moved)
    assert out.failures == [] and set(out.largest()) == {"mean", "bound"}
    assert compare_text(ref, moved.replace("0.2,", "0.4,")).failures   # a fraction of seeds
    ascending = "lrs [0.001, 0.01, 0.1]"                               # not an interval
    assert compare_text(ascending, "lrs [0.001, 0.01, 0.13]").failures


def test_json_intervals_use_the_interval_tolerance():
    ref = {"detail": {"oracle_minus_erm": [0.1376, 0.015, 0.2982], "seeds": [0.2, 0.4, 0.6]}}
    moved = {"detail": {"oracle_minus_erm": [0.1298, 0.015, 0.2717], "seeds": [0.2, 0.4, 0.6]}}
    out = compare_json(ref, moved)
    assert out.failures == [] and set(out.largest()) == {"mean", "bound"}
    moved["detail"]["seeds"] = [0.2, 0.4, 0.8]   # an ascending list is not an interval
    assert "decimal" in compare_json(ref, moved).failures[0]


def test_json_structure_must_match():
    assert compare_json({"a": [1, 2]}, {"a": [1, 2, 3]}).failures
    assert compare_json({"a": 1}, {"b": 1}).failures
    assert compare_json({"a": True}, {"a": 1}).failures
    assert compare_json({"a": None}, {"a": None}).failures == []
    assert compare_json({"t": ["0.50 [0.47, 0.52]"]}, {"t": ["0.51 [0.46, 0.53]"]}).failures == []


def _png() -> str:
    return base64.b64encode(nbcompare.PNG_SIGNATURE + b"rest of an image").decode()


def _nb(text: str, stream: str = "seed 0: 0.99\n", image: str | None = None):
    nb = nbformat.v4.new_notebook()
    data = {"text/plain": text, "image/png": image or _png()}
    nb.cells = [nbformat.v4.new_markdown_cell("# title"),
                nbformat.v4.new_code_cell("x = 1", outputs=[
                    nbformat.v4.new_output("stream", name="stdout", text=stream[:5]),
                    nbformat.v4.new_output("stream", name="stdout", text=stream[5:]),
                    nbformat.v4.new_output("display_data", data=data)])]
    return nb


SANITIZE = [(r"\d+(\.\d+)?\s?(s|ms)\b", "<TIME>")]


def test_notebooks_compare_cell_by_cell():
    ref = _nb("acc 0.991 [0.988, 0.993] in 1.5 s")
    ok = _nb("acc 0.995 [0.980, 0.999] in 97.1 s", stream="seed 0: 0.98\n")
    assert nbcompare.compare_notebooks(ref, ok, "nb", SANITIZE).failures == []
    worse = _nb("acc 0.995 [0.980, 0.999] in 1.5 s", stream="seed 0: 0.90\n")
    assert nbcompare.compare_notebooks(ref, worse, "nb", SANITIZE).failures
    not_png = _nb("acc 0.991 [0.988, 0.993] in 1.5 s", image=base64.b64encode(b"GIF89a").decode())
    assert "not a PNG" in nbcompare.compare_notebooks(ref, not_png, "nb", SANITIZE).failures[0]


def test_a_missing_output_or_changed_source_fails():
    ref, new = _nb("a"), _nb("a")
    new.cells[1].outputs = new.cells[1].outputs[:2]
    assert "outputs differ in kind" in nbcompare.compare_notebooks(ref, new, "nb").failures[0]
    new = _nb("a")
    new.cells[1].source = "x = 2"
    assert "code cells differ" in nbcompare.compare_notebooks(ref, new, "nb").failures[0]


def test_injected_parameter_cell_is_skipped():
    ref, new = _nb("a"), _nb("a")
    new.cells.insert(1, nbformat.v4.new_code_cell("figures_dir = '/tmp/x'",
                                                  metadata={"tags": ["injected-parameters"]}))
    assert nbcompare.compare_notebooks(ref, new, "nb").failures == []


def test_sanitizers_are_read_from_the_nbval_file(tmp_path):
    cfg = tmp_path / "s.cfg"
    cfg.write_text("[timings]\nregex: \\d+ ms\nreplace: <TIME>\n")
    assert nbcompare.load_sanitizers(cfg) == [(r"\d+ ms", "<TIME>")]


def test_a_verdict_parts_interval_is_judged_by_its_own_width():
    """A part of a rule v2 verdict: its mean and its ci95/ci90 ends may move by the part's
    interval width, its outcome not at all."""
    ref = {"mean": 0.2, "ci95": [0.1, 0.35], "ci90": [0.12, 0.3], "n": 5, "outcome": "holds"}
    moved = {**ref, "mean": 0.21, "ci95": [0.1, 0.3086]}
    assert not nbcompare.compare_json(ref, moved, "p").failures
    assert nbcompare.compare_json(ref, {**ref, "mean": 0.6}, "p").failures
    assert nbcompare.compare_json(ref, {**ref, "outcome": "undecided"}, "p").failures
