"""Benchmarks: signature extraction speed, the UGC step's overhead (C11), and scaling.

Every result is a ratio or a slope measured within one run on one machine, never a
timed assertion. The entry point is `python -m benchmarks` (benchmarks/run.py), which
writes reports/benchmarks.json; notebook 16 reads that file and plots it.

Timing: the median over repeats of time.perf_counter, each repeat calling the function
enough times to last >= MIN_REPEAT_SECONDS (timeit's autorange), after one untimed call.
Peak memory: the growth of the process's peak resident set size (Linux VmHWM, reset
through /proc/self/clear_refs) over the resident size at the start of the measured call,
with glibc's mmap threshold fixed at 64 KiB so that freed blocks go back to the system;
elsewhere tracemalloc, which sees NumPy's allocations but not torch's (the record says
which). Memory is measured after all timings, so the allocator setting cannot slow them.
"""

from __future__ import annotations

import ctypes
import gc
import json
import math
import os
import platform
import time
import tracemalloc
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch

from .config import PAPER_TEXT, PRESETS, DataConfig, RunConfig
from .data import make_dataset, make_synthetic
from .gradients import signatures
from .grouping import infer_groups
from .repro import environment_info
from .runner import atomic_write_json
from .studies import overhead_config
from .train import fit, warmup

MIN_REPEAT_SECONDS = 0.02

# ---------------------------------------------------------------- measuring


def median_time(fn: Callable[[], object], repeats: int = 5) -> float:
    """Median seconds per call of fn over `repeats`, each repeat >= MIN_REPEAT_SECONDS."""
    fn()  # untimed: first-call costs (imports, allocator, caches)
    t0 = time.perf_counter()
    fn()
    once = time.perf_counter() - t0
    number = max(1, math.ceil(MIN_REPEAT_SECONDS / max(once, 1e-9)))
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return float(np.median(times))


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
        return True
    except OSError:
        return False


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def memory_mode() -> str:
    """"rss" where the peak RSS can be reset (Linux), else "tracemalloc"."""
    return "rss" if _status_kb("VmHWM") is not None and _reset_peak_rss() else "tracemalloc"


def prepare_memory_measurement() -> None:
    """Fix glibc's mmap threshold at 64 KiB: large blocks are returned to the system on
    free, so an earlier call's freed memory cannot hide a later call's peak."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD


def peak_memory(fn: Callable[[], object]) -> tuple[int, str]:
    """(bytes the process's peak memory grew by during fn(), how it was measured)."""
    gc.collect()
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)
    if memory_mode() == "rss":
        _reset_peak_rss()
        base = _status_kb("VmRSS")
        fn()
        return max(0, (_status_kb("VmHWM") - base) * 1024), "rss"
    tracemalloc.start()
    tracemalloc.reset_peak()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return int(peak), "tracemalloc"


def fit_exponent(x: Sequence[float], y: Sequence[float]) -> float:
    """Least-squares slope of log(y) on log(x): y ~ x ** slope."""
    x, y = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(x, y, 1)[0])


def machine_info(threads: int) -> dict:
    import threadpoolctl

    info = environment_info()
    info.update({"cpu_count": os.cpu_count(), "platform": platform.platform(),
                 "processor": platform.processor() or platform.machine(),
                 "torch_threads_benchmark": threads,
                 "blas_threads": {p["internal_api"]: p["num_threads"]
                                  for p in threadpoolctl.threadpool_info()}})
    return info


# ---------------------------------------------------------------- the pieces


