"""run(): determinism, the record, the on-disk cache, sweeps and the results frame."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import ugc_lib.runner as runner
from ugc_lib import tables
from ugc_lib.config import from_dict
from ugc_lib.runner import cache_key, read_cached, run, sweep, to_frame

# The rest of a record, empty: a fake record must still be a complete cache entry.
EMPTY_PARTS = {"history": [], "final": {}, "clusters": [], "recovery": {}, "objective_state": {},
               "timings": {}}


def _canon(record: dict) -> str:
    return json.dumps({k: v for k, v in record.items() if k != "timings"}, sort_keys=True)


@pytest.fixture(scope="module")
def tiny_records():
    """Two runs with seed 0 and one with seed 1 (no cache)."""
    from conftest import make_tiny
    cfg = make_tiny()
    return cfg, run(cfg, 0, cache_dir=None), run(cfg, 0, cache_dir=None), run(cfg, 1, cache_dir=None)


def test_same_seed_identical_records(tiny_records):
    _, a, b, _ = tiny_records
    assert _canon(a) == _canon(b)
    assert "timings" in a


def test_different_seed_differs(tiny_records):
    _, a, _, c = tiny_records
    assert c["seed"] == 1
    assert a["clusters"] != c["clusters"]
    assert json.dumps(a["history"], sort_keys=True) != json.dumps(c["history"], sort_keys=True)


def test_record_is_json_and_embeds_config(tiny_records):
    cfg, a, _, _ = tiny_records
    text = json.dumps(a)
    back = json.loads(text)
    assert from_dict(back["config"]) == cfg
    assert from_dict(a["config"]) == cfg
    assert back["seed"] == 0
    assert len(back["clusters"]) == cfg.data.split_sizes[0]
    assert set(back["final"]) == {"train", "val", "test"}
    assert back["version"] == runner.library_version()


def test_cache_hit_skips_computation(tiny_cfg, tmp_path, monkeypatch):
    first = run(tiny_cfg, 2, cache_dir=tmp_path)
    files = list(tmp_path.glob("*.json"))
    assert [p.name for p in files] == [f"{cache_key(tiny_cfg, 2)}.json"]

    def boom(*args, **kwargs):
        raise AssertionError("run_experiment called despite a cached record")

    monkeypatch.setattr(runner, "run_experiment", boom)
    second = run(tiny_cfg, 2, cache_dir=tmp_path)
    assert json.dumps(second, sort_keys=True) == json.dumps(first, sort_keys=True)
    # a different seed is a cache miss
    with pytest.raises(AssertionError, match="cached"):
        run(tiny_cfg, 3, cache_dir=tmp_path)


def test_default_cache_dir_comes_from_env(tiny_cfg, isolated_cache, monkeypatch):
    calls = []
    monkeypatch.setattr(runner, "run_experiment",
                        lambda cfg, seed, progress=None: calls.append(seed)
                        or {"config": cfg.to_dict(), "seed": seed, **EMPTY_PARTS})
    run(tiny_cfg, 0)  # cache_dir=True -> UGC_CACHE_DIR
    assert (isolated_cache / f"{cache_key(tiny_cfg, 0)}.json").exists()
    run(tiny_cfg, 0)
    assert calls == [0]


@pytest.fixture
def counted_experiment(monkeypatch):
    """Replace run_experiment with a fast fake record; count the calls."""
    calls = []

    def fake(cfg, seed, progress=None):
        calls.append(seed)
        return {"config": cfg.to_dict(), "seed": seed, "payload": list(range(200)),
                "text": "é" * 50, **EMPTY_PARTS}

    monkeypatch.setattr(runner, "run_experiment", fake)
    return calls


def test_interrupted_json_dump_leaves_no_entry(tiny_cfg, tmp_path, monkeypatch,
                                               counted_experiment):
    final = tmp_path / f"{cache_key(tiny_cfg, 0)}.json"
    seen = {}

    def partial_dump(obj, f, *args, **kwargs):
        f.write('{"config": {"name": "tin')
        f.flush()
        # A hard kill here (no cleanup code runs) must not leave a partial entry
        # under the final name: the write goes to a temp file.
        seen["final_exists"] = final.exists()
        seen["files"] = sorted(p.name for p in tmp_path.iterdir())
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(runner.json, "dump", partial_dump)
        with pytest.raises(OSError, match="disk full"):
            run(tiny_cfg, 0, cache_dir=tmp_path)
    assert seen["final_exists"] is False
    assert len(seen["files"]) == 1 and not seen["files"][0].endswith(".json")
    assert list(tmp_path.glob("*.json")) == []
    assert [p.name for p in tmp_path.iterdir()] == []  # no temp file left either
    # the next run recomputes and writes a valid entry
    rec = run(tiny_cfg, 0, cache_dir=tmp_path)
    assert counted_experiment == [0, 0]
    assert read_cached(tmp_path / f"{cache_key(tiny_cfg, 0)}.json") == json.loads(json.dumps(rec))


def test_interrupted_replace_leaves_no_entry(tiny_cfg, tmp_path, monkeypatch,
                                             counted_experiment):
    def failing_replace(src, dst):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(runner.os, "replace", failing_replace)
        with pytest.raises(KeyboardInterrupt):
            run(tiny_cfg, 0, cache_dir=tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == []
    rec = run(tiny_cfg, 0, cache_dir=tmp_path)
    assert counted_experiment == [0, 0]
    assert read_cached(tmp_path / f"{cache_key(tiny_cfg, 0)}.json") == json.loads(json.dumps(rec))


@pytest.mark.parametrize("cut", [0, 1, 0.5, -1], ids=["empty", "one_byte", "half", "last_byte_cut"])
def test_truncated_cache_file_is_recomputed(tiny_cfg, tmp_path, counted_experiment, cut):
    good = run(tiny_cfg, 0, cache_dir=None)
    path = tmp_path / f"{cache_key(tiny_cfg, 0)}.json"
    data = json.dumps(good, ensure_ascii=False).encode()
    n = int(len(data) * cut) if isinstance(cut, float) else (cut if cut >= 0 else len(data) - 1)
    path.write_bytes(data[:n])
    assert read_cached(path) is None
    rec = run(tiny_cfg, 0, cache_dir=tmp_path)
    assert counted_experiment == [0, 0]
    assert json.dumps(rec, sort_keys=True) == json.dumps(good, sort_keys=True)
    assert read_cached(path) == json.loads(json.dumps(good))  # repaired


def test_truncated_multibyte_cache_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_bytes('{"a": "é'.encode()[:-1])  # cut inside a UTF-8 character
    assert read_cached(path) is None
    assert read_cached(tmp_path / "missing.json") is None


def test_sweep_parallel_equals_serial(tiny_cfg):
    cfg2 = tiny_cfg.with_updates(**{"objective.method": "inverse_freq", "name": "tiny_iw"})
    serial = sweep([tiny_cfg, cfg2], [0, 1], jobs=1, cache_dir=None, progress=False)
    parallel = sweep([tiny_cfg, cfg2], [0, 1], jobs=2, cache_dir=None, progress=False)
    assert [(r["config"]["name"], r["seed"]) for r in serial] == \
        [("tiny", 0), ("tiny", 1), ("tiny_iw", 0), ("tiny_iw", 1)]
    assert [_canon(r) for r in serial] == [_canon(r) for r in parallel]


def test_to_frame_one_row_per_run_epoch_split(tiny_records):
    cfg, a, _, c = tiny_records
    df = to_frame([a, c])
    epochs = cfg.train.total_epochs
    assert len(df) == 2 * epochs * 3
    assert not df.duplicated(["seed", "epoch", "split"]).any()
    assert set(df["split"]) == {"train", "val", "test"}
    assert sorted(df["epoch"].unique()) == list(range(1, epochs + 1))
    assert set(df["seed"]) == {0, 1}
    assert (df["preset"] == "tiny").all()
    assert "grouping.k" in df.columns and "wga_ys" in df.columns


def test_run_rejects_bad_arguments(tiny_cfg):
    with pytest.raises(ValueError, match="seed"):
        run(tiny_cfg, -1, cache_dir=None)
    with pytest.raises(TypeError):
        run(tiny_cfg.to_dict(), 0, cache_dir=None)
    with pytest.raises(ValueError, match="jobs"):
        sweep([tiny_cfg], [0], jobs=0, cache_dir=None)


@pytest.mark.parametrize("value", ["off", "", "none", "0", "OFF"])
def test_cache_disabled_by_env(tiny_cfg, monkeypatch, tmp_path, counted_experiment, value):
    monkeypatch.setenv("UGC_CACHE_DIR", value)
    assert runner.default_cache_dir() is None
    run(tiny_cfg, 0)
    run(tiny_cfg, 0)
    assert counted_experiment == [0, 0]  # nothing cached


@pytest.mark.parametrize("jobs", [1, 2])
def test_sweep_default_cache_follows_callers_env(tiny_cfg, tmp_path, monkeypatch, jobs):
    """cache_dir=True means the caller's UGC_CACHE_DIR, also in worker processes."""
    first, second = tmp_path / "first", tmp_path / "second"
    monkeypatch.setenv("UGC_CACHE_DIR", str(first))
    sweep([tiny_cfg], [0], jobs=jobs, progress=False)
    monkeypatch.setenv("UGC_CACHE_DIR", str(second))
    sweep([tiny_cfg], [1, 2], jobs=jobs, progress=False)
    assert sorted(p.name for p in first.glob("*.json")) == [f"{cache_key(tiny_cfg, 0)}.json"]
    assert sorted(p.name for p in second.glob("*.json")) == \
        sorted(f"{cache_key(tiny_cfg, s)}.json" for s in (1, 2))


