"""The results store: committed rows per study, keyed by (config hash, seed), read before the cache.

A study is a notebook that asks the runner for runs; its rows are every (config, seed)
pair it asks for, in reports/store/<notebook>.jsonl.gz (gzip without a timestamp). Line 1
is a header {"format", "study", "rows"}; then one row per line, sorted by (key, seed), so
recomputing equal rows gives an equal file. A row is a run record (train.run_experiment) without its
wall times and without "final" (rebuilt from the history), with its floats rounded to
float32 (written in their shortest float32 form) and with "key", the config hash. Its
"version" is library_version(): the package version plus code_digest(), a digest of the
modules that compute a record (RECORD_MODULES), so a row is stale when that code changes.

Environment:
  UGC_STORE_DIR     the store folder (default: reports/store of this checkout; "off": none)
  UGC_STORE_STRICT  "1": a run that is missing or stale in the store is an error, not a
                    computation (rendering the committed notebooks, nbval)
  UGC_STORE_RECORD  a rows log: recording a study from scratch (run_all.py --recompute).
                    Lookups are off; every record the runner returns is appended as a row
                    and returned as the row reads back, so a notebook executed while
                    recording shows exactly what it later renders from the store.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from .config import RunConfig
from .files import write_atomically
from .version import __version__

FORMAT = "ugc-store/1"
SUFFIX = ".jsonl.gz"
SECONDS_FILE = "run_seconds.json"  # study -> its runs' wall seconds when recorded (not rows)
PACKAGE = Path(__file__).resolve().parent
DEFAULT_DIR = PACKAGE.parent / "reports" / "store"
# The modules whose code can change a run's record: the cache key and every row's version
# hash these alone, so that editing a figure, a table, a claim's prose or a notebook helper
# keeps the cached runs and the stored rows. A name is a module (name.py) or a package
# directory (all its .py files); a name that does not exist is skipped.
RECORD_MODULES = ("config", "repro", "data", "models", "gradients", "grasp", "grouping", "objectives",
                  "metrics", "cluster_scores", "train", "stacked", "batched", "batched_grouping",
                  "fast_kmeans", "runner", "store")
# Modules the runner imports that compute no number of a record, so that a change to them
# keeps the cache and the store: they check inputs (a config they reject cannot be built,
# so no stored row can stand for it), write files, name the package version (part of every
# version string anyway) or send runs to a Dask cluster (whose records equal the local
# ones: tests/test_cluster.py).
INFRASTRUCTURE = ("validation", "files", "version", "cluster")
# Row fields in file order; "key", "seed", "version" first, so an index reads them by regex.
ROW_FIELDS = ("key", "seed", "version", "config", "history", "clusters", "recovery",
              "objective_state")
_HEAD = re.compile(r'^\{"key":"([0-9a-f]+)","seed":(\d+),"version":"([^"]*)"')


# ---------------------------------------------------------------- code hash

def code_digest(package: Path = PACKAGE) -> str:
    """12 hex digits of sha256 over the RECORD_MODULES sources under `package`."""
    digest = hashlib.sha256()
    for name in RECORD_MODULES:
        module, folder = package / f"{name}.py", package / name
        files = [module] if module.is_file() else \
            sorted(folder.rglob("*.py")) if folder.is_dir() else []
        for path in files:
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=1)
def library_version() -> str:
    """The version a record and a row carry: package version + code_digest()."""
    return f"{__version__}+{code_digest(PACKAGE)}"


# ---------------------------------------------------------------- rows

def config_hash(config: RunConfig | dict) -> str:
    """16 hex digits of sha256 over the config's canonical JSON (code version not included)."""
    if isinstance(config, RunConfig):
        return _config_hash(config)  # a frozen config: hashed once per process
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


@lru_cache(maxsize=8192)
def _config_hash(config: RunConfig) -> str:
    return config_hash(config.to_dict())


def float32(value):
    """Floats rounded to float32 and kept in their shortest float32 decimal form, recursively
    (0.985 stays 0.985; 2/3 becomes 0.6666667); ints, strings, None unchanged."""
    if isinstance(value, float):
        return float(str(np.float32(value))) if np.isfinite(value) else value
    if isinstance(value, dict):
        return {k: float32(v) for k, v in value.items()}
    if isinstance(value, list):
        return [float32(v) for v in value]
    return value


def to_row(record: dict) -> dict:
    """The stored form of a record: see the module docstring."""
    missing = [f for f in ROW_FIELDS[1:] if f not in record]
    if missing:
        raise ValueError(f"record has no {missing}: a row needs {list(ROW_FIELDS[1:])}")
    row = {"key": config_hash(record["config"]), "seed": int(record["seed"]),
           "version": record["version"], "config": record["config"]}
    for field in ROW_FIELDS[4:]:
        row[field] = float32(record[field])
    return row


