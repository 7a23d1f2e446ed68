"""Sampled recomputation of the results store: a sample drawn from the commit hash, rerun, compared.

The sample holds, for every study, its row of lowest rank, then further rows in rank
order while their estimated run time fits the budget. A row's rank is sha256(commit,
key, seed), so one commit always draws the same sample and successive commits draw
different ones. Each sampled (config, seed) is recomputed from scratch through
runner.sweep (no store, no cache) and its row must equal every stored copy exactly.

On a platform other than the one that made the store (reports/platform.json; the test
command's tolerant mode) a row's floats may differ within nbcompare's "decimal"
tolerance, and its integers (cluster labels, counts) must still match. Rows of the CNN
are the exception: there other float rounding re-draws each seed's run (nbcompare's
"mean" tolerance says why), so a CNN row that moves is reported, not failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from joblib import Parallel, delayed

from . import nbcompare, store, stored_checks
from .config import from_dict
from .runner import sweep

DEFAULT_BUDGET_S = 60.0  # [ours] estimated run seconds per check (UGC_SAMPLE_SECONDS); about 1 min on 2 cores
FALLBACK_ROW_S = 1.0  # estimated seconds of a row of a study without recorded seconds


@dataclass(frozen=True)
class Stored:
    """Every study's rows, by (key, seed), with each study's estimated seconds per row."""
    lines: dict[tuple[str, int], dict[str, str]]  # (key, seed) -> {study: line}
    by_study: dict[str, list[tuple[str, int]]]
    row_seconds: dict[str, float]

    @property
    def n_rows(self) -> int:
        return len(self.lines)

    def cost(self, pair: tuple[str, int]) -> float:
        return max(self.row_seconds[s] for s in self.lines[pair])


def load(directory: Path | str | None = None) -> Stored:
    lines: dict[tuple[str, int], dict[str, str]] = {}
    by_study, row_seconds = {}, {}
    seconds = store.run_seconds(directory)
    for study, path in store.studies(directory).items():
        rows = store.read_lines(path)
        by_study[study] = []
        for line in rows:
            key, seed, _ = store._head(line)
            lines.setdefault((key, seed), {})[study] = line
            by_study[study].append((key, seed))
        row_seconds[study] = (seconds[study] / max(len(rows), 1) if seconds.get(study)
                              else FALLBACK_ROW_S)
    return Stored(lines, by_study, row_seconds)


def commit_id(root: Path | str = store.PACKAGE.parent) -> str:
    """UGC_SAMPLE_COMMIT if set, else the checkout's HEAD commit, else "no-commit"."""
    if os.environ.get("UGC_SAMPLE_COMMIT"):
        return os.environ["UGC_SAMPLE_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "no-commit"


def recent_commits(n: int = 20, root: Path | str = store.PACKAGE.parent) -> list[str]:
    try:
        out = subprocess.run(["git", "log", f"-{n}", "--format=%H"], cwd=root,
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return []
    return out.split()


def rank(commit: str, pair: tuple[str, int]) -> str:
    return hashlib.sha256(f"{commit}/{pair[0]}/{pair[1]}".encode()).hexdigest()


def budget_seconds() -> float:
    value = os.environ.get("UGC_SAMPLE_SECONDS")
    try:
        budget = float(value) if value else DEFAULT_BUDGET_S
    except ValueError:
        raise ValueError(f"UGC_SAMPLE_SECONDS={value!r} is invalid: allowed a number of seconds")
    if budget < 0:
        raise ValueError(f"UGC_SAMPLE_SECONDS={value!r} is invalid: allowed >= 0")
    return budget


def plan(stored: Stored, commit: str, budget_s: float) -> list[tuple[str, int]]:
    """The sampled (key, seed) pairs: one per study, then rank order within the budget."""
    chosen = {min(pairs, key=lambda p: rank(commit, p)) for pairs in stored.by_study.values()
              if pairs}
    spent = sum(stored.cost(p) for p in chosen)
    for pair in sorted(stored.lines, key=lambda p: rank(commit, p)):
        if pair not in chosen and spent + stored.cost(pair) <= budget_s:
            chosen.add(pair)
            spent += stored.cost(pair)
    return sorted(chosen, key=lambda p: rank(commit, p))


def coverage(stored: Stored, commits: list[str], budget_s: float) -> float:
    """Fraction of the stored (key, seed) pairs that the samples of these commits cover."""
    covered = set().union(*(plan(stored, c, budget_s) for c in commits)) if commits else set()
    return len(covered) / max(stored.n_rows, 1)


def _recompute(config: dict, seeds: list[int]) -> list[str]:
    """Row lines of (config, seed) for each seed, computed from scratch in this process."""
    with store.reads_disabled():
        records = sweep([from_dict(config)], seeds, jobs=1, cache_dir=None, progress=False)
    return [store.dumps(store.to_row(r)) for r in records]


def _same(x, y, tolerant: bool) -> bool:
    if tolerant and isinstance(x, float) and isinstance(y, float):
        return nbcompare.within("decimal", x, y)
    return x == y and type(x) is type(y)


def differences(a: str, b: str, limit: int = 5, tolerant: bool = False) -> list[str]:
    """Up to limit "path: stored != recomputed" strings between two row lines (tolerant:
    floats within nbcompare's "decimal" tolerance)."""
    out: list[str] = []

    def walk(x, y, path):
        if len(out) >= limit:
            return
        if isinstance(x, dict) and isinstance(y, dict) and x.keys() == y.keys():
            for k in x:
                walk(x[k], y[k], f"{path}.{k}" if path else k)
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (u, v) in enumerate(zip(x, y)):
                walk(u, v, f"{path}[{i}]")
        elif not _same(x, y, tolerant):
            out.append(f"{path}: {json.dumps(x)[:60]} != {json.dumps(y)[:60]}")
    walk(json.loads(a), json.loads(b), "")
    return out


def check(stored: Stored, pairs: list[tuple[str, int]], jobs: int = 1, tolerant: bool = False,
          notes: list[str] | None = None) -> list[str]:
    """Recompute the pairs; one message per stored copy that differs from its recomputation
    (tolerant: as the module docstring says; a moved CNN row goes to `notes` instead).

    A row's config is recomputed as stored; a fresh row's key is the hash of that config,
    so a row whose config was edited under its old key differs in "key"."""
    groups: dict[str, list[int]] = {}
    for key, seed in pairs:
        groups.setdefault(key, []).append(seed)
    tasks = [(key, json.loads(next(iter(stored.lines[(key, seeds[0])].values())))["config"],
              sorted(seeds)) for key, seeds in groups.items()]
    results = Parallel(n_jobs=jobs)(delayed(_recompute)(c, s) for _, c, s in tasks)
    problems = []
    for (key, _, seeds), lines in zip(tasks, results):
        for seed, fresh in zip(seeds, lines):
            for study, line in stored.lines[(key, seed)].items():
                found = differences(line, fresh, tolerant=tolerant) if tolerant else (
                    [] if line == fresh else differences(line, fresh) or ["row text differs"])
                if not found:
                    continue
                message = f"{study} key={key} seed={seed}: {'; '.join(found)}"
                chaotic = tolerant and json.loads(line)["config"]["model"]["kind"] == "cnn"
                (notes if chaotic and notes is not None else problems).append(message)
    return problems


# ---------------------------------------------------------------- stored checks (stored_checks.py)

CHECK_EXTRA = 3  # [ours] checked entries beyond one per checks file (C14's check: ~0.2 s each)


def plan_checks(directory: Path | str | None, commit: str,
                extra: int = CHECK_EXTRA) -> list[tuple[str, dict]]:
    """(study, entry) pairs to recompute: each checks file's entry of lowest rank, then the
    next `extra` entries of the whole store in rank order (rank: sha256 of commit and key)."""
    def rank_of(item: tuple[str, dict]) -> str:
        return hashlib.sha256(f"{commit}/{json.dumps(stored_checks.entry_key(item[1]))}"
                              .encode()).hexdigest()
    items = [(study, e) for study, path in stored_checks.files(directory).items()
             for e in stored_checks.read_entries(path)]
    chosen = {study: min((i for i in items if i[0] == study), key=rank_of)
              for study in {s for s, _ in items}}
    picked = list(chosen.values())
    rest = [i for i in sorted(items, key=rank_of) if i not in picked]
    return sorted(picked + rest[:extra], key=rank_of)


def check_entries(sample: list[tuple[str, dict]]) -> list[str]:
    """One message per sampled checks entry whose recomputation differs (exactly: an entry
    holds booleans and shares, compared as written)."""
    problems = []
    with store.reads_disabled():
        for study, entry in sample:
            fresh = stored_checks.recompute(entry)
            if fresh != entry:
                diff = [k for k in ("key", "version", "value") if fresh[k] != entry[k]]
                problems.append(f"{study} {entry['check']} key={entry['key']} seed={entry['seed']}: "
                                f"{diff or 'entry'} differs: stored {json.dumps(entry['value'])} "
                                f"!= recomputed {json.dumps(fresh['value'])}")
    return problems
