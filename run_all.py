#!/usr/bin/env python
"""Execute every notebook with papermill and regenerate reports/.

    python run_all.py                 # all notebooks, in place, every run read from the
                                      # results store (reports/store/); figures, HTML, index
    python run_all.py --recompute     # recompute the store's studies from scratch, then render
    python run_all.py --only 06 07    # a subset (by number or name; also with --recompute)
    python run_all.py --list          # what there is
    python run_all.py --smoke         # fast settings into reports/_smoke/ (nothing committed
                                      # is touched)
    python run_all.py -p seeds=[0,1]  # a parameter override (implies a separate --out)
    python run_all.py --scheduler tcp://HOST:8786   # sweeps run on a Dask cluster

Each notebook is built from its source notebooks/src/NN_name.py, executed into a
temp file and renamed over notebooks/NN_name.ipynb only when it succeeds, so a
failure never destroys earlier good outputs.

A study of the results store is the notebook that asks for its runs (ugc_lib/store.py).
A plain render is strict: a run missing from the store, or stored for other code, fails
the notebook (recompute it). --recompute executes a notebook with the store's lookups
off, records every run it asks for, and writes reports/store/NN_name.jsonl.gz when the
notebook succeeds. The runs are cached in reports/store/.work/cache/ (shared by the
notebooks recomputed together) until every selected notebook has succeeded, so a killed
recomputation resumes where it stopped. A run with -p/--smoke/--out reads the store
where it holds a run and computes (and caches) the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent
NOTEBOOKS = ROOT / "notebooks"
SOURCES = NOTEBOOKS / "src"
REPORTS = ROOT / "reports"
SMOKE_PARAMS = {"seeds": [0, 1], "n_seeds": 2, "n_seeds_cnn": 2, "paper_seeds": [0, 1],
                "pilot_seeds": [1000, 1001], "deviation_seeds": 2, "weight_decay_seeds": 2,
                # notebook 17's map: one cell (the design's), one seed, shared with its study
                "map_seeds": 1, "map_rhos": [0.95], "map_strengths": [0.25],
                "tuned_seeds": [0, 1], "tuned_real_seeds": [0, 1],  # notebook 13's Part B
                "jobs": 1}  # fast settings for --smoke
SMOKE_OUT = REPORTS / "_smoke"
# Parameters that name a user's file: a relative path is taken from the caller's working
# directory, since papermill runs each notebook inside notebooks/.
FILE_PARAMETERS = ("data",)
# nbconvert's lab page without its CDN scripts (notebooks/templates/offline/index.html.j2).
HTML_TEMPLATE = NOTEBOOKS / "templates" / "offline"
# The parameters that hold an output path: run_all sets them from --out (a -p for one is refused).
REDIRECTED = ("figures_dir", "results_dir", "claims_path")
# Notebook -> (seed list, seed count) where the list must lie in range(count): notebook 05
# reads claim C3's seeds off its sweep over range(n_seeds).
SEED_SUBSETS = {"05_dro_training": ("paper_seeds", "n_seeds")}
# Recomputing, a notebook starts after these: notebook 12's ledger asks for the CNN runs of
# notebook 17's study, which it then reads from the shared run cache instead of computing
# them a second time side by side (measured: 12 and 17 together took 25 min, each alone far less).
RECOMPUTE_AFTER = {"12_claims": ("17_colored_mnist",)}
# Last run's seconds per notebook (not committed): the longest start first, so that
# parallel jobs finish together.
LAST_SECONDS = REPORTS / ".notebook_seconds.json"


def longest_first(names: list[str], seconds: dict[str, float] | None = None) -> list[str]:
    """names, the longest first by `seconds` (default: the last run's, when recorded)."""
    if seconds is None:
        try:
            seconds = json.loads(LAST_SECONDS.read_text())
        except (OSError, ValueError):
            return names
    return sorted(names, key=lambda n: -float(seconds.get(n, 0.0)))


def recompute_seconds() -> dict[str, float]:
    """The committed store's summed run seconds per study: the order of a recomputation, also
    in a fresh clone (a render's seconds say nothing of a study's cost)."""
    from ugc_lib import store
    return store.run_seconds()


def remember_seconds(results: dict[str, tuple[str, float, str]]) -> None:
    if not any(r[0] == "ok" for r in results.values()):
        return  # nothing new to remember
    try:
        seconds = json.loads(LAST_SECONDS.read_text())
    except (OSError, ValueError):
        seconds = {}
    seconds.update({n: round(r[1], 1) for n, r in results.items() if r[0] == "ok"})
    from ugc_lib.files import write_atomically
    try:  # a hint for the next run's order only: never worth failing a finished run
        write_atomically(LAST_SECONDS, lambda tmp: Path(tmp).write_text(
            json.dumps(seconds, indent=1, sort_keys=True)))
    except OSError as err:
        print(f"warning: could not record the notebooks' seconds in {LAST_SECONDS}: {err}",
              file=sys.stderr)


def discover() -> dict[str, Path]:
    """Notebook name (NN_name) -> source path, in order."""
    return {p.stem: p for p in sorted(SOURCES.glob("[0-9][0-9]_*.py"))}


def select(all_names: list[str], only: list[str] | None) -> list[str]:
    if not only:
        return all_names
    chosen = []
    for token in only:
        matches = [n for n in all_names if n == token or n.split("_", 1)[0] == token]
        if not matches:
            raise SystemExit(f"error: unknown notebook {token!r}; allowed: "
                             f"{', '.join(all_names)} (or their numbers)")
        chosen += [m for m in matches if m not in chosen]
    return [n for n in all_names if n in chosen]


def split_overrides(pairs: list[str]) -> dict[str, str]:
    """-p NAME=VALUE pairs -> {NAME: VALUE text}; a later pair for a name wins."""
    raw = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.isidentifier():
            raise SystemExit(f"error: -p {pair!r} must be NAME=VALUE with NAME a notebook "
                             f"parameter")
        raw[name] = text
    return raw


def checked(check, *args):
    """check(*args), with its ValueError (which names the flag or parameter) as an exit."""
    try:
        return check(*args)
    except ValueError as err:
        raise SystemExit(f"error: {err}") from None


def parse_overrides(raw: dict[str, str], defaults: dict[str, dict]) -> dict:
    """Each -p value as a Python literal (text parameters take their text as it is), then
    checked: no output path that --out sets, valid seeds and jobs; an error names the key."""
    from ugc_lib import run_checks

    params = {name: checked(run_checks.parse_value, name, text,
                            [d[name] for d in defaults.values() if name in d],
                            name in FILE_PARAMETERS) for name, text in raw.items()}
    checked(run_checks.check_not_redirected, params, REDIRECTED)
    checked(run_checks.check_params, params, defaults)
    return params


def checked_out(out: Path) -> Path:
    """--out, resolved; refused when it is a file, holds the repository, or lies in the
    committed notebooks/ or reports/ (reports/_smoke, the smoke folder, is allowed)."""
    from ugc_lib.run_checks import check_out

    return checked(check_out, out, ROOT, (NOTEBOOKS, REPORTS), SMOKE_OUT)


def resolved_cache_dir() -> Path | None:
    """The result cache the kernels will use, as an absolute path exported to them: the
    kernels run inside notebooks/, so a relative UGC_CACHE_DIR would land there, and
    "~" would not be expanded."""
    from ugc_lib.runner import default_cache_dir

    value = os.environ.get("UGC_CACHE_DIR")
    if value is not None and default_cache_dir() is not None:
        os.environ["UGC_CACHE_DIR"] = str(Path(value).expanduser().resolve())
    return default_cache_dir()


def check_outputs_writable(report_dir: Path, nb_dir: Path, redirected: dict[str, Path],
                           given_out: bool) -> None:
    """Every folder this run writes, probed before any notebook starts."""
    from ugc_lib.run_checks import check_writable

    flag = "--out" if given_out else "output folder"
    folders = [(flag, p) for p in (report_dir, nb_dir, redirected["figures_dir"],
                                   redirected["results_dir"])]
    cache = resolved_cache_dir()
    if cache is not None:
        folders.append(("UGC_CACHE_DIR", cache))
    checked(check_writable, folders)


def check_options(args) -> None:
    """Numeric options, before anything is read."""
    if args.jobs < 1:
        raise SystemExit(f"error: --jobs={args.jobs} must be >= 1")
    if args.cell_timeout <= 0:
        raise SystemExit(f"error: --cell-timeout={args.cell_timeout} is invalid: allowed a "
                         f"number of seconds >= 1")


def strip_volatile(nb) -> None:
    """Drop timestamps papermill writes, so re-runs give minimal diffs."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)


def failing_cell(nb) -> str:
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                return f"cell {i} ({out.get('ename')}: {out.get('evalue')})"
    return "unknown cell"


STORE_MODE_TEXT = {"render": "every run is read from reports/store (strict)",
                   "recompute": "lookups off; each notebook's runs recomputed and stored",
                   "free": "each run from the store, else the cache, else computed"}
STORE_MODES = tuple(STORE_MODE_TEXT)


def store_environment(name: str, mode: str) -> dict[str, str]:
    """The environment a notebook's kernel gets for the results store (see the docstring)."""
    from ugc_lib import store

    if mode == "render":
        return {"UGC_STORE_STRICT": "1"}
    if mode == "recompute":
        cache, log = store.work_dir() / "cache", store.work_dir(name) / "rows.log"
        cache.mkdir(parents=True, exist_ok=True)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.unlink(missing_ok=True)  # rows are re-logged; finished runs come from the cache
        return {"UGC_STORE_RECORD": str(log), "UGC_CACHE_DIR": str(cache),
                "UGC_STORE_STRICT": "0"}
    if mode == "free":
        return {"UGC_STORE_STRICT": "0"}
    raise ValueError(f"store mode {mode!r} is invalid: allowed {STORE_MODES}")


def execute(name: str, source: Path, out_nb: Path, params: dict, cell_timeout: int,
            html_dir: Path, store_mode: str = "free") -> tuple[str, float, str]:
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    from ugc_lib import store, stored_checks
    from ugc_lib.lifeline import publish, temp_file
    from ugc_lib.report import build_notebook

    t0 = time.perf_counter()
    env = store_environment(name, store_mode)  # the kernel inherits it
    saved = {k: os.environ.get(k) for k in env}
    nb = build_notebook(source)
    out_nb.parent.mkdir(parents=True, exist_ok=True)
    # Unique names that carry this process's pid (so a later run removes them only once
    # it is dead), made beside out_nb: only the file name differs from the target's.
    tmp_in = temp_file(out_nb.parent, name, "in", ".ipynb")
    tmp_out = temp_file(out_nb.parent, name, "out", ".ipynb")
    nbformat.write(nb, str(tmp_in))
    try:  # temp files only; out_nb is replaced only after a clean run
        try:
            os.environ.update(env)
            pm.execute_notebook(str(tmp_in), str(tmp_out), parameters=params or None,
                                cwd=str(NOTEBOOKS), progress_bar=False,
                                execution_timeout=cell_timeout, kernel_name="python3",
                                kernel_manager_class="ugc_lib.warm_kernel.WarmKernelManager",
                                **kernel_options())
        except pm.PapermillExecutionError as err:
            return "failed", time.perf_counter() - t0, f"cell {err.cell_index}: {err.ename}: {err.evalue}"
        except Exception as err:  # kernel death, cell timeout, ...
            where = failing_cell(nbformat.read(str(tmp_out), as_version=4)) if tmp_out.exists() else ""
            return "failed", time.perf_counter() - t0, f"{where} {type(err).__name__}: {err}".strip()
        done = nbformat.read(str(tmp_out), as_version=4)
        strip_volatile(done)
        nbformat.write(done, str(tmp_out))
        if store_mode == "recompute":  # the study first: a notebook never shows unstored rows
            store.commit_log(name, env["UGC_STORE_RECORD"])
            stored_checks.commit_log(name, env["UGC_STORE_RECORD"])
            shutil.rmtree(store.work_dir(name))
        publish(tmp_out, out_nb)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        for tmp in (tmp_in, tmp_out):
            tmp.unlink(missing_ok=True)
    html_dir.mkdir(parents=True, exist_ok=True)
    body, _ = HTMLExporter(template_name=HTML_TEMPLATE.name,
                           extra_template_basedirs=[str(HTML_TEMPLATE.parent)]
                           ).from_notebook_node(done)
    html_tmp = temp_file(html_dir, name, "html", ".tmp")
    try:
        html_tmp.write_text(body)
        publish(html_tmp, html_dir / f"{name}.html")
    finally:
        html_tmp.unlink(missing_ok=True)
    return "ok", time.perf_counter() - t0, ""


def kernel_options() -> dict:
    """papermill options for the kernel: CurveZMQ encryption of its TCP sockets, with keys
    the kernel manager provisions ("auto": where the kernelspec declares support, as
    ipykernel's does). Without it every kernel warns on stderr that its traffic is sent in
    plain text; with it that warning's cause is gone, not hidden."""
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport_encryption = "auto"
    return {"config": config}


def run_task(task: tuple) -> tuple[str, float, str]:
    """execute(*task), with any exception turned into a failed result."""
    try:
        return execute(*task)
    except Exception as err:
        return "failed", 0.0, f"{type(err).__name__}: {err}\n{traceback.format_exc()}"


def remove_stale_temps(nb_dir: Path, html_dir: Path) -> None:
    """Temp notebooks and HTML left by a killed run (their writer is dead) are removed."""
    from ugc_lib.lifeline import remove_stale_temps as remove

    for path in remove(nb_dir) + remove(html_dir):
        print(f"removed {path.name}, left by a killed run")


def run_tasks(tasks: list[tuple], workers: int, report_one) -> None:
    """Run every task, in this process (one worker) or a process pool. A guard process
    ends every worker, kernel and kernel's child if this process is killed (lifeline.py);
    pool workers also die with it at once (PR_SET_PDEATHSIG)."""
    from ugc_lib.lifeline import die_with_parent, start_guard
    from ugc_lib.warm_kernel import serving

    guard = start_guard()
    try:
        with serving():  # after the guard: the server and its kernels carry its tag
            run_pool(tasks, workers, report_one, die_with_parent)
    finally:
        guard.stop()


def waits_for(tasks: list[tuple]) -> dict[str, set[str]]:
    """Task name -> the selected tasks it starts after: RECOMPUTE_AFTER, when recomputing."""
    names = {task[0] for task in tasks}
    return {task[0]: set(RECOMPUTE_AFTER.get(task[0], ())) & names if task[6] == "recompute"
            else set() for task in tasks}


def run_pool(tasks: list[tuple], workers: int, report_one, initializer) -> None:
    """The tasks in this process (one worker) or a process pool (each worker runs
    `initializer` first), in the given order, except that a task starts only after the
    tasks it waits for (waits_for) have ended."""
    after = waits_for(tasks)
    if workers <= 1:
        done: set[str] = set()
        pending = list(tasks)
        while pending:
            task = next(t for t in pending if after[t[0]] <= done)
            pending.remove(task)
            print(f"  start  {task[0]}", flush=True)
            report_one(task[0], run_task(task))
            done.add(task[0])
        return
    # Processes, not threads: papermill changes the working directory of its process.
    with ProcessPoolExecutor(max_workers=workers, initializer=initializer) as pool:
        done, pending, futures = set(), list(tasks), {}
        while pending or futures:
            for task in [t for t in pending if after[t[0]] <= done][:workers - len(futures)]:
                pending.remove(task)
                futures[pool.submit(run_task, task)] = task[0]
            finished = next(as_completed(futures))
            name = futures.pop(finished)
            report_one(name, finished.result())
            done.add(name)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", action="extend", metavar="NB",
                    help="notebooks to run (number or name; repeatable)")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="notebooks executed in parallel (default: 2, or 1 on one core)")
    ap.add_argument("--list", action="store_true", help="list the notebooks and exit")
    ap.add_argument("--smoke", action="store_true",
                    help=f"fast settings {SMOKE_PARAMS} into {SMOKE_OUT.relative_to(ROOT)}")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                    help="override a notebook parameter (python literal); needs --out or --smoke")
    ap.add_argument("--out", type=Path, help="output folder for an overridden run")
    ap.add_argument("--cell-timeout", type=int, default=3600,
                    help="seconds per cell (default: an hour; the ledger cell of notebook 12 "
                         "takes about ten minutes on 2 busy cores when recomputed)")
    ap.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                    help="run the notebooks' sweeps on this Dask scheduler (exported to the "
                         "kernels as UGC_SCHEDULER; 'off': locally, whatever the environment)")
    ap.add_argument("--recompute", action="store_true",
                    help="recompute the selected notebooks' studies of the results store from "
                         "scratch (resuming a killed recomputation), then render them")
    args = ap.parse_args(argv)

    sources = discover()
    if args.list:
        for name in sources:
            print(name)
        return 0
    check_options(args)
    names = select(list(sources), args.only)
    raw_params = split_overrides(args.param)
    out = args.out or (SMOKE_OUT if args.smoke else None)
    if (raw_params or args.smoke) and out is None:
        raise SystemExit("error: parameter overrides need --out DIR (or --smoke), so committed "
                         "outputs are never overwritten by a non-default run")
    if args.recompute and (raw_params or out is not None):
        raise SystemExit("error: --recompute records the committed notebooks' studies at their "
                         "own parameters: it takes no -p, --smoke or --out")
    store_mode = "recompute" if args.recompute else ("free" if out is not None else "render")
    sys.path.insert(0, str(ROOT))
    if out is not None:
        out = checked_out(out)

    from ugc_lib.report import parse_percent
    from ugc_lib.run_checks import parameter_defaults

    defaults = {n: parameter_defaults(parse_percent(sources[n].read_text())) for n in names}
    known = {n: set(d) for n, d in defaults.items()}
    every = set().union(*known.values()) if known else set()
    unknown = sorted(set(raw_params) - every)  # smoke settings apply where a notebook has them
    if unknown:
        raise SystemExit(f"error: unknown parameter(s) {unknown}; the selected notebooks take "
                         f"{sorted(every)}")
    user_params = parse_overrides(raw_params, defaults)
    for name in FILE_PARAMETERS:
        if isinstance(user_params.get(name), str):
            user_params[name] = str(Path(user_params[name]).expanduser().resolve())
    params = {**SMOKE_PARAMS, **user_params} if args.smoke else user_params
    from ugc_lib.run_checks import check_seed_subsets
    checked(check_seed_subsets, params, defaults, SEED_SUBSETS)

    report_dir = Path(out) if out else REPORTS
    nb_dir = report_dir / "notebooks" if out else NOTEBOOKS
    redirected = {"figures_dir": (report_dir / "figures").resolve(),  # outputs of a non-default
                  "results_dir": (report_dir / "results").resolve(),  # run stay in --out
                  "claims_path": (report_dir / "claims.json").resolve()}
    check_outputs_writable(report_dir, nb_dir, redirected, given_out=out is not None)

    if args.scheduler is not None:  # checked now: an unreachable scheduler fails before any run
        from ugc_lib.cluster import ENV_SCHEDULER, check_scheduler
        try:
            address = check_scheduler(args.scheduler)
        except (ValueError, ConnectionError) as err:
            raise SystemExit(f"error: --scheduler: {err}") from None
        os.environ[ENV_SCHEDULER] = address or "off"

    os.environ["UGC_NO_PROGRESS"] = "1"  # no progress bars inside committed outputs

    jobs = []
    for name in names:
        p = {k: v for k, v in params.items() if k in known[name]}
        for key, value in redirected.items():
            if out is not None and key in known[name]:
                p[key] = str(value)
        jobs.append((name, p))

    print(f"results store: {STORE_MODE_TEXT[store_mode]}")
    print(f"running {len(jobs)} notebook(s) into {report_dir.relative_to(ROOT) if report_dir.is_relative_to(ROOT) else report_dir}")
    results: dict[str, tuple[str, float, str]] = {}

    by = recompute_seconds() if store_mode == "recompute" else None
    order = {name: i for i, name in enumerate(longest_first([n for n, _ in jobs], by))}
    tasks = [(name, sources[name], nb_dir / f"{name}.ipynb", p, args.cell_timeout, report_dir,
              store_mode) for name, p in sorted(jobs, key=lambda job: order[job[0]])]

    def report_one(name: str, res: tuple[str, float, str]) -> None:
        status, secs, why = res
        results[name] = res
        print(f"  [{len(results)}/{len(tasks)}] {status:6s} {name} ({secs:.1f} s)"
              f"{'  ' + why if why else ''}", flush=True)

    remove_stale_temps(nb_dir, report_dir)
    run_tasks(tasks, min(args.jobs, len(tasks)), report_one)
    remember_seconds(results)

    if all(results[n][0] == "ok" for n in names):
        if store_mode == "recompute":  # every study written: the shared run cache goes
            from ugc_lib import store
            shutil.rmtree(store.work_dir(), ignore_errors=True)
        from ugc_lib.report import write_index
        write_index(report_dir, list(sources))
        print(f"wrote {report_dir / 'index.html'}")
        if names == list(sources):  # a full run: where every output was made (picks the test mode)
            from ugc_lib import platform_record
            print(f"wrote {platform_record.write(report_dir / 'platform.json')}")
        if out is None:
            from ugc_lib.report import update_readme
            update_readme(ROOT / "README.md", report_dir)
    print("\nnotebook                          seconds  status")
    for name in names:
        status, secs, why = results[name]
        print(f"{name:32s} {secs:8.1f}  {status}{'  ' + why.splitlines()[0] if why else ''}")
    failed = [n for n in names if results[n][0] != "ok"]
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
