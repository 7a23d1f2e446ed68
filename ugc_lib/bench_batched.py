"""Benchmark: S seeds one at a time against S seeds as one stack (batched.run_batched).

For the paper's MLP (both presets) and the Colored-Digits CNN, at S = 1, 10, 50 and 100,
end to end (data, training, per-epoch evaluation, signatures, clustering, records with
their metrics): runs per second of train.run_experiment called once per seed (what
runner.run computes) and of one run_batched call, both measured in this process, back
to back, as wall-clock and as process CPU time (the CPU time is the steadier number on
a shared machine). One-at-a-time runs are independent of S, so at most `single_cap` of
them are timed per S; their records are compared with the batch's, field by field
except the timings, and `identical` says whether every compared record was equal.

    python -m ugc_lib.bench_batched --out /tmp/batched.json [--quick]

benchmarks/run.py stores the result as the "batched_seeds" section of
reports/benchmarks.json.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path
from typing import Sequence

from .batched import run_batched
from .config import PAPER_CODE, PAPER_TEXT, RunConfig
from .runner import atomic_write_json
from .studies import colored_digits
from .train import run_experiment

SIZES = (1, 10, 50, 100)
TARGETS = {"mlp": 10.0, "cnn": 3.0}  # speed-up wanted at S = 50 (issue: seeds as a batch)
QUICK = {"data.n_samples": 200, "data.split_sizes": (100, 50, 50),
         "train.warmup_epochs": 1, "train.robust_epochs": 1}
PHASES = ("warmup", "signatures", "clustering", "robust", "total")


def cases(quick: bool = False) -> list[tuple[str, str, RunConfig, int]]:
    """(model, preset, config, single_cap) for each measured config."""
    out = [("mlp", "paper_code", PAPER_CODE, 100), ("mlp", "paper_text", PAPER_TEXT, 100),
           ("cnn", "paper_code", colored_digits("paper_code"), 10)]
    if quick:
        out = [(m, p, cfg.with_updates(**QUICK), 3) for m, p, cfg, _ in out]
    return out


def _canon(record: dict) -> str:
    return json.dumps({k: v for k, v in record.items() if k != "timings"}, sort_keys=True)


def _clock():
    return time.perf_counter(), time.process_time()


def _phases(records: Sequence[dict]) -> dict[str, float]:
    """Mean per-run seconds of each phase, from the records' own (wall-clock) timings."""
    return {k: sum(r["timings"][k] for r in records) / len(records) for k in PHASES}


def measure(cfg: RunConfig, sizes: Sequence[int], seed: int, single_cap: int) -> list[dict]:
    """One row per S: both ways' runs per second, speed-ups, equality of the records."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # JTT-style warnings: not measured
        run_experiment(cfg, seed, progress=False)  # untimed: imports, allocator, caches
        run_batched(cfg, [seed, seed + 1], progress=False)
        rows = []
        for n in sizes:
            seeds = list(range(seed, seed + n))
            n_single = min(n, single_cap)
            w0, c0 = _clock()
            singles = [run_experiment(cfg, s, progress=False) for s in seeds[:n_single]]
            w1, c1 = _clock()
            batch = run_batched(cfg, seeds, progress=False)
            w2, c2 = _clock()
            single_rate, batch_rate = n_single / (w1 - w0), n / (w2 - w1)
            single_cpu, batch_cpu = n_single / (c1 - c0), n / (c2 - c1)
            rows.append({
                "S": n, "single_runs_timed": n_single,
                "single_runs_per_s": single_rate, "batched_runs_per_s": batch_rate,
                "speedup": batch_rate / single_rate,
                "single_runs_per_cpu_s": single_cpu, "batched_runs_per_cpu_s": batch_cpu,
                "speedup_cpu": batch_cpu / single_cpu,
                "identical": all(_canon(a) == _canon(b) for a, b in zip(singles, batch)),
                "phases_single": _phases(singles), "phases_batched": _phases(batch)})
    return rows


def batched_seeds(quick: bool = False, seed: int = 0,
                  sizes: Sequence[int] | None = None) -> dict:
    """The benchmarks.json section: every case at every S, and the overall equality."""
    sizes = tuple(sizes or ((1, 3) if quick else SIZES))
    t0 = time.perf_counter()
    rows = []
    for model, preset, cfg, cap in cases(quick):
        rows += [{"model": model, "preset": preset, **r}
                 for r in measure(cfg, sizes, seed, cap)]
    return {"sizes": list(sizes), "rows": rows, "identical": all(r["identical"] for r in rows),
            "targets_at_S50": TARGETS, "seed": seed, "quick": quick,
            "timing": "wall clock (perf_counter) and process CPU time, one process, "
                      "one torch thread (train.threads); phases are the records' own "
                      "wall-clock timings, per run (a batch's divided by S)",
            "wall_seconds": time.perf_counter() - t0}


def summary_lines(section: dict) -> list[str]:
    out = []
    for r in section["rows"]:
        out.append(f"batched seeds {r['model']}/{r['preset']} S={r['S']}: "
                   f"{r['single_runs_per_s']:.1f} -> {r['batched_runs_per_s']:.1f} runs/s, "
                   f"{r['speedup']:.1f}x wall, {r['speedup_cpu']:.1f}x CPU, "
                   f"identical={r['identical']}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="output JSON file")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test only")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sizes", type=int, nargs="*", help=f"values of S (default {SIZES})")
    args = ap.parse_args(argv)
    section = batched_seeds(quick=args.quick, seed=args.seed, sizes=args.sizes)
    atomic_write_json(Path(args.out), section)
    print("\n".join(summary_lines(section)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
