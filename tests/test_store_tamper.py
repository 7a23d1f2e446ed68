"""Tampering with one stored number, on a tiny fixture store: the sampled recomputation fails
whenever that row is sampled, and nbval fails in the cell that shows the number (only there)."""

from __future__ import annotations

import gzip
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

import ugc_lib.runner as runner
from conftest import make_tiny
from ugc_lib import audit, store

ROOT = Path(__file__).resolve().parents[1]
STUDY = "00_fixture"


def _notebook(cfg_json: str, shown: list[str]) -> nbformat.NotebookNode:
    """Three cells: load the runs of seeds 0 and 1 through the library, then show each one's
    last-epoch test accuracy in a cell of its own; the committed outputs are `shown`."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"import json\nfrom ugc_lib import config, runner\n"
                                          f"cfg = config.from_dict(json.loads({cfg_json!r}))\n"
                                          f"records = runner.sweep([cfg], [0, 1])",
                                          execution_count=1)]
    for seed, text in enumerate(shown):
        cell = nbformat.v4.new_code_cell(
            f"print(f\"seed {seed}: test accuracy {{records[{seed}]['final']['test']['acc']}}\")")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cell.execution_count = seed + 2
        nb.cells.append(cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _tamper(path: Path, seed: int) -> tuple[float, float]:
    """Change the last-epoch test accuracy of one seed's row in a study file; (old, new)."""
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    for i, line in enumerate(lines[1:], start=1):
        row = json.loads(line)
        if row["seed"] == seed:
            last = row["history"][-1]
            assert last["split"] == "test"
            old = last["acc"]
            last["acc"] = round(old - 0.02, 4)
            lines[i] = store.dumps(row)
            path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
            return old, last["acc"]
    raise AssertionError(f"no row with seed {seed}")


def _nbval(nb_path: Path, env: dict) -> tuple[int, dict[str, str]]:
    """(exit code, {cell item: PASSED/FAILED}) of nbval over one notebook."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider",
                           "--nbval", nb_path.name], cwd=nb_path.parent, env=env,
                          capture_output=True, text=True, timeout=300)
    items = dict(re.findall(r"::(Cell \d+) (PASSED|FAILED)", proc.stdout))
    return proc.returncode, items


def test_tampered_number_fails_the_sample_that_draws_it_and_nbval_where_shown(tmp_path):
    cfg = make_tiny()
    folder = tmp_path / "store"
    with store.reads_disabled():
        records = runner.sweep([cfg], [0, 1], cache_dir=None)
    path = store.write_study(STUDY, [store.dumps(store.to_row(r)) for r in records], folder)
    env = {**os.environ, "UGC_STORE_DIR": str(folder), "UGC_STORE_STRICT": "1",
           "UGC_CACHE_DIR": "off", "PYTHONPATH": os.pathsep.join(
               [str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    env.pop("UGC_STORE_RECORD", None)

    # The fixture notebook, its outputs the numbers the store holds; nbval passes on it.
    nb_path = tmp_path / "fixture.ipynb"
    shown = [f"seed {r['seed']}: test accuracy {r['final']['test']['acc']}\n"
             for r in (store.to_record(json.loads(store.dumps(store.to_row(r)))) for r in records)]
    nbformat.write(_notebook(json.dumps(cfg.to_dict()), shown), nb_path)
    code, items = _nbval(nb_path, env)
    assert code == 0 and set(items.values()) == {"PASSED"}, items

    # The untampered store recomputes exactly, whatever the sample.
    stored = audit.load(folder)
    assert audit.check(stored, sorted(stored.lines)) == []

    old, new = _tamper(path, seed=1)
    assert f"accuracy {old}\n" == shown[1][-len(f"accuracy {old}\n"):]

    # nbval fails in the cell showing seed 1's accuracy, and only there.
    code, items = _nbval(nb_path, env)
    assert code != 0
    assert items == {"Cell 0": "PASSED", "Cell 1": "PASSED", "Cell 2": "FAILED"}, items

    # The sampled check: with a budget of one row per study, a commit draws one of the two
    # rows; it fails exactly when the draw is the tampered row.
    stored = audit.load(folder)
    tampered = next(p for p in stored.lines if p[1] == 1)
    draws = {c: audit.plan(stored, c, budget_s=0.0) for c in ("a", "b", "c", "d", "e", "f")}
    assert {tuple(d) for d in draws.values()} == {(tampered,), (next(p for p in stored.lines
                                                                     if p[1] == 0),)}
    for commit, pairs in draws.items():
        problems = audit.check(stored, pairs)
        if tampered in pairs:
            assert len(problems) == 1 and f"seed=1: history[{len(records[1]['history']) - 1}].acc: "\
                f"{new} != {old}" in problems[0], problems
        else:
            assert problems == [], (commit, problems)
