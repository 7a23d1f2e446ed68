"""The committed report: every figure the index names exists, the README table is not
stale, and the ledger covers every claim under both presets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ugc_lib import claims
from ugc_lib.report import (README_BLOCKS, README_END, README_START, index_figures, readme_block,
                            readme_markers, readme_table)

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
CLAIM_IDS = [f"C{i}" for i in range(1, 15) if i not in (5, 6)] + ["C5a", "C5b", "C5c", "C6a",
                                                                    "C6b", "C6c"]


def test_every_figure_in_the_index_exists_and_is_not_empty():
    html = (REPORTS / "index.html").read_text()
    figures = index_figures(html)
    assert len(figures) >= 6, "the index must show Fig. 1-6"
    for rel in figures:
        path = REPORTS / rel
        assert path.is_file() and path.stat().st_size > 0, f"missing or empty figure {rel}"
        assert path.with_suffix(".svg").is_file(), f"no SVG beside {rel}"


def test_every_paper_figure_is_in_the_index():
    figures = {Path(f).stem for f in index_figures((REPORTS / "index.html").read_text())}
    for n in range(1, 7):
        assert any(f.startswith(f"fig{n}_") for f in figures), f"Fig. {n} missing from the index"


def test_readme_claims_table_is_current():
    text = (ROOT / "README.md").read_text()
    between = text.split(README_START, 1)[1].split(README_END, 1)[0].strip()
    assert between == readme_table(REPORTS).strip(), (
        "README claims table is stale: rerun `make reproduce` (run_all.py rewrites it)")


@pytest.mark.parametrize("name", [n for n in README_BLOCKS if n != "claims-table"])
def test_readme_generated_sections_are_current(name):
    start, end = readme_markers(name)
    text = (ROOT / "README.md").read_text()
    assert start in text and end in text, f"README lacks the markers of {name!r}"
    between = text.split(start, 1)[1].split(end, 1)[0].strip()
    assert between == readme_block(name, REPORTS).strip(), (
        f"README section {name!r} is stale: rerun `make reproduce` (run_all.py rewrites it)")


def test_claims_json_covers_every_claim_under_both_presets():
    rows = json.loads((REPORTS / "claims.json").read_text())["claims"]
    required = {"id", "preset", "definition", "paper_value", "mean", "ci_low", "ci_high",
                "n_seeds", "verdict", "rule", "margin", "ci_method", "parts"}
    for row in rows:
        assert required <= set(row), f"claims.json row lacks {required - set(row)}"
        assert row["verdict"] in claims.VERDICTS
    for cid in CLAIM_IDS:
        presets = {r["preset"] for r in rows if r["id"] == cid}
        assert presets & {"paper_text", "both"} and presets & {"paper_code", "both"}, (
            f"{cid} lacks a verdict under both presets: {presets}")


@pytest.mark.parametrize("cid", ["C2", "C5a", "C7", "C10"])
def test_wga_claims_have_both_definitions(cid):
    rows = json.loads((REPORTS / "claims.json").read_text())["claims"]
    for preset in ("paper_text", "paper_code"):
        defs = {r["definition"] for r in rows if r["id"] == cid and r["preset"] == preset}
        assert defs == {"s", "ys"}, f"{cid}/{preset}: definitions {defs}"


def test_committed_notebooks_match_their_sources():
    """Every notebook source has an executed notebook whose code cells equal the source's."""
    import nbformat

    from ugc_lib.report import parse_percent

    for src in sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py")):
        nb_path = ROOT / "notebooks" / f"{src.stem}.ipynb"
        assert nb_path.is_file(), f"{nb_path.name} not built: run `make reproduce`"
        built = [c.source for c in parse_percent(src.read_text()).cells]
        committed = [c.source for c in nbformat.read(nb_path, as_version=4).cells]
        assert built == committed, f"{nb_path.name} is stale against {src.name}"
        assert re.search(r"\d", json.dumps([c.get("outputs") for c in
                                             nbformat.read(nb_path, as_version=4).cells]))


def test_claims_json_was_computed_with_the_current_rules():
    """claims.json records the sha256 of claims.py: editing a rule without recomputing the
    ledger (make reproduce) fails here."""
    meta = json.loads((REPORTS / "claims.json").read_text())
    assert meta.get("rules_sha256") == claims.rules_sha256(), (
        "reports/claims.json is stale against ugc_lib/claims.py: rerun `make reproduce`")


def test_claims_json_meets_the_seed_floors_and_is_stable():
    meta = json.loads((REPORTS / "claims.json").read_text())
    assert meta["n_seeds"]["synthetic"] >= claims.MIN_SEEDS
    assert meta["n_seeds"]["cnn (C12)"] >= claims.MIN_SEEDS_CNN
    assert "BCa" in meta["ci_method"]
    st = meta["stability"]
    assert st["decisive_flips_left"] == 0  # every flip is settled as inconclusive by the rule
    assert len(st["settled_as_inconclusive"]) == st["decisive_flips"]
    rows = {(r["id"], r["preset"], r["definition"]): r["verdict"] for r in meta["claims"]}
    for key in st["settled_as_inconclusive"]:
        cid, preset, definition = key.split(" ")
        assert rows[(cid, preset, definition)] == "inconclusive"
    assert any(a["claims"] == "C1" for a in meta["amendments"])
    rows = meta["claims"]
    for row in rows:
        if row["id"] not in ("C3 (3 seeds)", "C11", "C13", "C14") and row["mean"] is not None:
            floor = claims.MIN_SEEDS_CNN if row["id"] == "C12" else claims.MIN_SEEDS
            assert row["n_seeds"] >= floor, (row["id"], row["n_seeds"])
        equivalence = [p for p in row["parts"] if p["kind"] == "equivalence"]
        assert all(p["margin"] > 0 for p in equivalence), row["id"]
