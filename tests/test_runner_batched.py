"""runner.sweep trains the missing seeds of a config as one stack, cached per (config, seed)."""

from __future__ import annotations

import json

import pytest

import ugc_lib.batched as batched
import ugc_lib.runner as runner
from ugc_lib.objectives import METHODS, Objective
from ugc_lib.runner import cache_key, read_cached, run, sweep


def _canon(record: dict) -> str:
    return json.dumps({k: v for k, v in record.items() if k != "timings"}, sort_keys=True)


@pytest.fixture
def batch_calls(monkeypatch):
    """Record every run_batched call (config name, seeds); the real function runs."""
    calls = []
    real = batched.run_batched

    def spy(cfg, seeds, *args, **kwargs):
        calls.append((cfg.name, list(seeds)))
        return real(cfg, seeds, *args, **kwargs)

    monkeypatch.setattr(batched, "run_batched", spy)
    return calls


def test_sweep_batches_missing_seeds_and_caches_each(tiny_cfg, tmp_path, batch_calls):
    run(tiny_cfg, 1, cache_dir=tmp_path)  # seed 1 is cached beforehand
    records = sweep([tiny_cfg], [0, 1, 2, 3], cache_dir=tmp_path, progress=False)
    assert batch_calls == [("tiny", [0, 2, 3])]  # one stack, of the missing seeds only
    assert [r["seed"] for r in records] == [0, 1, 2, 3]
    for seed, rec in zip([0, 1, 2, 3], records):
        cached = read_cached(tmp_path / f"{cache_key(tiny_cfg, seed)}.json")
        assert cached == json.loads(json.dumps(rec))
        assert rec["version"] == runner.library_version()
        assert _canon(rec) == _canon(run(tiny_cfg, seed, cache_dir=None))
    again = sweep([tiny_cfg], [0, 1, 2, 3], cache_dir=tmp_path, progress=False)
    assert len(batch_calls) == 1  # everything read from the cache
    assert [_canon(r) for r in again] == [_canon(r) for r in records]


def test_sweep_parallel_batches_equal_serial(tiny_cfg):
    cfg2 = tiny_cfg.with_updates(**{"objective.method": "inverse_freq", "name": "tiny_iw"})
    serial = sweep([tiny_cfg, cfg2], [0, 1, 2], jobs=1, cache_dir=None, progress=False)
    parallel = sweep([tiny_cfg, cfg2], [0, 1, 2], jobs=2, cache_dir=None, progress=False)
    assert [(r["config"]["name"], r["seed"]) for r in parallel] == \
        [(n, s) for n in ("tiny", "tiny_iw") for s in (0, 1, 2)]
    assert [_canon(r) for r in serial] == [_canon(r) for r in parallel]


def test_groups_split_for_workers_and_cap_batch_size(tiny_cfg, monkeypatch):
    cfg2 = tiny_cfg.with_updates(name="other")
    pairs = [(tiny_cfg, s) for s in range(6)] + [(cfg2, s) for s in range(6)]
    missing = list(range(12))
    assert [len(i) for _, i in runner._groups(pairs, missing, jobs=1)] == [6, 6]
    assert [len(i) for _, i in runner._groups(pairs, missing, jobs=4)] == [3, 3, 3, 3]
    monkeypatch.setattr(runner, "BATCH_SEEDS", 4)
    assert [len(i) for _, i in runner._groups(pairs, missing, jobs=1)] == [4, 2, 4, 2]


def test_unbatchable_config_runs_one_seed_at_a_time(tiny_cfg, monkeypatch, batch_calls):
    class OwnLoss(Objective):
        def batch_loss(self, losses, index):
            return losses.max()

    monkeypatch.setitem(METHODS, "erm", OwnLoss)
    cfg = tiny_cfg.with_updates(**{"objective.method": "erm"})
    records = sweep([cfg], [0, 1], cache_dir=None, progress=False)
    assert batch_calls == []
    assert [r["seed"] for r in records] == [0, 1]


def test_seeds_whose_data_differ_in_shape_fall_back(tiny_cfg, monkeypatch):
    def refuse(cfg, seeds, *args, **kwargs):
        raise batched.CannotBatch("the seeds' training sets differ in shape")

    monkeypatch.setattr(batched, "run_batched", refuse)
    records = sweep([tiny_cfg], [0, 1], cache_dir=None, progress=False)
    assert [_canon(r) for r in records] == [_canon(run(tiny_cfg, s, cache_dir=None))
                                            for s in (0, 1)]


def test_sweep_rejects_a_negative_seed_before_training(tiny_cfg):
    with pytest.raises(ValueError, match="seed"):
        sweep([tiny_cfg], [0, -1], cache_dir=None, progress=False)
