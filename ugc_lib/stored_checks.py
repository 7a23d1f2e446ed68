"""Stored answers of checks that are not run records (C14's reruns with garbage group labels).

A few readings rest on a check that trains a config twice and compares the two models
(C14: are clusters, weights and predictions unchanged when the group labels are garbage?).
Its answer is a handful of booleans per (config, seed), not a run record, so the rows of
store.py cannot hold it; computing it live on every render was most of notebook 12's render
time. A function decorated with @stored("name") keeps its answers beside the study files,
under the rows' rules:

- file: <store>/<study>.checks.json, {"format", "study", "entries"}; one entry per
  (check, config hash, seed, kwargs) with the config, the seed, the kwargs, "version" and
  "value" (the function's JSON-able dict), sorted, so equal answers write equal bytes.
- version: store.library_version() (the run-record code) + a digest of the check's own
  source and of the helpers it names, so editing either makes the entry stale.
- while recording (UGC_STORE_RECORD, run_all.py --recompute): the check is computed and
  appended to checks.log beside the study's rows log; run_all writes the file with the study.
- under UGC_STORE_STRICT (rendering): a missing or stale entry is a store.StoreError that
  names the study to recompute.
- otherwise: a current stored entry if there is one, else computed (the store off: computed).

tests/test_store_sample.py recomputes a sample of entries (at least one per file) and
compares them exactly, as it does for rows.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
from pathlib import Path
from typing import Callable, Iterable

from . import store
from .config import RunConfig, from_dict
from .files import write_atomically

FORMAT = "ugc-checks/1"
SUFFIX = ".checks.json"
LOG_NAME = "checks.log"  # beside the rows log of a study being recorded
CHECKS: dict[str, Callable[..., dict]] = {}  # name -> the undecorated check (cfg, seed, **kwargs)
_SOURCES: dict[str, str] = {}  # name -> digest of its source and its helpers' sources
_INDEX: dict[tuple, dict] = {}  # folder state -> {(name, key, seed, kwargs json): (study, entry)}


def _digest(functions: Iterable[Callable]) -> str:
    text = "\n".join(inspect.getsource(f) for f in functions)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def version(name: str) -> str:
    """The version an entry of check `name` must carry to be current."""
    return f"{store.library_version()}+{name}:{_SOURCES[name]}"


def _kwargs_text(kwargs: dict) -> str:
    return json.dumps(kwargs, sort_keys=True, separators=(",", ":"))


def entry_key(entry: dict) -> tuple[str, str, int, str]:
    return entry["check"], entry["key"], int(entry["seed"]), _kwargs_text(entry["kwargs"])


def make_entry(name: str, cfg: RunConfig, seed: int, kwargs: dict, value: dict) -> dict:
    # A JSON round trip, so the entry written equals the entry read back; the value keeps
    # the check's own key order (the order a notebook's table shows).
    return json.loads(json.dumps({"check": name, "key": store.config_hash(cfg), "seed": int(seed),
                                  "kwargs": dict(sorted(kwargs.items())), "version": version(name),
                                  "config": cfg.to_dict(), "value": value}))


def stored(name: str, helpers: tuple[Callable, ...] = ()) -> Callable:
    """Decorator: register check `name` (a function (cfg, seed, **kwargs) -> JSON-able dict,
    keyword arguments JSON-able) and route its calls through the store. helpers: functions
    it calls outside the run-record modules, whose source is part of its version."""
    if name in CHECKS:
        raise ValueError(f"check name {name!r} is registered twice")

    def wrap(func: Callable[..., dict]) -> Callable[..., dict]:
        CHECKS[name] = func
        _SOURCES[name] = _digest((func, *helpers))

        @functools.wraps(func)
        def call(cfg: RunConfig, seed: int, **kwargs) -> dict:
            return answer(name, cfg, seed, kwargs)
        return call
    return wrap


def answer(name: str, cfg: RunConfig, seed: int, kwargs: dict) -> dict:
    """The check's value for (cfg, seed, kwargs): stored, recorded or computed (module doc)."""
    log = store.recording()
    if log is not None:
        value = make_entry(name, cfg, seed, kwargs, CHECKS[name](cfg, seed, **kwargs))
        with open(log.parent / LOG_NAME, "a") as f:  # one write per entry
            f.write(json.dumps(value) + "\n")
        return value["value"]
    root = store.store_dir()
    strict = os.environ.get("UGC_STORE_STRICT", "") not in ("", "0")
    if root is None:
        if strict:
            raise store.StoreError("UGC_STORE_STRICT is set but the store is off (UGC_STORE_DIR)")
        return CHECKS[name](cfg, seed, **kwargs)
    wanted = (name, store.config_hash(cfg), int(seed), _kwargs_text(kwargs))
    study, entry = index(root).get(wanted, (None, None))
    if entry is not None and entry["version"] == version(name):
        return entry["value"]
    if strict:
        why = "has no entry" if entry is None else f"holds a stale entry (in {study})"
        raise store.StoreError(
            f"store {root} {why} for check {name} of {cfg.name} key={wanted[1]} seed={seed}: "
            "recompute the notebook that asks for it (run_all.py --recompute --only <notebook>)")
    return CHECKS[name](cfg, seed, **kwargs)


