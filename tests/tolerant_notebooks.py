"""Tolerant notebook check: re-execute each committed notebook and compare with ugc_lib.nbcompare.

Not collected by `pytest tests` (its name does not start with test_); `python -m ugc_lib.testmode`
names it where the platform differs from reports/platform.json. Each notebook runs with its
figures, results and claims redirected into a temporary folder, so the committed reports/ are
never rewritten with another platform's numbers; those files are then compared with the
committed ones too.
"""

from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import nbformat
import pytest

from ugc_lib import nbcompare
from ugc_lib.testmode import DEVIATIONS_ENV, SELECTION_ENV

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
REPORTS = ROOT / "reports"
SANITIZERS = nbcompare.load_sanitizers(NOTEBOOKS / "nbval_sanitize.cfg")
# Parameters that name an output; redirected into the test's tmp folder. Inputs such as
# benchmarks_path (the stored timing run) keep pointing at reports/.
REDIRECT = {"figures_dir": "figures", "results_dir": "results", "claims_path": "claims.json"}
CELL_TIMEOUT_S = 1200


def _selected() -> list[str]:
    names = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    chosen = [n for n in os.environ.get(SELECTION_ENV, "").split(",") if n]
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        raise ValueError(f"{SELECTION_ENV} names unknown notebooks {unknown}; allowed: {names}")
    return chosen or names


def _parameters(nb) -> set[str]:
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            return {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign)
                    for t in node.targets if isinstance(t, ast.Name)}
    return set()


def _execute(ref_path: Path, out_dir: Path):
    """Run the committed notebook (outputs redirected into out_dir); the executed notebook."""
    import papermill as pm

    ref = nbformat.read(ref_path, as_version=4)
    params = {k: str(out_dir / v) for k, v in REDIRECT.items() if k in _parameters(ref)}
    executed = out_dir / ref_path.name
    pm.execute_notebook(str(ref_path), str(executed), parameters=params, cwd=str(NOTEBOOKS),
                        progress_bar=False, execution_timeout=CELL_TIMEOUT_S,
                        kernel_name="python3")
    return nbformat.read(executed, as_version=4), params


def _record(name: str, result: nbcompare.Comparison) -> None:
    """Leave this notebook's largest deviations for ugc_lib.testmode's summary."""
    folder = os.environ.get(DEVIATIONS_ENV)
    if folder:
        as_dict = lambda d: {"size": d.size, "share": d.share, "ref": d.ref,  # noqa: E731
                             "new": d.new, "allowed": d.allowed, "where": d.where}
        nearest = result.largest(lambda d: d.share)
        summary = {"largest": {k: as_dict(d) for k, d in result.largest().items()},
                   "nearest": {k: as_dict(d) for k, d in nearest.items()}}
        (Path(folder) / f"{name}.json").write_text(json.dumps(summary, indent=1))


@pytest.mark.parametrize("name", _selected())
def test_notebook_outputs_within_tolerance(name, tmp_path):
    ref_path = NOTEBOOKS / f"{name}.ipynb"
    executed, params = _execute(ref_path, tmp_path)
    result = nbcompare.compare_notebooks(nbformat.read(ref_path, as_version=4), executed, name,
                                         SANITIZERS)
    if "results_dir" in params:
        committed = REPORTS / "results" / f"{name}.json"
        new = Path(params["results_dir"]) / f"{name}.json"
        assert new.is_file(), f"{name} wrote no {new.name}"
        ref_results = json.loads(committed.read_text())
        result.extend(nbcompare.compare_json(ref_results, json.loads(new.read_text()),
                                             f"results/{name}.json"))
    if "figures_dir" in params:  # the committed figures, again, as real PNG (pixels not compared)
        written = {p.stem for p in Path(params["figures_dir"]).glob("*.png")}
        named = set(ref_results.get("figures", [])) if "results_dir" in params else set()
        for fig in sorted(written | named):
            png = Path(params["figures_dir"]) / f"{fig}.png"
            if not (png.is_file() and png.read_bytes()[:8] == nbcompare.PNG_SIGNATURE):
                result.failures.append(f"{name}: figure {fig} not written as a PNG")
            elif not (REPORTS / "figures" / png.name).is_file():
                result.failures.append(f"{name}: figure {fig} is not among the committed ones")
    if "claims_path" in params:
        result.extend(nbcompare.compare_claims(json.loads((REPORTS / "claims.json").read_text()),
                                               json.loads(Path(params["claims_path"]).read_text())))
    _record(name, result)
    if result.failures:
        pytest.fail(f"{len(result.failures)} difference(s) beyond what another CPU explains:\n"
                    + "\n".join(result.failures), pytrace=False)