def test_final_frame_one_row_per_run_and_split(tiny_records):
    cfg, a, _, c = tiny_records
    df = tables.at_epoch(to_frame([a, c]))
    assert len(df) == 2 * 3
    assert (df["epoch"] == cfg.train.total_epochs).all()


def test_final_frame_keeps_each_runs_last_epoch():
    """Runs that share a name and seed but differ in length each keep their last epoch."""
    from conftest import make_tiny
    short = run(make_tiny(**{"train.robust_epochs": 1}), 0, cache_dir=None)
    long = run(make_tiny(**{"train.robust_epochs": 2}), 0, cache_dir=None)
    df = tables.at_epoch(to_frame([short, long]))
    assert len(df) == 2 * 3, df[["train.robust_epochs", "epoch", "split"]]
    assert sorted(df["epoch"].unique()) == [2, 3]


@pytest.mark.parametrize("corrupt", ["not_an_object", "config_only", "other_config", "other_seed",
                                     "other_version", "nan_metric"])
def test_corrupted_cache_entries_are_recomputed_with_a_warning(tiny_cfg, tmp_path, corrupt):
    """Six kinds of bad cache entry: each is recomputed, with a warning naming the problem."""
    good = run(tiny_cfg, 0, cache_dir=tmp_path)
    path = tmp_path / f"{cache_key(tiny_cfg, 0)}.json"
    bad = json.loads(path.read_text())
    if corrupt == "not_an_object":
        bad = [bad]
    elif corrupt == "config_only":
        bad = {"config": {}}
    elif corrupt == "other_config":
        bad["config"] = tiny_cfg.with_updates(**{"train.lr": 0.5}).to_dict()
    elif corrupt == "other_seed":
        bad["seed"] = 7
    elif corrupt == "other_version":
        bad["version"] = "0.0.0+old"
    else:
        bad["final"]["test"]["acc"] = float("nan")
    path.write_text(json.dumps(bad))
    with pytest.warns(RuntimeWarning, match="recomputing"):
        rec = run(tiny_cfg, 0, cache_dir=tmp_path)
    strip = lambda r: {k: v for k, v in json.loads(json.dumps(r)).items() if k != "timings"}  # noqa: E731
    assert strip(rec) == strip(json.loads(json.dumps(good)))
    assert strip(json.loads(path.read_text())) == strip(json.loads(json.dumps(good)))


