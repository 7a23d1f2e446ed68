"""run(config, seed) with an on-disk cache, sweeps, and the tidy results frame.

A record is cached under <cache_dir>/<key>.json where key hashes the config, the
seed and the library version (the package version plus a digest of the source of
RECORD_MODULES, so any change to the code that computes a record invalidates the
cache, and a change to figures, tables or prose does not). Writes go to a temp file in the same folder,
then os.replace: an interrupted write never leaves a readable partial entry.
run and sweep look up the committed results store (store.py) first, then the cache,
then compute; while a study is being recorded, every record they return is kept as a row.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import warnings
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from . import batched, store
from .cluster import run_pairs, scheduler_address
from .config import RunConfig
from .files import write_atomically
from .store import RECORD_MODULES, code_digest, library_version  # noqa: F401 (re-exported)
from .train import progress_disabled, run_experiment


def default_cache_dir() -> Path | None:
    """UGC_CACHE_DIR if set ("off" disables the cache), else ~/.cache/ugc_lib/runs; "~" is
    expanded and a relative path is made absolute from the working directory now, so that
    worker processes started elsewhere write to the same folder."""
    value = os.environ.get("UGC_CACHE_DIR")
    if value is not None:
        if value.lower() in ("", "off", "none", "0"):
            return None
        return Path(value).expanduser().resolve()
    return Path.home() / ".cache" / "ugc_lib" / "runs"


def cache_key(cfg: RunConfig, seed: int) -> str:
    payload = json.dumps({"config": cfg.to_dict(), "seed": int(seed),
                          "version": library_version()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def atomic_write_json(path: Path, obj) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w") as f:
            json.dump(obj, f)
            f.flush()
            os.fsync(f.fileno())
    write_atomically(path, write)


RECORD_KEYS = ("config", "seed", "history", "final", "clusters", "recovery", "objective_state",
               "timings", "version")


def _entry_problem(record, cfg: RunConfig | None, seed: int | None) -> str | None:
    """Why a cache entry cannot stand for (cfg, seed), or None when it can."""
    if not isinstance(record, dict):
        return "not a JSON object"
    missing = [k for k in RECORD_KEYS if k not in record]
    if missing:
        return f"lacks {missing}"
    if cfg is not None and record["config"] != json.loads(json.dumps(cfg.to_dict())):
        return "holds another config's record"
    if seed is not None and record["seed"] != seed:
        return f"holds seed {record['seed']!r}, not {seed}"
    if record["version"] != library_version():
        return f"was written by code version {record['version']!r}"
    finals = [v for row in record["final"].values() for v in row.values()
              if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not all(math.isfinite(v) for v in finals):
        return "holds a non-finite metric"
    return None


def read_cached(path: Path, cfg: RunConfig | None = None, seed: int | None = None) -> dict | None:
    """The cached record for (cfg, seed), or None when absent or unusable: unreadable, another
    config's or seed's, another code version's, incomplete or non-finite entries are
    recomputed, with a warning saying why."""
    try:
        with open(path) as f:
            record = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        warnings.warn(f"cache entry {path} is unreadable ({type(err).__name__}); recomputing",
                      RuntimeWarning, stacklevel=2)
        return None
    problem = _entry_problem(record, cfg, seed)
    if problem is not None:
        warnings.warn(f"cache entry {path} {problem}; recomputing", RuntimeWarning, stacklevel=2)
        return None
    return record


MAX_SEED = 2 ** 32  # NumPy's legacy seeding takes seeds below this


def check_seed(seed) -> int:
    """seed as an int, or ValueError: seeds are integers in [0, 2**32)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < MAX_SEED:
        raise ValueError(f"seed={seed!r} is invalid: allowed an integer in [0, 2**32)")
    return int(seed)


def _check(cfg: RunConfig, seed: int) -> None:
    if not isinstance(cfg, RunConfig):
        raise TypeError(f"cfg must be a RunConfig, got {type(cfg).__name__}")
    check_seed(seed)


