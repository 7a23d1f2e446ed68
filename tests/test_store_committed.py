"""The committed results store: one study per notebook that asks for runs, well-formed rows,
small, consistent between studies, and current (no row computed by other pipeline code)."""

from __future__ import annotations

import json
from pathlib import Path

from ugc_lib import store

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {p.stem for p in (ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py")}
MAX_BYTES = 30 * 2 ** 20  # the aim for the whole store


def committed() -> dict[str, Path]:
    return store.studies(store.DEFAULT_DIR)


def test_every_study_is_a_notebook_and_holds_rows():
    studies = committed()
    assert studies, f"no study files in {store.DEFAULT_DIR}: run `python run_all.py --recompute`"
    assert set(studies) <= NOTEBOOKS, sorted(set(studies) - NOTEBOOKS)
    assert all(store.read_lines(p) for p in studies.values())


def test_rows_are_sorted_unique_and_keyed_by_their_config():
    for study, path in committed().items():
        lines = store.read_lines(path)
        pairs = [store._head(line)[:2] for line in lines]
        assert pairs == sorted(set(pairs)), f"{study}: rows not sorted by (key, seed) or repeated"
        for line in lines:
            row = json.loads(line)
            assert list(row) == list(store.ROW_FIELDS), study
            assert row["key"] == store.config_hash(row["config"]), f"{study}: key {row['key']}"
            assert store.dumps(row) == line, f"{study}: {row['key']} is not in canonical form"


def test_a_pair_stored_in_two_studies_is_the_same_row():
    conflicts = [(pair, where) for pair, (where, line) in store.index(store.DEFAULT_DIR).items()
                 if line is None]
    assert not conflicts, conflicts[:5]


def test_the_store_is_small():
    total = sum(p.stat().st_size for p in committed().values())
    assert total < MAX_BYTES, f"store is {total / 2 ** 20:.1f} MB (aim: < 30 MB)"


def test_the_store_is_current():
    """Stale: a row whose pipeline version (package version + code hash) is not this code's."""
    stale = store.stale_rows(store.DEFAULT_DIR)
    assert not stale, (f"stale rows (code is {store.library_version()}): {stale}; recompute "
                       f"them: python run_all.py --recompute --only {' '.join(sorted(stale))}")


def test_the_stored_checks_are_current():
    from ugc_lib import diagnostics, stored_checks  # noqa: F401  (registers C14's check)

    stale = stored_checks.stale_entries(store.DEFAULT_DIR)
    assert not stale, (f"stale stored checks: {stale}; recompute them: python run_all.py "
                       f"--recompute --only {' '.join(sorted(stale))}")
