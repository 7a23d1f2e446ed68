"""The batched-seeds benchmark section: its shape and its equality check (no timings)."""

from __future__ import annotations

import json

from ugc_lib import bench_batched


def test_quick_section_has_every_case_and_equal_records():
    section = bench_batched.batched_seeds(quick=True, sizes=(2,))
    json.dumps(section)  # JSON-able
    assert [(r["model"], r["preset"], r["S"]) for r in section["rows"]] == \
        [("mlp", "paper_code", 2), ("mlp", "paper_text", 2), ("cnn", "paper_code", 2)]
    for r in section["rows"]:
        assert r["identical"] is True
        assert r["single_runs_timed"] == 2
        assert r["speedup"] > 0 and r["speedup_cpu"] > 0
        assert set(r["phases_batched"]) == set(bench_batched.PHASES)
    assert section["identical"] is True
    assert len(bench_batched.summary_lines(section)) == 3


def test_identical_is_false_when_a_record_differs(monkeypatch):
    real = bench_batched.run_batched

    def tampered(cfg, seeds, *args, **kwargs):
        records = real(cfg, seeds, *args, **kwargs)
        records[-1]["clusters"] = [1 - c for c in records[-1]["clusters"]]
        return records

    monkeypatch.setattr(bench_batched, "run_batched", tampered)
    cfg = bench_batched.cases(quick=True)[0][2]
    rows = bench_batched.measure(cfg, (2,), seed=0, single_cap=2)
    assert rows[0]["identical"] is False
