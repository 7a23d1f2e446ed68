"""run_all.py's argument checks, all made before any notebook starts: --out, -p, seeds, writability.

Every error is a ValueError whose message opens with the flag or parameter at fault
("--out ...", "-p seeds=...") and says what is allowed; run_all.py prints it and exits.
"""

from __future__ import annotations

import ast
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping

from .runner import check_seed

NOT_LITERAL = object()  # a default the parameters cell computes (e.g. list(range(20)))
SEED_COUNT_ALLOWED = "an integer >= 1 (a number of seeds)"
SEED_LIST_ALLOWED = "a non-empty list of distinct integers in [0, 2**32), e.g. [0, 1]"


def parameter_defaults(nb) -> dict[str, Any]:
    """Name -> default value assigned in the cell tagged "parameters" (NOT_LITERAL where the
    value is computed rather than written as a literal)."""
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            out = {}
            for node in ast.parse(cell.source).body:
                if isinstance(node, ast.Assign):
                    try:
                        value = ast.literal_eval(node.value)
                    except ValueError:
                        value = NOT_LITERAL
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            out[target.id] = value
            return out
    return {}


def parse_value(name: str, raw: str, defaults: Iterable[Any], as_text: bool = False) -> Any:
    """The value of `-p name=raw`: a Python literal. A parameter that holds text (its
    default is a string, or as_text: a file name) takes the raw text as it is, unless it
    is a quoted string literal."""
    defaults = list(defaults)
    textual = as_text or (defaults and all(isinstance(d, str) for d in defaults))
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        if textual:
            return raw
        raise ValueError(f"-p {name}={raw!r} is not a Python literal: allowed a literal such "
                         f"as 3, 0.5, 'text' or [0, 1] (quote it for the shell)") from None
    if textual and not isinstance(value, str):
        return raw  # label=1 names the column "1"
    return value


def check_not_redirected(params: Mapping[str, Any], redirected: Iterable[str]) -> None:
    """Output paths are set from --out: a -p for one of them would be silently replaced."""
    bad = sorted(set(params) & set(redirected))
    if bad:
        raise ValueError(f"-p {bad[0]}: run_all.py sets {', '.join(bad)} from --out; allowed: "
                         f"choose the output folder with --out DIR instead")


def _is_count_default(defaults: Iterable[Any]) -> bool:
    return any(isinstance(d, int) and not isinstance(d, bool) for d in defaults)


def check_seed_value(name: str, value: Any, defaults: Iterable[Any]) -> None:
    """A seed parameter (a name ending in "seeds"): a count where the notebooks' default is
    an integer (n_seeds), else a list of seeds, each an integer in [0, 2**32)."""
    if _is_count_default(defaults):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 2 ** 32:
            raise ValueError(f"-p {name}={value!r} is invalid: allowed {SEED_COUNT_ALLOWED}")
        return
    if not isinstance(value, (list, tuple)) or not value:
        raise ValueError(f"-p {name}={value!r} is invalid: allowed {SEED_LIST_ALLOWED}")
    for seed in value:
        try:
            check_seed(seed)
        except ValueError as err:
            raise ValueError(f"-p {name}={value!r} is invalid ({err}): allowed "
                             f"{SEED_LIST_ALLOWED}") from None
    if len(set(value)) != len(value):
        raise ValueError(f"-p {name}={value!r} repeats a seed: allowed {SEED_LIST_ALLOWED}")


def check_jobs_value(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"-p {name}={value!r} is invalid: allowed an integer >= 1 (worker "
                         f"processes inside the notebook)")


def check_params(params: Mapping[str, Any], defaults: Mapping[str, Mapping[str, Any]]) -> None:
    """Seed and jobs parameters, checked against every selected notebook that takes them
    (defaults: notebook -> its parameter defaults)."""
    for name, value in params.items():
        taking = [d[name] for d in defaults.values() if name in d]
        if name.endswith("seeds"):
            check_seed_value(name, value, taking)
        elif name == "jobs":
            check_jobs_value(name, value)


def check_seed_subsets(params: Mapping[str, Any], defaults: Mapping[str, Mapping[str, Any]],
                       subsets: Mapping[str, tuple[str, str]]) -> None:
    """For a notebook in subsets (notebook -> (list parameter, count parameter)), every seed
    in the list must lie in range(count): the notebook reads those seeds off its sweep over
    range(count)."""
    for notebook, (listed, count) in subsets.items():
        if notebook not in defaults or not ({listed, count} & set(params)):
            continue
        seeds = params.get(listed, defaults[notebook].get(listed))
        n = params.get(count, defaults[notebook].get(count))
        if not isinstance(n, int) or not isinstance(seeds, (list, tuple)):
            continue  # computed defaults: the notebook checks them itself
        outside = [s for s in seeds if not 0 <= s < n]
        if outside:
            raise ValueError(f"-p {listed}={list(seeds)!r} with {count}={n}: notebook {notebook} "
                             f"reads {listed} off its runs of seeds 0..{n - 1}, so {outside} "
                             f"are missing; allowed: {listed} within range({count}) (e.g. "
                             f"-p {listed}={list(range(min(n, 3)))})")


def check_out(out: Path, root: Path, committed: Iterable[Path], scratch: Path) -> Path:
    """The resolved --out, or ValueError when it is a file, the repository or a folder above
    it, or lies in a committed output folder (other than the scratch folder, reports/_smoke)."""
    resolved = Path(out).expanduser().resolve()
    if resolved.exists() and not resolved.is_dir():
        raise ValueError(f"--out {out} is a file: allowed a folder (new or existing)")
    if resolved == root or root.is_relative_to(resolved):
        raise ValueError(f"--out {out} would overwrite committed outputs: it holds the "
                         f"repository {root}; allowed a folder outside notebooks/ and "
                         f"reports/, e.g. /tmp/ugc_run")
    if resolved == scratch or resolved.is_relative_to(scratch):
        return resolved
    for folder in committed:
        if resolved == folder or resolved.is_relative_to(folder):
            raise ValueError(f"--out {out} would overwrite committed outputs in "
                             f"{folder.relative_to(root)}/; allowed a folder outside "
                             f"notebooks/ and reports/ (or {scratch.relative_to(root)}/)")
    return resolved


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_writable(folders: Iterable[tuple[str, Path]]) -> None:
    """Each (label, folder) (e.g. ("--out", DIR/figures)) exists as a folder we can write,
    or can be created: probed with a temp file in its nearest existing ancestor, removed at
    once, so a read-only mount is caught as surely as missing permissions."""
    for label, folder in folders:
        folder = Path(folder)
        base = _nearest_existing(folder)
        if not base.is_dir():
            raise ValueError(f"{label}: {folder} cannot be created, {base} is a file; allowed "
                             f"a folder this user can write")
        try:
            fd, probe = tempfile.mkstemp(dir=base, prefix=".ugc_write_probe.")
        except OSError as err:
            reason = os.strerror(err.errno) if err.errno else str(err)
            raise ValueError(f"{label}: {folder} is not writable ({base}: {reason}); allowed "
                             f"a folder this user can write") from None
        os.close(fd)
        os.unlink(probe)
