"""Stored checks (stored_checks.py): recorded while recomputing, read while rendering, strict
misses and stale entries named, a tampered answer caught by the sampled recomputation."""

from __future__ import annotations

import json

import pytest

from conftest import make_tiny
from ugc_lib import audit, diagnostics, store, stored_checks

CALLS: list[tuple] = []


@stored_checks.stored("fixture_check")
def fixture_check(cfg, seed, offset=0):
    """A cheap check for these tests: a number that depends on the seed and the config."""
    CALLS.append((cfg.name, seed, offset))
    return {"value": seed + offset, "k": cfg.grouping.k, "flag": seed % 2 == 0}


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    folder = tmp_path / "store"
    folder.mkdir()
    monkeypatch.setenv("UGC_STORE_DIR", str(folder))
    monkeypatch.delenv("UGC_STORE_STRICT", raising=False)
    monkeypatch.delenv("UGC_STORE_RECORD", raising=False)
    CALLS.clear()
    return folder


def _record(folder, monkeypatch, study, calls):
    """Record `calls` [(cfg, seed, kwargs)] as run_all --recompute would, then commit."""
    log = folder / ".work" / study / "rows.log"
    log.parent.mkdir(parents=True)
    monkeypatch.setenv("UGC_STORE_RECORD", str(log))
    values = [fixture_check(cfg, seed, **kw) for cfg, seed, kw in calls]
    monkeypatch.delenv("UGC_STORE_RECORD")
    return values, stored_checks.commit_log(study, log, folder)


def test_recorded_answers_are_read_back_without_computing(store_dir, monkeypatch):
    cfg = make_tiny()
    values, path = _record(store_dir, monkeypatch, "00_fixture",
                           [(cfg, 0, {}), (cfg, 1, {"offset": 5}), (cfg, 0, {})])
    assert path == store_dir / "00_fixture.checks.json"
    assert values == [{"value": 0, "k": cfg.grouping.k, "flag": True},
                      {"value": 6, "k": cfg.grouping.k, "flag": False},
                      {"value": 0, "k": cfg.grouping.k, "flag": True}]
    assert len(stored_checks.read_entries(path)) == 2  # the repeated call is one entry
    CALLS.clear()
    monkeypatch.setenv("UGC_STORE_STRICT", "1")
    assert fixture_check(cfg, 1, offset=5) == values[1]
    assert fixture_check(cfg, 0) == values[0]
    assert CALLS == []


def test_equal_answers_write_equal_bytes(store_dir, monkeypatch):
    cfg = make_tiny()
    _, path = _record(store_dir, monkeypatch, "00_a", [(cfg, 1, {}), (cfg, 0, {})])
    _, other = _record(store_dir, monkeypatch, "00_b", [(cfg, 0, {}), (cfg, 1, {}), (cfg, 1, {})])
    assert path.read_text().replace("00_a", "00_b") == other.read_text()


def test_strict_miss_and_stale_entry_are_errors_naming_the_fix(store_dir, monkeypatch):
    cfg = make_tiny()
    _, path = _record(store_dir, monkeypatch, "00_fixture", [(cfg, 0, {})])
    monkeypatch.setenv("UGC_STORE_STRICT", "1")
    with pytest.raises(store.StoreError, match="has no entry.*run_all.py --recompute"):
        fixture_check(cfg, 3)
    doc = json.loads(path.read_text())
    doc["entries"][0]["version"] = "0.0+old"
    path.write_text(json.dumps(doc))
    assert stored_checks.stale_entries(store_dir) == {"00_fixture": 1}
    with pytest.raises(store.StoreError, match="stale entry"):
        fixture_check(cfg, 0)
    monkeypatch.setenv("UGC_STORE_STRICT", "0")  # not strict: computed instead
    CALLS.clear()
    assert fixture_check(cfg, 0)["value"] == 0 and len(CALLS) == 1


def test_store_off_computes_and_strict_without_store_fails(monkeypatch):
    monkeypatch.setenv("UGC_STORE_DIR", "off")
    monkeypatch.delenv("UGC_STORE_RECORD", raising=False)
    monkeypatch.delenv("UGC_STORE_STRICT", raising=False)
    assert fixture_check(make_tiny(), 2)["value"] == 2
    monkeypatch.setenv("UGC_STORE_STRICT", "1")
    with pytest.raises(store.StoreError, match="store is off"):
        fixture_check(make_tiny(), 2)


def test_editing_a_check_makes_its_entries_stale(store_dir, monkeypatch):
    cfg = make_tiny()
    _record(store_dir, monkeypatch, "00_fixture", [(cfg, 0, {})])
    assert stored_checks.stale_entries(store_dir) == {}
    monkeypatch.setitem(stored_checks._SOURCES, "fixture_check", "edited")
    assert stored_checks.stale_entries(store_dir) == {"00_fixture": 1}


def test_a_tampered_answer_fails_the_sample_whenever_drawn(store_dir, monkeypatch):
    cfg = make_tiny()
    _, path = _record(store_dir, monkeypatch, "00_fixture", [(cfg, s, {}) for s in range(4)])
    sample = audit.plan_checks(store_dir, "commit-a", extra=10)
    assert len(sample) == 4 and audit.check_entries(sample) == []
    doc = json.loads(path.read_text())
    doc["entries"][2]["value"]["value"] += 1  # one stored number changed
    path.write_text(json.dumps(doc))
    tampered = doc["entries"][2]
    outcomes = set()
    for commit in (f"commit-{i}" for i in range(12)):
        one = audit.plan_checks(store_dir, commit, extra=0)  # one entry per file
        problems = audit.check_entries(one)
        drawn = one[0][1] == tampered
        assert bool(problems) == drawn
        if drawn:
            assert f"seed={tampered['seed']}" in problems[0]
        outcomes.add(drawn)
    assert outcomes == {True, False}, "the commits drew the tampered entry always or never"


def test_c14_check_is_registered_with_its_helper():
    assert stored_checks.CHECKS["c14_check"].__name__ == "c14_check"
    assert diagnostics.c14_check.__wrapped__ is stored_checks.CHECKS["c14_check"]
    assert stored_checks.version("c14_check").startswith(store.library_version() + "+c14_check:")


def test_a_name_registered_twice_is_refused():
    with pytest.raises(ValueError, match="registered twice"):
        stored_checks.stored("fixture_check")(lambda cfg, seed: {})


def test_a_stored_value_keeps_the_checks_key_order(store_dir, monkeypatch):
    cfg = make_tiny()
    _record(store_dir, monkeypatch, "00_fixture", [(cfg, 0, {})])
    monkeypatch.setenv("UGC_STORE_STRICT", "1")
    assert list(fixture_check(cfg, 0)) == ["value", "k", "flag"]
