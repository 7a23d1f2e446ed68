"""The results store: rows, files, lookups before the cache, recording, resuming (the code hash: test_cache_key.py)."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest

import ugc_lib.runner as runner
from conftest import make_tiny
from ugc_lib import store

PACKAGE = Path(store.__file__).parent


@pytest.fixture(scope="module")
def tiny_records():
    cfg = make_tiny()
    with store.reads_disabled():
        return cfg, [runner.run(cfg, s, cache_dir=None) for s in (0, 1)]


@pytest.fixture
def store_dir(tmp_path, monkeypatch):
    """An empty store folder as UGC_STORE_DIR; strict and recording off."""
    folder = tmp_path / "store"
    monkeypatch.setenv("UGC_STORE_DIR", str(folder))
    monkeypatch.delenv("UGC_STORE_STRICT", raising=False)
    monkeypatch.delenv("UGC_STORE_RECORD", raising=False)
    return folder


def _lines(records):
    return [store.dumps(store.to_row(r)) for r in records]


def no_compute(monkeypatch):
    monkeypatch.setattr(runner, "run_experiment",
                        lambda *a, **k: pytest.fail("computed a run the store holds"))


# ---------------------------------------------------------------- rows

def test_float32_keeps_short_decimals_and_rounds_the_rest():
    assert store.float32(0.985) == 0.985
    assert store.float32(2 / 3) == 0.6666667
    assert store.float32({"a": [1 / 3, 2, None, "x"], "b": True}) == {"a": [0.33333334, 2, None, "x"],
                                                                       "b": True}


def test_row_holds_the_record_without_wall_times_and_reads_back(tiny_records):
    cfg, (rec, _) = tiny_records
    row = store.to_row(rec)
    assert list(row) == list(store.ROW_FIELDS)
    assert row["key"] == store.config_hash(cfg) and row["seed"] == 0
    assert row["version"] == store.library_version() == runner.library_version()
    back = store.to_record(json.loads(store.dumps(row)))
    assert "timings" not in back and set(back) == set(rec) - {"timings"}
    assert back["config"] == json.loads(json.dumps(rec["config"]))  # as a cached record: lists
    assert back["clusters"] == rec["clusters"]
    assert back["final"] == {h["split"]: h for h in back["history"] if h["epoch"] == 3}
    for got, want in zip(back["history"], rec["history"]):
        assert got.keys() == want.keys()
        assert all(abs(got[k] - want[k]) <= 1e-7 * max(1.0, abs(want[k])) for k in want
                   if isinstance(want[k], float))
    # the row form is a fixed point: storing a read-back record gives the same line
    assert store.dumps(store.to_row(back)) == store.dumps(row)


def test_a_record_without_a_row_field_is_refused():
    with pytest.raises(ValueError, match="clusters"):
        store.to_row({"config": {}, "seed": 0, "history": [], "recovery": {},
                      "objective_state": {}, "version": "v"})


# ---------------------------------------------------------------- files

def test_study_file_is_sorted_deduplicated_and_byte_stable(tiny_records, store_dir):
    lines = _lines(tiny_records[1])
    a = store.write_study("s1", [lines[1], lines[0], lines[1]])
    first = a.read_bytes()
    store.write_study("s1", [lines[0], lines[1]])
    assert a.read_bytes() == first
    header, rows = store.read_study(a)
    assert header == {"format": store.FORMAT, "study": "s1", "rows": 2}
    assert rows == sorted(lines, key=lambda line: store._head(line)[:2])
    assert store.studies() == {"s1": a}


def test_two_different_rows_for_one_pair_are_refused(tiny_records, store_dir):
    line = _lines(tiny_records[1])[0]
    with pytest.raises(ValueError, match="two different rows"):
        store.write_study("s1", [line, line.replace('"acc":', '"acc" :', 1)])


def test_interrupted_write_keeps_the_previous_file(tiny_records, store_dir, monkeypatch):
    lines = _lines(tiny_records[1])
    path = store.write_study("s1", lines[:1])
    before = path.read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(store.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        store.write_study("s1", lines)
    assert path.read_bytes() == before
    assert sorted(p.name for p in store_dir.iterdir()) == [path.name]  # no temp file left


def test_bad_header_or_count_is_an_error_naming_it(tmp_path):
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"format": "other"}\n'))
    with pytest.raises(ValueError, match="format 'other'"):
        store.read_study(path)
    path.write_bytes(gzip.compress(json.dumps({"format": store.FORMAT, "rows": 3}).encode()))
    with pytest.raises(ValueError, match="says 3 rows"):
        store.read_study(path)
    with pytest.raises(ValueError, match="study='a/b'"):
        store.study_path("a/b")


# ---------------------------------------------------------------- lookups

def test_sweep_and_run_read_the_store_before_cache_and_compute(tiny_records, store_dir,
                                                               monkeypatch):
    cfg, recs = tiny_records
    store.write_study("s1", _lines(recs))
    no_compute(monkeypatch)
    got = runner.sweep([cfg], [0, 1], jobs=2)
    assert [store.dumps(store.to_row(r)) for r in got] == _lines(recs)
    assert runner.run(cfg, 1)["history"] == got[1]["history"]


def test_missing_or_stale_rows_fall_back_to_compute_or_fail_when_strict(tiny_records, store_dir,
                                                                        monkeypatch):
    cfg, recs = tiny_records
    stale = _lines(recs)[0].replace(store.library_version(), "0.0.0+000000000000")
    store.write_study("s1", [stale])
    assert store.lookup(cfg, 0) is None  # stale: not used
    assert store.lookup(cfg, 1) is None  # missing
    monkeypatch.setenv("UGC_STORE_STRICT", "1")
    with pytest.raises(store.StoreError, match="stale.*--only s1"):
        runner.run(cfg, 0)
    with pytest.raises(store.StoreError, match="no row.*seed=1"):
        runner.sweep([cfg], [1])


def test_one_pair_stored_differently_in_two_studies_is_an_error(tiny_records, store_dir):
    cfg, recs = tiny_records
    line = _lines(recs)[0]
    store.write_study("s1", [line])
    store.write_study("s2", [line.replace('"acc":', '"acc" :', 1)])
    with pytest.raises(store.StoreError, match="differs between s1 and s2"):
        store.lookup(cfg, 0)


def test_recording_bypasses_the_store_and_logs_the_rows_it_returns(tiny_records, store_dir,
                                                                    tmp_path, monkeypatch):
    cfg, recs = tiny_records
    store.write_study("s1", [_lines(recs)[0].replace('"acc":0.', '"acc":0.0', 1)])  # wrong row
    log = tmp_path / "rows.log"
    monkeypatch.setenv("UGC_STORE_RECORD", str(log))
    got = runner.sweep([cfg], [0, 1], jobs=1, cache_dir=tmp_path / "cache")
    again = runner.run(cfg, 0, cache_dir=tmp_path / "cache")  # asked twice: cached, logged twice
    assert got[0] == again == store.to_record(json.loads(_lines(recs)[0]))
    lines, seconds = store.read_log(log)
    assert lines == _lines(recs) + _lines(recs)[:1] and seconds > 0
    path = store.commit_log("s2", log)
    assert store.read_lines(path) == _lines(recs)
    assert store.run_seconds() == {"s2": round(seconds, 1)}
    assert store.commit_log("s2", tmp_path / "no-such.log") is None and not path.exists()
    assert store.run_seconds() == {}


def test_stale_rows_are_counted_per_study(tiny_records, store_dir):
    lines = _lines(tiny_records[1])
    store.write_study("s1", lines)
    assert store.stale_rows() == {}
    store.write_study("s2", [lines[0].replace(store.library_version(), "0.0.0+000000000000")])
    assert store.stale_rows() == {"s2": 1}


def test_a_killed_recording_resumes_from_its_work_cache(tiny_records, store_dir, monkeypatch):
    """run_all.py --recompute's environment: the work cache outlives a killed attempt, the
    rows log does not; the next attempt computes only what the first did not finish."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("run_all", PACKAGE.parent / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    cfg, recs = tiny_records
    for key, value in run_all.store_environment("s1", "recompute").items():
        monkeypatch.setenv(key, value)
    runner.sweep([cfg], [0])  # the first attempt finishes seed 0, then is killed
    env = run_all.store_environment("s1", "recompute")
    assert not Path(env["UGC_STORE_RECORD"]).exists()  # the log restarts
    calls = []
    real = runner.run_experiment
    monkeypatch.setattr(runner, "run_experiment",
                        lambda c, s, **k: calls.append(s) or real(c, s, **k))
    runner.sweep([cfg], [0, 1])
    assert calls == [1]
    path = store.commit_log("s1", env["UGC_STORE_RECORD"])
    assert store.read_lines(path) == _lines(recs)
