"""Benchmark of sweeps on a Dask cluster against the local path: overhead and speedup.

One sweep of many short runs (the tiny config below, tens of milliseconds each, so the
per-run cost of the cluster shows) is timed locally (one process, before and after the
rest: the mean is the baseline; joblib with 2 processes for context) and on
LocalCluster(n_workers=w, threads_per_worker=1, processes=True) for w in `workers`, each
after a warm-up that imports torch and ugc_lib in every worker process; the cluster's
start-up is timed apart. Optionally the same sweep on a named scheduler. Every sweep
bypasses the cache (cache_dir=None), so every run computes.

overhead_seconds_per_run = (w * cluster wall - local wall) / runs: the worker-seconds
each run costs on the cluster beyond its local cost (dispatch, pickling, records sent
back, the client and scheduler sharing the machine's cores).
speedup = local wall / cluster wall. Wall times from time.perf_counter.
On a shared machine wall times move with the load, so CPU seconds are counted too (this
process: client, scheduler and nannies of a LocalCluster; plus every worker process):
cpu_overhead_seconds_per_run = (cluster CPU - local CPU) / runs; the same for joblib on
2 processes (its workers' CPU included), whose difference to 2 Dask workers is Dask's own.
A started cluster also burns CPU while idle (heartbeats, monitors), per wall second; under
load the sweep's wall time stretches and that cost with it, so it is measured (10 s idle)
and taken out in cpu_overhead_beyond_idle_seconds_per_run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Sequence

from . import cluster
from .config import PAPER_TEXT, RunConfig, override
from .runner import run, sweep

RUNS = 1000
QUICK_RUNS = 40
WORKERS = (1, 2)
IDLE_SECONDS = 10.0  # the idle CPU of a started cluster is measured over this long


def bench_config() -> RunConfig:
    """A run of tens of milliseconds: 100 training samples, 1 + 2 epochs."""
    return override(PAPER_TEXT, {
        "name": "bench_distributed", "data.n_samples": 200, "data.split_sizes": (100, 50, 50),
        "train.batch_size": 32, "train.warmup_epochs": 1, "train.robust_epochs": 2,
        "grouping.pca_dim": 5, "grouping.kmeans_n_init": 3, "grouping.kmeans_max_iter": 50})


def _canon(records: Sequence[dict]) -> list[str]:
    return [json.dumps({k: v for k, v in r.items() if k != "timings"}, sort_keys=True)
            for r in records]


def _warm() -> None:
    """One untimed run on a worker: imports torch and ugc_lib there (the function is
    pickled by reference, so the worker imports this module and its imports)."""
    run(bench_config(), 10**6, cache_dir=None, progress=False)


def cpu_seconds() -> float:
    """User + system CPU seconds of the calling process, all its threads."""
    import psutil

    t = psutil.Process().cpu_times()
    return t.user + t.system


def cpu_seconds_with_children() -> float:
    """CPU seconds of this process and its live child processes (joblib's workers)."""
    import psutil

    me = psutil.Process()
    total = cpu_seconds()
    for child in me.children(recursive=True):
        try:
            t = child.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system
    return total


def timed_sweep(cfg: RunConfig, n_runs: int,
                scheduler: str | bool) -> tuple[float, float, list[dict]]:
    """(wall seconds, CPU seconds of this process, records)."""
    c0, t0 = cpu_seconds(), time.perf_counter()
    records = sweep([cfg], range(n_runs), cache_dir=None, progress=False, scheduler=scheduler)
    return time.perf_counter() - t0, cpu_seconds() - c0, records


def _cluster_cpu(client) -> tuple[float, dict]:
    return cpu_seconds(), client.run(cpu_seconds)


def _cpu_since(client, start: tuple[float, dict]) -> float:
    own, workers = _cluster_cpu(client)
    return own - start[0] + sum(workers[w] - start[1][w] for w in start[1] if w in workers)


def on_cluster(address: str, n_runs: int, local_records: Sequence[dict],
               idle_seconds: float = IDLE_SECONDS) -> dict:
    """The sweep on the cluster at address (already started): wall and CPU seconds.

    cpu_seconds counts this process and the workers (a remote scheduler's CPU is not).
    idle_cpu_per_second: the same CPU count while nothing runs (heartbeats, monitors),
    per wall second: a cost that grows with the sweep's wall time, not with its runs.
    """
    client = cluster.get_client(address)
    client.run(_warm)  # every worker, untimed
    start, t0 = _cluster_cpu(client), time.perf_counter()
    time.sleep(idle_seconds)
    idle = _cpu_since(client, start) / (time.perf_counter() - t0)
    start = _cluster_cpu(client)
    seconds, _, records = timed_sweep(bench_config(), n_runs, address)
    return {"workers": len(client.nthreads()), "threads": sum(client.nthreads().values()),
            "seconds": seconds, "cpu_seconds": _cpu_since(client, start),
            "idle_cpu_per_second": idle,
            "records_identical": _canon(records) == _canon(local_records)}


def compare(row: dict, n_runs: int, local_seconds: float, local_cpu: float | None) -> dict:
    """A cluster's row with its overhead and speedup against the local sweep."""
    out = {**row, "seconds_per_run": row["seconds"] / n_runs,
           "overhead_seconds_per_run": (row["threads"] * row["seconds"] - local_seconds) / n_runs,
           "speedup": local_seconds / row["seconds"]}
    if local_cpu is not None:
        out["cpu_overhead_seconds_per_run"] = (row["cpu_seconds"] - local_cpu) / n_runs
        # what is left once the idle cost over the sweep's wall time is taken out
        out["cpu_overhead_beyond_idle_seconds_per_run"] = (
            row["cpu_seconds"] - row["idle_cpu_per_second"] * row["seconds"] - local_cpu) / n_runs
    return out


def measure(quick: bool = False, workers: Sequence[int] = WORKERS,
            scheduler: str | None = None) -> dict:
    """The `distributed` section of benchmarks.json.

    The local sweep is timed before and after the others; their mean is the baseline, so
    a change of the machine's load during the benchmark shows (and partly cancels).
    """
    from distributed import LocalCluster

    n_runs = QUICK_RUNS if quick else RUNS
    t_start = time.perf_counter()
    load_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None  # (1, 5, 15 min)
    cfg = bench_config()
    sweep([cfg], [10**6], cache_dir=None, progress=False, scheduler=False)  # warm-up
    before_seconds, before_cpu, local_records = timed_sweep(cfg, n_runs, scheduler=False)
    sweep([cfg], range(10**6, 10**6 + 4), jobs=2, cache_dir=None, progress=False,
          scheduler=False)  # warm-up: starts joblib's worker processes
    c0, t0 = cpu_seconds_with_children(), time.perf_counter()
    joblib_records = sweep([cfg], range(n_runs), jobs=2, cache_dir=None, progress=False,
                           scheduler=False)
    joblib_seconds = time.perf_counter() - t0
    joblib_cpu = cpu_seconds_with_children() - c0
    rows = {}
    for w in workers:
        t0 = time.perf_counter()
        with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                          dashboard_address=None, silence_logs=logging.ERROR) as lc:
            startup = time.perf_counter() - t0
            try:
                rows[str(w)] = {**on_cluster(lc.scheduler_address, n_runs, local_records,
                                             1.0 if quick else IDLE_SECONDS),
                                "startup_seconds": startup}
            finally:
                cluster.close_clients()
    named = None
    address = cluster.check_scheduler(scheduler) if scheduler is not None else None
    if address is not None:
        try:
            named = {"address": address, **on_cluster(address, n_runs, local_records)}
        finally:
            cluster.close_clients()
    after_seconds, after_cpu, _ = timed_sweep(cfg, n_runs, scheduler=False)
    local_seconds, local_cpu = (before_seconds + after_seconds) / 2, (before_cpu + after_cpu) / 2
    clusters = {w: compare(r, n_runs, local_seconds, local_cpu) for w, r in rows.items()}
    result = {
        "runs": n_runs, "config": cfg.name, "chunks_per_thread": cluster.CHUNKS_PER_THREAD,
        "load_average_at_start": load_start,
        "load_average_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "local": {"seconds": local_seconds, "seconds_per_run": local_seconds / n_runs,
                  "cpu_seconds": local_cpu, "seconds_before_after": [before_seconds, after_seconds],
                  "cpu_seconds_before_after": [before_cpu, after_cpu]},
        "local_joblib_2": {"seconds": joblib_seconds, "speedup": local_seconds / joblib_seconds,
                           "cpu_seconds": joblib_cpu,
                           "cpu_overhead_seconds_per_run": (joblib_cpu - local_cpu) / n_runs,
                           "records_identical": _canon(joblib_records) == _canon(local_records)},
        "local_cluster": clusters,
        "overhead_seconds_per_run_2_workers": clusters.get("2", {}).get("overhead_seconds_per_run"),
        "cpu_overhead_seconds_per_run_2_workers":
            clusters.get("2", {}).get("cpu_overhead_seconds_per_run"),
        "cpu_overhead_beyond_idle_seconds_per_run_2_workers":
            clusters.get("2", {}).get("cpu_overhead_beyond_idle_seconds_per_run"),
        # the same parallelism without Dask: what is left is Dask's own cost
        "cpu_seconds_per_run_2_workers_minus_joblib_2":
            (clusters["2"]["cpu_seconds"] - joblib_cpu) / n_runs if "2" in clusters else None,
        "speedup": {w: c["speedup"] for w, c in clusters.items()},
    }
    if named is not None:  # no CPU overhead: a remote scheduler's CPU is not counted
        result["named_scheduler"] = compare(named, n_runs, local_seconds, None)
    result["wall_seconds"] = time.perf_counter() - t_start
    return result
