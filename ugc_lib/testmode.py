"""The test command: exact nbval on the platform that made the outputs, else the tolerant check.

    python -m ugc_lib.testmode                      # unit tests + every notebook (what `make test` runs)
    python -m ugc_lib.testmode --only 05 15 --no-unit
    UGC_TEST_MODE=exact|tolerant python -m ugc_lib.testmode   # force a mode

Three steps, each its own pytest process: the unit tests; the notebooks, rendered from the
committed results store (strict: a run missing or stale there is an error, and the run cache
is off); then the sampled recomputation of the store (tests/test_store_sample.py, marked
`recompute`). Exact mode checks the notebooks with nbval and the committed sanitizers, and
the sampled rows exactly. Tolerant mode checks them with tests/tolerant_notebooks.py (every
notebook re-executed, outputs compared by ugc_lib.nbcompare) and the rows within
nbcompare's tolerance (ugc_lib/audit.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from ugc_lib import platform_record
from ugc_lib.nbcompare import TOLERANCES

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_JSON = ROOT / "reports" / "platform.json"
NOTEBOOKS = ROOT / "notebooks"
SANITIZE_CFG = NOTEBOOKS / "nbval_sanitize.cfg"
TOLERANT_TESTS = ROOT / "tests" / "tolerant_notebooks.py"
MODES = ("exact", "tolerant")
DEVIATIONS_ENV = "UGC_DEVIATIONS_DIR"  # where the tolerant tests leave their largest deviations
SELECTION_ENV = "UGC_NOTEBOOKS"        # comma-separated notebook names for the tolerant tests
MODE_ENV = "UGC_TEST_MODE_CHOSEN"      # the mode this command chose, for the sampled check
SAMPLE_TESTS = ROOT / "tests" / "test_store_sample.py"
RENDER_ENV = {"UGC_STORE_STRICT": "1", "UGC_CACHE_DIR": "off"}  # notebooks: the store only


def choose(forced: str | None, recorded: dict | None, here: dict) -> tuple[str, str]:
    """(mode, why) from UGC_TEST_MODE's value, the recorded platform and this one."""
    if forced:
        if forced not in MODES:
            raise ValueError(f"UGC_TEST_MODE={forced!r}: allowed values are {', '.join(MODES)}")
        return forced, f"UGC_TEST_MODE={forced}"
    if recorded is None:
        return "tolerant", f"no {PLATFORM_JSON.relative_to(ROOT)} records where the outputs were made"
    diffs = platform_record.differences(recorded, here)
    if diffs:
        return "tolerant", ("this platform differs from the one that made the committed outputs "
                            f"({PLATFORM_JSON.relative_to(ROOT)}): " + "; ".join(diffs))
    return "exact", (f"this platform matches {PLATFORM_JSON.relative_to(ROOT)} in "
                     f"{', '.join(platform_record.MATCH_FIELDS)}")


def notebook_names(only: list[str] | None) -> list[str]:
    names = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if not only:
        return names
    chosen = []
    for token in only:
        hits = [n for n in names if n == token or n.split("_", 1)[0] == token]
        if not hits:
            raise SystemExit(f"error: unknown notebook {token!r}; allowed: {', '.join(names)} "
                             "(or their numbers)")
        chosen += [h for h in hits if h not in chosen]
    return chosen


def runner_args(mode: str, notebooks: list[str], unit: bool) -> list[str]:
    args = ["-q"] + (["tests"] if unit else [])
    if mode == "exact":  # every notebook: today's command unchanged (`--nbval notebooks`)
        paths = ([str(NOTEBOOKS.relative_to(ROOT))] if notebooks == notebook_names(None) else
                 [str(NOTEBOOKS.relative_to(ROOT) / f"{n}.ipynb") for n in notebooks])
        return args + ["--nbval", *paths, "--nbval-sanitize-with", str(SANITIZE_CFG.relative_to(ROOT))]
    # The tolerant tests' file is collected by name: pytest drops a file argument that lies
    # inside a folder argument, and then collects only files that match python_files.
    # This module is also a pytest plugin: it prints the deviations before pytest's last line.
    return (["-q", "-o", f"python_files=test_*.py {TOLERANT_TESTS.name}", "-p", "ugc_lib.testmode"]
            + (["tests"] if unit else [str(TOLERANT_TESTS.relative_to(ROOT))]))