def run(cfg: RunConfig, seed: int, cache_dir: Path | str | None | bool = True,
        progress: bool | None = None) -> dict:
    """One run, from the cache when present. cache_dir=True uses default_cache_dir()."""
    _check(cfg, seed)
    seed = int(seed)
    stored = store.lookup(cfg, seed)
    if stored is not None:
        return stored
    directory = default_cache_dir() if cache_dir is True else (Path(cache_dir) if cache_dir else None)
    return store.keep(_cached_run(cfg, seed, directory, progress))


def _cached_run(cfg: RunConfig, seed: int, directory: Path | None, progress: bool | None) -> dict:
    """One run from the cache folder when present there, else computed and cached."""
    path = directory / f"{cache_key(cfg, seed)}.json" if directory else None
    if path is not None:
        cached = read_cached(path, cfg, seed)
        if cached is not None:
            return cached
    record = run_experiment(cfg, seed, progress=progress)
    record["version"] = library_version()
    if path is not None:
        atomic_write_json(path, record)
    return record


def _run_quiet(cfg: RunConfig, seed: int, cache_dir) -> dict:
    return _cached_run(cfg, seed, Path(cache_dir) if cache_dir else None, progress=False)


BATCH_SEEDS = 64  # [ours] most seeds of one config trained as one stack (memory bound)


def _run_group(cfg: RunConfig, seeds: list[int], cache_dir) -> list[dict]:
    """The missing runs of one config: one stacked batch (batched.run_batched, records
    equal to run's) when there are several seeds, else run. A config that cannot be
    stacked (batched.batch_problem gives the reason, e.g. a method with its own batch
    loss, or seeds whose data differ in shape) runs one seed at a time."""
    if len(seeds) < 2 or batched.batch_problem(cfg) is not None:
        return [_run_quiet(cfg, seed, cache_dir) for seed in seeds]
    for seed in seeds:
        _check(cfg, seed)
    try:
        records = batched.run_batched(cfg, seeds, progress=False)
    except batched.CannotBatch:
        return [_run_quiet(cfg, seed, cache_dir) for seed in seeds]
    for seed, record in zip(seeds, records):
        record["version"] = library_version()
        if cache_dir:
            atomic_write_json(Path(cache_dir) / f"{cache_key(cfg, seed)}.json", record)
    return records


