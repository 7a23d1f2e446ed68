"""run(config, seed) with an on-disk cache, sweeps, and the tidy results frame.

A record is cached under <cache_dir>/<key>.json where key hashes the config, the
seed and the library version (the package version plus a digest of its source, so
any code change invalidates the cache). Writes go to a temp file in the same folder,
then os.replace: an interrupted write never leaves a readable partial entry.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from .files import write_atomically
from .version import __version__
from .config import RunConfig
from .train import progress_disabled, run_experiment


@lru_cache(maxsize=1)
def library_version() -> str:
    """Package version plus a digest of every module's source (subpackages included)."""
    digest = hashlib.sha256()
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
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


def run(cfg: RunConfig, seed: int, cache_dir: Path | str | None | bool = True,
        progress: bool | None = None) -> dict:
    """One run, from the cache when present. cache_dir=True uses default_cache_dir()."""
    if not isinstance(cfg, RunConfig):
        raise TypeError(f"cfg must be a RunConfig, got {type(cfg).__name__}")
    seed = check_seed(seed)
    directory = default_cache_dir() if cache_dir is True else (Path(cache_dir) if cache_dir else None)
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
    return run(cfg, seed, cache_dir=cache_dir, progress=False)


def sweep(configs: Sequence[RunConfig], seeds: Iterable[int], jobs: int = 1,
          cache_dir: Path | str | None | bool = True, progress: bool | None = None) -> list[dict]:
    """Every (config, seed) pair, in input order. Cached records are read here; only the
    missing runs go to worker processes (when jobs > 1 and more than one is missing)."""
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
    records: list[dict | None] = [
        read_cached(directory / f"{cache_key(cfg, seed)}.json", cfg, seed) if directory else None
        for cfg, seed in pairs]
    missing = [i for i, rec in enumerate(records) if rec is None]
    bar = None
    if missing and not progress_disabled(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=len(missing), desc="runs", leave=False)
    if jobs == 1 or len(missing) <= 1:
        computed = (_run_quiet(*pairs[i], cache_dir) for i in missing)
    else:
        from joblib import Parallel, delayed
        computed = Parallel(n_jobs=jobs, return_as="generator")(
            delayed(_run_quiet)(*pairs[i], cache_dir) for i in missing)
    for i, rec in zip(missing, computed):
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