@pytest.mark.parametrize("seed", [0.5, -1, 2 ** 32, True, "3"])
def test_sweep_refuses_bad_seeds_before_any_work(tiny_cfg, seed, monkeypatch):
    monkeypatch.setattr(runner, "run_experiment", lambda *a, **k: pytest.fail("ran"))
    with pytest.raises(ValueError, match="seed="):
        sweep([tiny_cfg], [0, seed], cache_dir=None)


def test_sweep_reads_an_iterator_of_seeds_once_for_every_config(tiny_cfg):
    other = tiny_cfg.with_updates(**{"train.lr": 0.02})
    recs = sweep([tiny_cfg, other], iter([0, 1]), cache_dir=None, progress=False)
    assert [(r["config"]["train"]["lr"], r["seed"]) for r in recs] == [
        (tiny_cfg.train.lr, 0), (tiny_cfg.train.lr, 1), (0.02, 0), (0.02, 1)]


def test_cache_dir_expands_home_and_is_made_absolute(monkeypatch, tmp_path):
    monkeypatch.setenv("UGC_CACHE_DIR", "~/ugc_runs_x")
    assert runner.default_cache_dir() == Path.home() / "ugc_runs_x"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("UGC_CACHE_DIR", "rel/cache")
    assert runner.default_cache_dir() == tmp_path.resolve() / "rel" / "cache"
    monkeypatch.setenv("UGC_CACHE_DIR", "off")
    assert runner.default_cache_dir() is None
