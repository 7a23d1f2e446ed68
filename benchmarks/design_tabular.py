#!/usr/bin/env python
"""Epoch count of the Adult and COMPAS benchmarks, chosen on validation for ERM.

    python -m benchmarks.design_tabular                  # -> reports/design/tabular.json
    python -m benchmarks.design_tabular --quick --out /tmp/t.json   # smoke test

DESIGN_RULE below was written and committed before any of the numbers it judges were
computed; the output JSON repeats it with its sha256. Only ERM and oracle Group DRO run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks.design_colored_mnist import best_epoch, by_epoch, summary
from ugc_lib.config import PAPER_TEXT, RunConfig
from ugc_lib.files import write_atomically
from ugc_lib.intervals import CI_METHOD
from ugc_lib.runner import sweep

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "reports" / "design" / "tabular.json"

DESIGN_RULE = """\
Fixed (not knobs): the paper's MLP (two hidden layers of 32) and the paper preset's training
recipe (Adam, LR 1e-2, batch 64, one ERM warm-up epoch); numeric columns z-scored with the
train split's statistics; oracle Group DRO with its default step. Splits: Adult train 26,000
and val 6,561 rows of adult.data, test the whole adult.test (16,281); COMPAS (5,278 filtered
rows) train 3,278, val 1,000, test 1,000. Both with s as an input and without it.
1. ERM and oracle Group DRO are trained for E_max = 20 epochs (1 warm-up + 19) over seeds
   0 .. n-1; the metrics at epoch e of a run are those of a run of e epochs.
2. E* = the e in {2, ..., E_max} with the highest ERM validation accuracy averaged over
   seeds (no group labels); ties go to the smaller e. Every method uses E*.
3. Reported at E*, not judged: ERM and oracle test accuracy and WGA(y,s), and the paired
   difference ERM - oracle in WGA(y,s) with its 95% interval (ugc_lib.intervals.interval).
Nothing else is varied."""
RULE_SHA256 = hashlib.sha256(DESIGN_RULE.encode()).hexdigest()

MAX_EPOCHS = 20
SIZES = {"adult": (26_000, 6_561, 16_281), "compas": (3_278, 1_000, 1_000)}


def config(dataset: str, s_as_input: bool, method: str, epochs: int,
           sizes: tuple[int, int, int]) -> RunConfig:
    """The paper preset (its MLP) on a tabular dataset."""
    return PAPER_TEXT.with_updates(**{
        "name": f"{dataset}_design_{method}", "data.dataset": dataset,
        "data.n_samples": sum(sizes), "data.split_sizes": sizes, "data.s_as_input": s_as_input,
        "train.warmup_epochs": 1, "train.robust_epochs": epochs - 1, "objective.method": method})


def cell(dataset: str, s_as_input: bool, seeds: list[int], epochs: int, sizes) -> dict:
    records = sweep([config(dataset, s_as_input, "erm", epochs, sizes),
                     config(dataset, s_as_input, "oracle_dro", epochs, sizes)], seeds,
                    progress=False)
    erm, oracle = records[:len(seeds)], records[len(seeds):]
    val_acc = by_epoch(erm, "val", "acc").mean(axis=0)
    best = best_epoch(val_acc, epochs)
    e = best - 1
    erm_wga, oracle_wga = by_epoch(erm, "test", "wga_ys")[:, e], by_epoch(oracle, "test", "wga_ys")[:, e]
    return {"dataset": dataset, "s_as_input": s_as_input, "split_sizes": list(sizes),
            "epochs": best, "erm_val_acc_by_epoch": val_acc.round(6).tolist(),
            "erm_test_acc": summary(by_epoch(erm, "test", "acc")[:, e]),
            "erm_test_wga_ys": summary(erm_wga),
            "oracle_test_acc": summary(by_epoch(oracle, "test", "acc")[:, e]),
            "oracle_test_wga_ys": summary(oracle_wga),
            "erm_minus_oracle_wga_ys": summary(erm_wga - oracle_wga),
            "erm_test_wga_ys_by_epoch": by_epoch(erm, "test", "wga_ys").mean(0).round(6).tolist(),
            "oracle_test_wga_ys_by_epoch":
                by_epoch(oracle, "test", "wga_ys").mean(0).round(6).tolist()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0 .. n-1")
    ap.add_argument("--datasets", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--quick", action="store_true", help="smoke test: tiny splits, 3 epochs")
    args = ap.parse_args(argv)
    seeds = list(range(2 if args.quick else args.seeds))
    epochs = 3 if args.quick else MAX_EPOCHS
    t0 = time.perf_counter()
    cells = []
    for dataset in args.datasets:
        sizes = (300, 100, 100) if args.quick else SIZES[dataset]
        for s_as_input in (True, False):
            cells.append(cell(dataset, s_as_input, seeds, epochs, sizes))
            c = cells[-1]
            print(f"{dataset} s_as_input={s_as_input}: E* {c['epochs']}, WGA(y,s) ERM "
                  f"{c['erm_test_wga_ys']['mean']:.3f} oracle {c['oracle_test_wga_ys']['mean']:.3f}"
                  f", ERM - oracle {c['erm_minus_oracle_wga_ys']['mean']:+.3f} "
                  f"[{c['erm_minus_oracle_wga_ys']['low']:+.3f}, "
                  f"{c['erm_minus_oracle_wga_ys']['high']:+.3f}]", flush=True)
    out = {"command": "python -m benchmarks.design_tabular " + shlex.join(argv or sys.argv[1:]),
           "rule": DESIGN_RULE, "rule_sha256": RULE_SHA256, "interval_method": CI_METHOD,
           "seeds": seeds, "max_epochs": epochs, "cells": cells,
           "seconds": round(time.perf_counter() - t0, 1)}

    def write(tmp: str) -> None:
        Path(tmp).write_text(json.dumps(out, indent=1) + "\n")
    write_atomically(args.out, write)
    print(f"{out['seconds']} s -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