def to_record(row: dict) -> dict:
    """The record a row stands for: the row without "key", "final" rebuilt from the history."""
    train = row["config"]["train"]
    last = train["warmup_epochs"] + train["robust_epochs"]
    final = {h["split"]: h for h in row["history"] if h["epoch"] == last}
    return {"config": row["config"], "seed": row["seed"], "history": row["history"],
            "final": final, "clusters": row["clusters"], "recovery": row["recovery"],
            "objective_state": row["objective_state"], "version": row["version"]}


def dumps(row: dict) -> str:
    """One line of a study file: compact strict JSON, fields in ROW_FIELDS order."""
    return json.dumps({f: row[f] for f in ROW_FIELDS}, separators=(",", ":"), allow_nan=False)


# ---------------------------------------------------------------- files

def store_dir() -> Path | None:
    """UGC_STORE_DIR if set ("off" or "" disables the store), else DEFAULT_DIR."""
    value = os.environ.get("UGC_STORE_DIR")
    if value is not None:
        return None if value.lower() in ("", "off", "none", "0") else Path(value).expanduser()
    return DEFAULT_DIR


def _checked(study: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_]+", study):
        raise ValueError(f"study={study!r} is invalid: allowed letters, digits and '_'")
    return study


def study_path(study: str, directory: Path | str | None = None) -> Path:
    return Path(directory or store_dir() or DEFAULT_DIR) / f"{_checked(study)}{SUFFIX}"


def write_study(study: str, lines: Iterable[str], directory: Path | str | None = None) -> Path:
    """Write a study file atomically (temp file in the same folder, fsync, os.replace).

    lines are dumps() rows; they are deduplicated (an equal pair asked twice) and sorted
    by (key, seed). Two different rows for one (key, seed) are an error.
    """
    by_pair: dict[tuple[str, int], str] = {}
    for line in lines:
        key, seed, _ = _head(line)
        if by_pair.setdefault((key, seed), line) != line:
            raise ValueError(f"study {study}: two different rows for key={key} seed={seed}")
    header = json.dumps({"format": FORMAT, "study": study, "rows": len(by_pair)})
    text = "\n".join([header] + [by_pair[p] for p in sorted(by_pair)]) + "\n"
    path = study_path(study, directory)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode())

    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
    write_atomically(path, write)
    return path


def read_study(path: Path | str) -> tuple[dict, list[str]]:
    """(header, row lines) of one study file, the header checked."""
    with gzip.open(path, "rt") as f:
        lines = f.read().splitlines()
    header = json.loads(lines[0]) if lines else {}
    if header.get("format") != FORMAT:
        raise ValueError(f"{path}: format {header.get('format')!r}: allowed {FORMAT!r}")
    if header.get("rows") != len(lines) - 1:
        raise ValueError(f"{path}: header says {header.get('rows')} rows, file has {len(lines) - 1}")
    return header, lines[1:]


def read_lines(path: Path | str) -> list[str]:
    """The row lines of one study file."""
    return read_study(path)[1]


def studies(directory: Path | str | None = None) -> dict[str, Path]:
    """Study name -> file, sorted by name."""
    root = Path(directory) if directory else store_dir()
    if root is None or not root.is_dir():
        return {}
    return {p.name[:-len(SUFFIX)]: p for p in sorted(root.glob(f"[!.]*{SUFFIX}"))}


def _head(line: str) -> tuple[str, int, str]:
    """(key, seed, version) of a row line, read without parsing the whole row."""
    m = _HEAD.match(line)
    if m is None:
        raise ValueError(f"not a store row (expected {{\"key\":..,\"seed\":..,\"version\":..}}): "
                         f"{line[:80]!r}")
    return m.group(1), int(m.group(2)), m.group(3)


# ---------------------------------------------------------------- lookup

class StoreError(LookupError):
    """A run the strict store does not hold, or holds for other code or inconsistently."""


_INDEX: dict[tuple, dict] = {}  # (folder, its files' (name, mtime, size)) -> index
_READS_OFF = [False]  # set by reads_disabled() in this process


def _signature(root: Path) -> tuple:
    """The folder and its study files' (name, mtime, size): one scandir, no glob."""
    try:
        entries = sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in os.scandir(root)
                         if e.name.endswith(SUFFIX) and not e.name.startswith("."))
    except FileNotFoundError:
        entries = []
    return (str(root), *entries)


def index(root: Path) -> dict[tuple[str, int], tuple[str, str]]:
    """(key, seed) -> (study, line) over every study file of root, built once per state of
    the folder. A pair stored differently in two studies maps to (studies, None)."""
    sig = _signature(root)
    if sig not in _INDEX:
        out: dict[tuple[str, int], tuple[str, str | None]] = {}
        for study, path in studies(root).items():
            for line in read_lines(path):
                key, seed, _ = _head(line)
                seen = out.setdefault((key, seed), (study, line))
                if seen[1] is not None and seen[1] != line:
                    out[(key, seed)] = (f"{seen[0]} and {study}", None)
        _INDEX.clear()
        _INDEX[sig] = out
    return _INDEX[sig]


