"""run(config, seed) with an on-disk cache, sweeps, and the tidy results frame.

A record is cached under <cache_dir>/<key>.json where key hashes the config, the
seed and the library version (the package version plus a digest of its source, so
any code change invalidates the cache). Writes go to a temp file in the same folder,
then os.replace: an interrupted write never leaves a readable partial entry.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from . import __version__
from .cluster import scheduler_address
from .config import RunConfig
from .train import progress_disabled, run_experiment


@lru_cache(maxsize=1)
def library_version() -> str:
    """Package version plus a digest of every module's source."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{__version__}+{digest.hexdigest()[:12]}"


def default_cache_dir() -> Path | None:
    """UGC_CACHE_DIR if set ("off" disables the cache), else ~/.cache/ugc_lib/runs."""
    value = os.environ.get("UGC_CACHE_DIR")
    if value is not None:
        return None if value.lower() in ("", "off", "none", "0") else Path(value)
    return Path.home() / ".cache" / "ugc_lib" / "runs"


def cache_key(cfg: RunConfig, seed: int) -> str:
    payload = json.dumps({"config": cfg.to_dict(), "seed": int(seed),
                          "version": library_version()}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:20]


def atomic_write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_cached(path: Path) -> dict | None:
    """The cached record, or None when absent or unreadable (then it is recomputed)."""
    try:
        with open(path) as f:
            record = json.load(f)
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    return record if isinstance(record, dict) and "config" in record else None


def run(cfg: RunConfig, seed: int, cache_dir: Path | str | None | bool = True,
        progress: bool | None = None) -> dict:
    """One run, from the cache when present. cache_dir=True uses default_cache_dir()."""
    if not isinstance(cfg, RunConfig):
        raise TypeError(f"cfg must be a RunConfig, got {type(cfg).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed={seed!r} is invalid: allowed a non-negative integer")
    seed = int(seed)
    directory = default_cache_dir() if cache_dir is True else (Path(cache_dir) if cache_dir else None)
    path = directory / f"{cache_key(cfg, seed)}.json" if directory else None
    if path is not None:
        cached = read_cached(path)
        if cached is not None:
            return cached
    record = run_experiment(cfg, seed, progress=progress)
    record["version"] = library_version()
    if path is not None:
        atomic_write_json(path, record)
    return record


def _run_quiet(cfg: RunConfig, seed: int, cache_dir) -> dict:
    return run(cfg, seed, cache_dir=cache_dir, progress=False)


def _run_chunk(chunk: list[tuple[RunConfig, int]]) -> list[dict]:
    """One cluster task: its records go back to the client, which caches them."""
    return [_run_quiet(cfg, seed, None) for cfg, seed in chunk]


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
    """Every (config, seed) pair, in input order. Cached records are read here; only the
    missing runs go to worker processes (when jobs > 1 and more than one is missing), or
    to a Dask cluster when one is named (scheduler=, else UGC_SCHEDULER; see cluster.py;
    jobs is then unused)."""
    pairs = [(cfg, int(seed)) for cfg in configs for seed in seeds]
    if jobs < 1:
        raise ValueError(f"jobs={jobs} is invalid: allowed an integer >= 1")
    if cache_dir is True:
        cache_dir = default_cache_dir()  # resolved here: worker processes keep a stale env
    directory = Path(cache_dir) if cache_dir else None
    records: list[dict | None] = [
        read_cached(directory / f"{cache_key(cfg, seed)}.json") if directory else None
        for cfg, seed in pairs]
    missing = [i for i, rec in enumerate(records) if rec is None]
    bar = None
    if missing and not progress_disabled(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=len(missing), desc="runs", leave=False)
    address = scheduler_address(scheduler)  # None: the local path below
    if missing and address is not None:  # connects and submits now, or fails before any work
        from .cluster import run_pairs
        computed = ((missing[j], rec) for j, rec in
                    run_pairs(_run_chunk, [pairs[i] for i in missing], address))
    elif jobs == 1 or len(missing) <= 1:
        computed = zip(missing, (_run_quiet(*pairs[i], cache_dir) for i in missing))
    else:
        from joblib import Parallel, delayed
        computed = zip(missing, Parallel(n_jobs=jobs, return_as="generator")(
            delayed(_run_quiet)(*pairs[i], cache_dir) for i in missing))
    for i, rec in computed:
        if address is not None:
            _keep_remote(directory, *pairs[i], rec)
        records[i] = rec
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
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


def final_frame(records: Sequence[dict]) -> pd.DataFrame:
    """One row per run x split at the last epoch."""
    df = to_frame(records)
    last = df.groupby("run")["epoch"].transform("max")
    return df[df["epoch"] == last].reset_index(drop=True)