def _groups(pairs: list[tuple[RunConfig, int]], missing: list[int], jobs: int
            ) -> list[tuple[RunConfig, list[int]]]:
    """Missing pair indices grouped by config, in chunks of at most BATCH_SEEDS; split
    further so that `jobs` workers all get a chunk when there are few configs."""
    by_cfg: dict[RunConfig, list[int]] = {}
    for i in missing:
        by_cfg.setdefault(pairs[i][0], []).append(i)
    splits = -(-jobs // max(len(by_cfg), 1))  # chunks per config
    out = []
    for cfg, idx in by_cfg.items():
        size = min(BATCH_SEEDS, -(-len(idx) // splits))
        out += [(cfg, idx[lo:lo + size]) for lo in range(0, len(idx), size)]
    return out


def _run_chunk(chunk: list[tuple[RunConfig, int]]) -> list[dict]:
    """One cluster task (a chunk of one config's consecutive seeds, cluster.plan_chunks):
    trained as one stack where possible; the records go back to the client, which caches
    them (no shared filesystem)."""
    cfg = chunk[0][0]
    if all(c == cfg for c, _ in chunk):
        return _run_group(cfg, [s for _, s in chunk], None)
    return [_run_quiet(c, s, None) for c, s in chunk]


def _keep_remote(directory: Path | None, cfg: RunConfig, seed: int, rec: dict) -> None:
    """A record from a cluster worker: same library as here, then cached by this client."""
    if rec.get("version") != library_version():
        raise RuntimeError(f"a Dask worker ran ugc_lib {rec.get('version')}, this client "
                           f"{library_version()}: start the workers from the same checkout")
    if directory is not None:
        atomic_write_json(directory / f"{cache_key(cfg, seed)}.json", rec)


def sweep(configs: Sequence[RunConfig], seeds: Iterable[int], jobs: int = 1,
          cache_dir: Path | str | None | bool = True, progress: bool | None = None,
          scheduler: str | bool | None = None) -> list[dict]:
    """Every (config, seed) pair, in input order. Stored rows (store.py), then cached records
    are read here; the
    missing seeds of each config are trained together as one stack (batched.py; records
    equal to one-at-a-time runs) and cached per (config, seed) as run caches them.
    Groups go to worker processes when jobs > 1 and there is more than one, or to a Dask
    cluster when one is named (scheduler=, else UGC_SCHEDULER; see cluster.py; jobs is
    then unused)."""
    configs, seeds = list(configs), [check_seed(s) for s in seeds]  # iterators read once
    for cfg in configs:
        if not isinstance(cfg, RunConfig):
            raise TypeError(f"configs must hold RunConfig objects, got {type(cfg).__name__}")
    pairs = [(cfg, seed) for cfg in configs for seed in seeds]
    if jobs < 1:
        raise ValueError(f"jobs={jobs} is invalid: allowed an integer >= 1")
    if cache_dir is True:
        cache_dir = default_cache_dir()  # resolved here: worker processes keep a stale env
    directory = Path(cache_dir) if cache_dir else None
    records: list[dict | None] = [store.lookup(cfg, seed) for cfg, seed in pairs]
    fresh = [i for i, rec in enumerate(records) if rec is None]  # not in the store
    for i in fresh:
        cfg, seed = pairs[i]
        records[i] = (read_cached(directory / f"{cache_key(cfg, seed)}.json", cfg, seed)
                      if directory else None)
    missing = [i for i, rec in enumerate(records) if rec is None]
    bar = None
    if missing and not progress_disabled(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=len(missing), desc="runs", leave=False)
    address = scheduler_address(scheduler)  # None: the local path below
    if missing and address is not None:  # connects and submits now, or fails before any work
        done = ((missing[j], rec) for j, rec in
                run_pairs(_run_chunk, [pairs[i] for i in missing], address))
        for i, rec in done:
            _keep_remote(directory, *pairs[i], rec)
            records[i] = rec
            if bar is not None:
                bar.update(1)
        groups, computed = [], iter(())
    else:
        groups = _groups(pairs, missing, jobs)
        seeds_of = [[pairs[i][1] for i in idx] for _, idx in groups]
        if jobs == 1 or len(groups) <= 1:
            computed = (_run_group(cfg, s, cache_dir) for (cfg, _), s in zip(groups, seeds_of))
        else:
            from joblib import Parallel, delayed
            computed = Parallel(n_jobs=jobs, return_as="generator")(
                delayed(_run_group)(cfg, s, cache_dir) for (cfg, _), s in zip(groups, seeds_of))
    for (_, idx), recs in zip(groups, computed):
        for i, rec in zip(idx, recs):
            records[i] = rec
        if bar is not None:
            bar.update(len(idx))
    if bar is not None:
        bar.close()
    for i in fresh:
        records[i] = store.keep(records[i])
    return records


def _flat_config(cfg: dict) -> dict:
    out = {"preset": cfg["name"]}
    for section, values in cfg.items():
        if isinstance(values, dict):
            for k, v in values.items():
                out[f"{section}.{k}"] = tuple(v) if isinstance(v, list) else v
    return out


def to_frame(records: Sequence[dict]) -> pd.DataFrame:
    """Tidy frame: one row per run x epoch x split, with the flattened config and seed.

    "run" numbers the records in order; it tells apart runs that share a preset name.
    """
    rows = []
    for run_index, rec in enumerate(records):
        base = {"run": run_index, **_flat_config(rec["config"]), "seed": rec["seed"],
                **{f"rec_{k}": v for k, v in rec["recovery"].items()}}
        for h in rec["history"]:
            rows.append({**base, **h})
    return pd.DataFrame(rows)