def signature_speed(n: int = 1000, repeats: int = 3, seed: int = 0,
                    where: str = "fc_weight", threads: int | None = None) -> dict:
    """(a) The paper's setting (MLP, n training samples, final weight matrix as its script):
    one backward pass per sample (the script) vs torch.func vs the closed form.
    threads: torch and BLAS threads for the measurement (restored after); None = as set."""
    if threads is not None:
        from threadpoolctl import threadpool_limits

        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            with threadpool_limits(threads):
                return signature_speed(n, repeats, seed, where)
        finally:
            torch.set_num_threads(before)
    cfg = PAPER_TEXT
    ds = make_synthetic(DataConfig(n_samples=n + 2, split_sizes=(n, 1, 1)), seed)
    model = warmup(cfg, ds.train.X, ds.train.y, seed)
    X, y = ds.train.X, ds.train.y
    seconds = {m: median_time(lambda m=m: signatures(model, X, y, where=where, method=m),
                              repeats)
               for m in ("loop", "torch_func", "closed_form")}
    ref = signatures(model, X, y, where=where, method="loop")
    agree = {m: float(np.abs(signatures(model, X, y, where=where, method=m) - ref).max())
             for m in ("torch_func", "closed_form")}
    return {"n": n, "where": where, "model": "mlp (6-32-32-2)", "seconds": seconds,
            "speedup_vs_loop": {m: seconds["loop"] / seconds[m]
                                for m in ("torch_func", "closed_form")},
            "max_abs_diff_vs_loop": agree,
            "targets": {"closed_form": 500.0, "torch_func": 30.0}}


def overhead(model: str, preset: str, repeats: int = 5, seed: int = 0) -> dict:
    """(b) C11: train.fit's own timings, repeated. epoch = mean epoch of the 6; step =
    signatures + clustering; training = the 6 epochs (per-epoch evaluation is off).
    train.fit pins torch and BLAS to train.threads (1), as every run of the suite."""
    cfg = overhead_config(model, preset)
    ds = make_dataset(cfg.data, seed)
    X, y = ds.train.X, ds.train.y
    fit(cfg, X, y, seed, true_groups=ds.train.groups, progress=False)  # untimed
    rows = []
    for _ in range(repeats):
        t = fit(cfg, X, y, seed, true_groups=ds.train.groups, progress=False)["timings"]
        training = t["warmup"] + t["robust"]
        rows.append({"epoch": training / cfg.train.total_epochs, "training": training,
                     "signatures": t["signatures"], "clustering": t["clustering"],
                     "step": t["signatures"] + t["clustering"]})
    med = {k: float(np.median([r[k] for r in rows])) for k in rows[0]}
    return {"model": model, "preset": preset, "n_train": len(y), "repeats": repeats,
            "blas_threads": cfg.train.threads,
            "epochs": cfg.train.total_epochs, "median_seconds": med,
            "step_over_epoch": med["step"] / med["epoch"],
            "step_over_training": med["step"] / med["training"],
            "per_repeat_step_over_epoch": [r["step"] / r["epoch"] for r in rows]}


def _step_point(cfg: RunConfig, n: int, seed: int, repeats: int) -> dict:
    """Time one UGC step (grouping.infer_groups, the pipeline's own) at n samples."""
    ds = make_synthetic(replace_data(cfg.data, n), seed)
    X, y = ds.train.X, ds.train.y
    model = warmup(cfg, X, y, seed)
    step = lambda: infer_groups(cfg.grouping, model, X, y, seed)  # noqa: E731
    G = step()[0]
    return {"n": n, "params": int(sum(p.numel() for p in model.parameters())),
            "signature_dim": int(G.shape[1]), "signature_bytes": int(G.nbytes),
            "seconds": median_time(step, repeats), "_step": step}


def replace_data(data: DataConfig, n: int) -> DataConfig:
    from dataclasses import replace

    return replace(data, n_samples=n + 2, split_sizes=(n, 1, 1))


def _with(cfg: RunConfig, **dotted) -> RunConfig:
    return cfg.with_updates(**dotted)


def scaling_series(name: str, points: list[tuple[RunConfig, int]], seed: int = 0,
                   repeats: int = 3) -> list[dict]:
    """Time the UGC step at each (config, n) point; the step closures are kept for memory."""
    out = []
    for cfg, n in points:
        row = _step_point(cfg, n, seed, repeats)
        row["series"] = name
        out.append(row)
    return out


def measure_memory(rows: list[dict]) -> None:
    """Adds peak_bytes and memory_mode to each row (after every timing is done)."""
    prepare_memory_measurement()
    for row in rows:
        step = row.pop("_step")
        row["peak_bytes"], row["memory_mode"] = peak_memory(step)


