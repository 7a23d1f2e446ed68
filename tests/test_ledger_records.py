"""The ledger remembers the records it read (ledger._sweep): asking again for the same runs,
or for a subset of their seeds, reads nothing new and returns the same records in order."""

from __future__ import annotations

import ugc_lib.ledger as ledger
from conftest import make_tiny


def test_repeated_and_subset_requests_read_each_run_once(monkeypatch):
    calls = []

    def fake_sweep(configs, seeds, jobs=1):
        calls.append((len(configs), list(seeds)))
        return [{"config": cfg.name, "seed": s, "k": cfg.grouping.k} for cfg in configs for s in seeds]

    monkeypatch.setattr(ledger, "sweep", fake_sweep)
    monkeypatch.setattr(ledger, "_RECORDS", {})
    cfgs = [make_tiny(), make_tiny(**{"grouping.k": 3})]
    full = ledger._sweep(cfgs, [0, 1, 2, 3], jobs=1)
    assert [(r["k"], r["seed"]) for r in full] == [(2, 0), (2, 1), (2, 2), (2, 3),
                                                   (3, 0), (3, 1), (3, 2), (3, 3)]
    half = ledger._sweep(cfgs, [2, 3], jobs=1)
    assert half == [full[2], full[3], full[6], full[7]] and half[0] is full[2]
    assert calls == [(2, [0, 1, 2, 3])]
    ledger._sweep(cfgs, [3, 4], jobs=1)  # seed 4 is new: asked for again, as a whole
    assert calls[-1] == (2, [3, 4])
