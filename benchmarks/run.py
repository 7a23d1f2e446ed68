#!/usr/bin/env python
"""Run every benchmark and write reports/benchmarks.json (atomically).

    python -m benchmarks                 # the full sweep (a few minutes on 2 cores)
    python -m benchmarks --quick --out /tmp/bench.json   # tiny sizes, seconds
    python benchmarks/run.py ...         # the same

The measuring code is ugc_lib/bench.py; notebook 16 plots the stored file.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "reports" / "benchmarks.json"


def check_seed_and_out(args) -> None:
    """--seed and --out, checked before the benchmarks' minutes of work: a seed outside
    [0, 2**32), an --out that is a folder, or one whose folder cannot be written."""
    from ugc_lib.run_checks import check_writable
    from ugc_lib.runner import check_seed

    try:
        check_seed(args.seed)
    except ValueError as err:
        raise SystemExit(f"error: --seed: {err}") from None
    out = args.out.expanduser()
    if out.is_dir():
        raise SystemExit(f"error: --out {args.out} is a folder: allowed a JSON file path")
    try:  # the file is written to a temp file beside it, then renamed: its folder must take it
        check_writable([("--out", out.resolve().parent)])
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None
    args.out = out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output JSON file")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test only")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: the training default, train.threads)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                    help="also time the distributed sweep on this Dask scheduler")
    args = ap.parse_args(argv)
    if args.threads < 1:
        raise SystemExit(f"error: --threads={args.threads} must be >= 1")
    if args.quick and args.out.resolve() == DEFAULT_OUT.resolve():
        raise SystemExit("error: --quick needs --out elsewhere: it must not overwrite the "
                         "stored full benchmark")
    sys.path.insert(0, str(ROOT))
    check_seed_and_out(args)
    from ugc_lib import bench, bench_batched, bench_distributed

    if args.scheduler is not None:  # checked before the long local benchmarks
        from ugc_lib.cluster import check_scheduler
        try:
            check_scheduler(args.scheduler)
        except (ValueError, ConnectionError) as err:
            raise SystemExit(f"error: --scheduler: {err}") from None
    given = sys.argv[1:] if argv is None else argv
    command = "python -m benchmarks" + ("".join(" " + shlex.quote(a) for a in given))
    # first: run_benchmarks' memory measurements fix glibc's mmap threshold for the rest
    # of the process, which would slow the batched path's large allocations
    batched = bench_batched.batched_seeds(quick=args.quick, seed=args.seed)
    result = bench.run_benchmarks(quick=args.quick, threads=args.threads, seed=args.seed,
                                  command=command)
    result["batched_seeds"] = batched
    result["distributed"] = bench_distributed.measure(quick=args.quick, scheduler=args.scheduler)
    path = bench.write(args.out, result)
    s = result["signature_speed"]["speedup_vs_loop"]
    print(f"wrote {path} in {result['wall_seconds']:.0f} s")
    print(f"signatures vs the per-sample loop: torch.func {s['torch_func']:.0f}x, "
          f"closed form {s['closed_form']:.0f}x")
    for r in result["overhead"]:
        print(f"overhead {r['model']}/{r['preset']}: UGC step = {r['step_over_epoch']:.2f} "
              f"epochs = {r['step_over_training']:.2f} x the 6-epoch training")
    print("\n".join(bench_batched.summary_lines(result["batched_seeds"])))
    for name, e in result["scaling"]["exponents"].items():
        print(f"scaling {name}: time ~ {e['x']}^{e['time']:.2f}, "
              f"peak memory ~ {e['x']}^{e['peak_memory']:.2f}")
    d = result["distributed"]
    print(f"distributed, {d['runs']} runs: overhead {d['overhead_seconds_per_run_2_workers']*1e3:.1f} "
          f"ms/run on 2 workers; speedup " + ", ".join(
              f"{w} worker(s) {x:.2f}x" for w, x in d["speedup"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