def study_path(study: str, directory: Path | str | None = None) -> Path:
    return store.study_path(study, directory).with_name(f"{study}{SUFFIX}")


def files(directory: Path | str | None = None) -> dict[str, Path]:
    """Study -> its checks file, sorted by name."""
    root = Path(directory) if directory else store.store_dir()
    if root is None or not root.is_dir():
        return {}
    return {p.name[:-len(SUFFIX)]: p for p in sorted(root.glob(f"[!.]*{SUFFIX}"))}


def read_entries(path: Path | str) -> list[dict]:
    """The entries of one checks file, its header checked."""
    doc = json.loads(Path(path).read_text())
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path}: format {doc.get('format')!r}: allowed {FORMAT!r}")
    return doc["entries"]


def write_entries(study: str, entries: Iterable[dict], directory: Path | str | None = None) -> Path:
    """Write a checks file atomically: entries deduplicated and sorted; two different
    values for one entry key are an error."""
    by_key: dict[tuple, dict] = {}
    for entry in entries:
        if by_key.setdefault(entry_key(entry), entry) != entry:
            raise ValueError(f"study {study}: two different entries for {entry_key(entry)}")
    doc = {"format": FORMAT, "study": study, "entries": [by_key[k] for k in sorted(by_key)]}
    path = study_path(study, directory)
    write_atomically(path, lambda tmp: Path(tmp).write_text(
        json.dumps(doc, separators=(",", ":")).replace(
            '},{"check"', '},\n{"check"') + "\n"))
    return path


def index(root: Path) -> dict[tuple, tuple[str, dict]]:
    """(check, key, seed, kwargs) -> (study, entry) over every checks file of root, rebuilt
    when a file changes."""
    found = files(root)
    sig = (str(root), *((s, p.stat().st_mtime_ns, p.stat().st_size) for s, p in found.items()))
    if sig not in _INDEX:
        out: dict[tuple, tuple[str, dict]] = {}
        for study, path in found.items():
            for entry in read_entries(path):
                out.setdefault(entry_key(entry), (study, entry))
        _INDEX.clear()
        _INDEX[sig] = out
    return _INDEX[sig]


def commit_log(study: str, rows_log: Path | str, directory: Path | str | None = None) -> Path | None:
    """Write <study>.checks.json from the checks log beside a finished recording's rows log
    (none recorded: a previous checks file of the study is removed)."""
    log = Path(rows_log).parent / LOG_NAME
    entries = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    if entries:
        return write_entries(study, entries, directory)
    study_path(study, directory).unlink(missing_ok=True)
    return None


def recompute(entry: dict) -> dict:
    """The entry computed again from scratch (its config, seed and kwargs)."""
    name = entry["check"]
    if name not in CHECKS:
        raise KeyError(f"check {name!r} is not registered: allowed {sorted(CHECKS)}")
    cfg = from_dict(entry["config"])
    return make_entry(name, cfg, entry["seed"], entry["kwargs"],
                      CHECKS[name](cfg, entry["seed"], **entry["kwargs"]))


def stale_entries(directory: Path | str | None = None) -> dict[str, int]:
    """Study -> number of its checks entries whose version is not current (none: absent).
    An entry of a check no module registers is stale too."""
    out = {}
    for study, path in files(directory).items():
        n = sum(e["check"] not in CHECKS or e["version"] != version(e["check"])
                for e in read_entries(path))
        if n:
            out[study] = n
    return out


__all__ = ["CHECKS", "FORMAT", "answer", "commit_log", "files", "read_entries", "recompute",
           "stale_entries", "stored", "study_path", "version", "write_entries"]