def steps(mode: str, notebooks: list[str], unit: bool, sample: bool
          ) -> list[tuple[str, list[str], dict[str, str]]]:
    """(label, pytest arguments, environment overrides) of each step, in order."""
    out = []
    if unit:
        out.append(("unit tests", ["-q", "tests", "-m", "not recompute"], {}))
    out.append((f"notebooks ({mode})", runner_args(mode, notebooks, unit=False), RENDER_ENV))
    if sample:
        out.append(("sampled recomputation of the store",
                    ["-q", str(SAMPLE_TESTS.relative_to(ROOT)), "-m", "recompute"], {}))
    return out


def deviation_lines(folder: Path) -> list[str]:
    """Per kind, the largest deviation and the one nearest its tolerance, over the notebooks
    that the tolerant tests compared."""
    best: dict[str, dict[str, dict]] = {"largest": {}, "nearest": {}}
    for path in sorted(folder.glob("*.json")):
        found = json.loads(path.read_text())
        for which, key in (("largest", "size"), ("nearest", "share")):
            for kind, dev in found[which].items():
                if kind not in best[which] or dev[key] > best[which][kind][key]:
                    best[which][kind] = dev
    if not best["largest"]:
        return ["tolerant mode: every compared number equals the committed one"]
    lines = ["tolerant mode, per kind: the largest deviation | the most of its tolerance used"]
    for kind in TOLERANCES:
        if kind in best["largest"]:
            d, n = best["largest"][kind], best["nearest"][kind]
            lines.append(f"  {kind:8s} {d['size']:.4g} ({d['ref']:g} -> {d['new']:g}, {d['where']}) | "
                         f"{n['share']:.2f} ({n['ref']:g} -> {n['new']:g}, allowed "
                         f"{n['allowed']:.3g}, {n['where']})")
    return lines


def pytest_terminal_summary(terminalreporter) -> None:
    """Plugin hook (tolerant mode): the deviations, just above pytest's closing line."""
    folder = os.environ.get(DEVIATIONS_ENV)
    if folder:
        for line in deviation_lines(Path(folder)):
            terminalreporter.write_line(line)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", metavar="NB", help="notebooks to check (name or number)")
    ap.add_argument("--no-unit", action="store_true",
                    help="skip the unit tests and the sampled recomputation")
    args = ap.parse_args(argv)
    notebooks = notebook_names(args.only)
    try:
        mode, why = choose(os.environ.get("UGC_TEST_MODE") or None,
                           platform_record.load(PLATFORM_JSON), platform_record.current())
    except ValueError as err:
        raise SystemExit(f"error: {err}")
    print(f"test mode: {mode} ({why})", flush=True)
    env = {**os.environ, MODE_ENV: mode}
    failed = []
    with tempfile.TemporaryDirectory(prefix="ugc_deviations_") as dev_dir:
        if mode == "tolerant":
            env[DEVIATIONS_ENV] = dev_dir
            env[SELECTION_ENV] = ",".join(notebooks)
        for label, pytest_args, extra in steps(mode, notebooks, not args.no_unit,
                                               not args.no_unit):
            print(f"\n== {label}", flush=True)
            rc = subprocess.call([sys.executable, "-m", "pytest", *pytest_args], cwd=ROOT,
                                 env={**env, **extra})
            if rc != 0:  # every step runs: one failure does not hide another's
                failed.append(f"{label} (pytest exit code {rc})")
        compared = sorted(p.stem for p in Path(dev_dir).glob("*.json"))
        if mode == "tolerant" and not failed and compared != sorted(notebooks):
            failed.append(f"the tolerant check compared {len(compared)} of {len(notebooks)} "
                          f"notebooks (missing: {sorted(set(notebooks) - set(compared))})")
    for line in failed:
        print(f"FAILED: {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