N_SWEEP = (1_000, 3_162, 10_000, 31_623, 100_000)
HIDDEN_SWEEP = (30, 100, 316, 1_000)  # two hidden layers: ~1.2e3 to ~1.0e6 parameters
PROJECTION_DIM = 64


def scaling(ns: Sequence[int] = N_SWEEP, hiddens: Sequence[int] = HIDDEN_SWEEP,
            n_models: int = 1000, projection_dim: int = PROJECTION_DIM, seed: int = 0,
            repeats: int = 3) -> dict:
    """(c) The UGC step (paper_text grouping: final-layer signatures, PCA 10, k-means++ x 10)
    against N (paper MLP; exact Lloyd and MiniBatchKMeans) and against model size (MLP
    width; final layer in closed form, and all parameters via torch.func projected to
    projection_dim)."""
    base = PAPER_TEXT
    mini = _with(base, **{"grouping.minibatch_kmeans_above": 0})
    rows = scaling_series("N: final layer, k-means", [(base, n) for n in ns], seed, repeats)
    rows += scaling_series("N: final layer, MiniBatchKMeans", [(mini, n) for n in ns], seed,
                           repeats)
    wide = [_with(base, **{"model.hidden_dims": (h, h)}) for h in hiddens]
    rows += scaling_series("params: final layer (closed form)", [(c, n_models) for c in wide],
                           seed, repeats)
    proj = [_with(c, **{"grouping.where": "all", "grouping.projection_dim": projection_dim})
            for c in wide]
    rows += scaling_series(f"params: all layers (torch.func, JL to {projection_dim})",
                           [(c, n_models) for c in proj], seed, max(1, repeats - 2))
    measure_memory(rows)
    exps = {}
    for name in dict.fromkeys(r["series"] for r in rows):
        part = [r for r in rows if r["series"] == name]
        x = [r["n"] if name.startswith("N:") else r["params"] for r in part]
        t, m = [r["seconds"] for r in part], [max(r["peak_bytes"], 1) for r in part]
        exps[name] = {"x": "N" if name.startswith("N:") else "parameters",
                      "time": fit_exponent(x, t), "peak_memory": fit_exponent(x, m),
                      # the largest three points only: where fixed per-call costs are small
                      "time_top": fit_exponent(x[-3:], t[-3:]),
                      "peak_memory_top": fit_exponent(x[-3:], m[-3:]),
                      "peak_over_signature_matrix": [r["peak_bytes"] / r["signature_bytes"]
                                                     for r in part]}
    return {"rows": rows, "exponents": exps, "projection_dim": projection_dim}


# ---------------------------------------------------------------- the whole benchmark


def run_benchmarks(quick: bool = False, threads: int = 1, seed: int = 0,
                   command: str = "") -> dict:
    """Everything, as one JSON-able dict. quick: tiny sizes (a smoke test, minutes -> s)."""
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    if quick:
        speed = signature_speed(n=100, repeats=1, seed=seed)
        speed_large = signature_speed(n=200, repeats=1, seed=seed)
        over = [overhead(m, p, repeats=1, seed=seed) for m in ("mlp",) for p in PRESETS]
        with threadpool_limits(1):
            scale = scaling(ns=(200, 400), hiddens=(8, 16), n_models=200, projection_dim=16,
                            seed=seed, repeats=1)
    else:
        speed = signature_speed(seed=seed)
        speed_large = signature_speed(n=10_000, seed=seed)  # context: fixed costs amortised
        over = [overhead(m, p, seed=seed) for m in ("mlp", "cnn") for p in PRESETS]
        with threadpool_limits(1):  # one thread everywhere: exponents of the algorithms
            scale = scaling(seed=seed)
    return {"command": command, "quick": quick, "environment": machine_info(threads),
            "memory_mode": memory_mode(), "signature_speed": speed,
            "signature_speed_large_n": speed_large, "overhead": over,
            "scaling": {**scale, "blas_threads": 1},
            "wall_seconds": time.perf_counter() - t0}


def write(path: str | Path, bench: dict) -> Path:
    path = Path(path)
    atomic_write_json(path, bench)
    return path


def load(path: str | Path) -> dict:
    return json.loads(Path(path).read_text())
