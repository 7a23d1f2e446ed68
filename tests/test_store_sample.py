"""The sampled recomputation: rows drawn from the commit hash, recomputed from scratch, equal
to the stored rows. Minutes, not seconds: `make test` runs it, `make unit` leaves it out."""

from __future__ import annotations

import os

import pytest

from ugc_lib import audit, store, testmode


@pytest.mark.recompute
def test_a_sample_of_every_study_recomputes_exactly(capsys):
    stored = audit.load(store.DEFAULT_DIR)
    assert stored.by_study, "the store is empty: run `python run_all.py --recompute`"
    commit, budget = audit.commit_id(), audit.budget_seconds()
    pairs = audit.plan(stored, commit, budget)
    missed = [s for s, own in stored.by_study.items() if not set(own) & set(pairs)]
    assert not missed, f"studies without a sampled row: {missed}"
    recent = audit.recent_commits(20)
    with capsys.disabled():
        print(f"\nsampled recomputation: {len(pairs)} of {stored.n_rows} stored runs "
              f"({len(stored.by_study)} studies, about {sum(map(stored.cost, pairs)):.0f} s of runs, "
              f"budget {budget:.0f} s), drawn from commit {commit[:12]}; the samples of the last "
              f"{len(recent)} commits cover {audit.coverage(stored, recent, budget):.1%} of the store")
    tolerant = os.environ.get(testmode.MODE_ENV) == "tolerant"
    notes: list[str] = []
    problems = audit.check(stored, pairs, jobs=min(2, os.cpu_count() or 1), tolerant=tolerant,
                           notes=notes)
    with capsys.disabled():
        if tolerant:
            print(f"tolerant comparison (another platform): {len(notes)} CNN row(s) moved, "
                  "reported not failed (ugc_lib/audit.py says why)")
        for note in notes:
            print(f"  moved: {note}")
    assert not problems, "stored rows differ from their recomputation:\n" + "\n".join(problems)


@pytest.mark.recompute
def test_a_sample_of_the_stored_checks_recomputes_exactly(capsys):
    from ugc_lib import diagnostics, stored_checks  # noqa: F401  (registers C14's check)

    files = stored_checks.files(store.DEFAULT_DIR)
    assert files, "no stored checks: run `python run_all.py --recompute --only 04 12`"
    sample = audit.plan_checks(store.DEFAULT_DIR, audit.commit_id())
    assert {study for study, _ in sample} == set(files), "a checks file without a sampled entry"
    with capsys.disabled():
        print(f"\nstored checks recomputed: {len(sample)} of "
              f"{sum(len(stored_checks.read_entries(p)) for p in files.values())} entries "
              f"({len(files)} files)")
    problems = audit.check_entries(sample)
    assert not problems, "stored checks differ from their recomputation:\n" + "\n".join(problems)