def recording() -> Path | None:
    value = os.environ.get("UGC_STORE_RECORD")
    return Path(value) if value else None


@contextlib.contextmanager
def reads_disabled() -> Iterator[None]:
    """Lookups return None in this process (a recomputation from scratch)."""
    before = _READS_OFF[0]
    _READS_OFF[0] = True
    try:
        yield
    finally:
        _READS_OFF[0] = before


def lookup(cfg: RunConfig, seed: int) -> dict | None:
    """The stored record of (cfg, seed) for the current code, or None (then the runner
    reads its cache or computes). Under UGC_STORE_STRICT a miss raises StoreError."""
    root = store_dir()
    if _READS_OFF[0] or recording() is not None:
        return None
    strict = os.environ.get("UGC_STORE_STRICT", "") not in ("", "0")
    if root is None:
        if strict:
            raise StoreError("UGC_STORE_STRICT is set but the store is off (UGC_STORE_DIR)")
        return None
    key = config_hash(cfg)
    study, line = index(root).get((key, int(seed)), (None, None))
    if study is not None and line is None:
        raise StoreError(f"store {root}: key={key} seed={seed} differs between {study}")
    if line is None:
        if strict:
            raise StoreError(f"store {root} has no row for {cfg.name} key={key} seed={seed}: "
                             "recompute the notebook that asks for it (run_all.py --recompute)")
        return None
    if _head(line)[2] != library_version():
        if strict:
            raise StoreError(f"store {root}: row {study} key={key} seed={seed} is stale "
                             f"(version {_head(line)[2]}, code {library_version()}): recompute "
                             f"it (run_all.py --recompute --only {study})")
        return None
    return to_record(json.loads(line))


def keep(record: dict) -> dict:
    """A record the runner obtained (computed or cached). While recording, appended to the
    rows log and returned as its row reads back; otherwise returned unchanged."""
    log = recording()
    if log is None:
        return record
    line = dumps(to_row(record))
    seconds = record.get("timings", {}).get("total")
    with open(log, "a") as f:  # one write per line; the log is restarted with each attempt
        f.write(json.dumps({"seconds": seconds}) + "\t" + line + "\n")
    return to_record(json.loads(line))


def read_log(log: Path | str) -> tuple[list[str], float]:
    """(row lines, run seconds summed once per (key, seed)) of a rows log written by keep()."""
    lines, seconds = [], {}
    for entry in Path(log).read_text().splitlines():
        meta, line = entry.split("\t", 1)
        lines.append(line)
        seconds.setdefault(_head(line)[:2], json.loads(meta)["seconds"] or 0.0)
    return lines, float(sum(seconds.values()))


def work_dir(study: str | None = None, directory: Path | str | None = None) -> Path:
    """Scratch folder of recordings: <store>/.work/cache, the run cache that the studies
    recorded together share (kept until they are all written, so a killed recomputation
    resumes), and <store>/.work/<study>/, the rows log of one study (restarted by each
    attempt). study=None: the .work folder itself."""
    root = Path(directory or store_dir() or DEFAULT_DIR) / ".work"
    return root if study is None else root / _checked(study)


def commit_log(study: str, log: Path | str, directory: Path | str | None = None) -> Path | None:
    """Write the study file from a finished recording's rows log (none if it asked for no
    run: then a previous file of that study is removed) and its runs' seconds to
    SECONDS_FILE. Returns the study file written."""
    lines, seconds = read_log(log) if Path(log).exists() else ([], 0.0)
    path = study_path(study, directory)
    with _locked(path.parent / SECONDS_FILE) as table:
        if lines:
            write_study(study, lines, directory)
            table[study] = round(seconds, 1)
            return path
        path.unlink(missing_ok=True)
        table.pop(study, None)
    return None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[dict]:
    """A small JSON table, read and rewritten under an exclusive lock (two notebooks may
    finish their recordings at once)."""
    import fcntl  # POSIX only, and only needed while recording

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        table = json.loads(path.read_text()) if path.exists() else {}
        yield table
        write_atomically(path, lambda tmp: Path(tmp).write_text(
            json.dumps(dict(sorted(table.items())), indent=1) + "\n"))


def run_seconds(directory: Path | str | None = None) -> dict[str, float]:
    """Study -> summed wall seconds of its runs when last recorded (sizes the sampled check)."""
    path = Path(directory or store_dir() or DEFAULT_DIR) / SECONDS_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def stale_rows(directory: Path | str | None = None) -> dict[str, int]:
    """Study -> number of its rows whose version is not library_version() (none: absent)."""
    current = library_version()
    out = {}
    for study, path in studies(directory).items():
        n = sum(_head(line)[2] != current for line in read_lines(path))
        if n:
            out[study] = n
    return out
