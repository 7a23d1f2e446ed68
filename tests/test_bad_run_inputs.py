"""Bad inputs to run_all.py and `python -m benchmarks`, table-driven: each fails with an
error naming the flag or parameter, before any notebook or benchmark starts, and without
creating or changing a file (the output folder and the committed outputs are hashed
before and after)."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("run_all", ROOT / "run_all.py")
run_all = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_all)

from benchmarks import run as bench_run  # noqa: E402  (after run_all: both put ROOT on sys.path)

COMMITTED = (ROOT / "notebooks", ROOT / "reports", ROOT / "README.md")


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


def _digest_all(paths) -> list[str]:
    return [_tree_digest(p) if p.is_dir() else (p.read_bytes().hex() if p.exists() else "-")
            for p in paths]


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """A folder for --out (absent) beside a plain file; fails the test if any notebook or
    benchmark starts, or if a file changes under tmp_path or in the committed outputs."""
    monkeypatch.chdir(ROOT)
    (tmp_path / "a_file").write_text("not a folder")
    fail = lambda *a, **k: pytest.fail("work started")  # noqa: E731
    monkeypatch.setattr(run_all, "run_tasks", fail)
    monkeypatch.setattr(run_all, "execute", fail)
    from ugc_lib import bench, bench_batched
    monkeypatch.setattr(bench, "run_benchmarks", fail)
    monkeypatch.setattr(bench_batched, "batched_seeds", fail)
    watched = (tmp_path, *COMMITTED)
    before = _digest_all(watched)
    yield tmp_path
    assert _digest_all(watched) == before, "a file was created or changed"


SEEDS_ALLOWED = r"allowed a non-empty list of distinct integers in \[0, 2\*\*32\)"
OUT_IN_REPO = r"--out .* would overwrite committed outputs"

# (id, run_all arguments, the error's pattern). {out}: an absent folder in tmp_path,
# {file}: a plain file there, {root}: the repository.
RUN_ALL_CASES = [
    ("out-dot", ["--only", "01", "-p", "seeds=[0]", "--out", "."], OUT_IN_REPO + ".*holds the repository"),
    ("out-repo-root", ["--only", "01", "--smoke", "--out", "{root}"], OUT_IN_REPO),
    ("out-above-repo", ["--only", "01", "--smoke", "--out", "{root}/.."], OUT_IN_REPO),
    ("out-repo-via-dotdot", ["--only", "01", "--smoke", "--out", "notebooks/.."], OUT_IN_REPO),
    ("out-reports", ["--only", "01", "--smoke", "--out", "{root}/reports"], OUT_IN_REPO + " in reports/"),
    ("out-notebooks", ["--only", "01", "--smoke", "--out", "notebooks"], OUT_IN_REPO + " in notebooks/"),
    ("out-in-reports", ["--only", "01", "--smoke", "--out", "reports/figures"], OUT_IN_REPO + " in reports/"),
    ("out-in-notebooks", ["--only", "01", "--smoke", "--out", "notebooks/src/x"], OUT_IN_REPO + " in notebooks/"),
    ("out-is-a-file", ["--only", "01", "--smoke", "--out", "{file}"], r"--out .*a_file is a file"),
    ("out-under-a-file", ["--only", "01", "--smoke", "--out", "{file}/sub"],
     r"--out: .*a_file/sub cannot be created, .*a_file is a file"),
    ("cell-timeout-0", ["--only", "01", "--smoke", "--out", "{out}", "--cell-timeout", "0"],
     r"--cell-timeout=0 is invalid: allowed"),
    ("cell-timeout-negative", ["--only", "01", "--smoke", "--out", "{out}", "--cell-timeout", "-5"],
     r"--cell-timeout=-5 is invalid"),
    ("jobs-0", ["--only", "01", "--smoke", "--out", "{out}", "--jobs", "0"], r"--jobs=0 must be >= 1"),
    ("unknown-notebook", ["--only", "01", "--only", "99", "--smoke"], r"unknown notebook '99'"),
    ("override-without-out", ["--only", "01", "-p", "seeds=[0]"], r"need --out DIR"),
    ("param-without-equals", ["--only", "01", "-p", "seeds", "--out", "{out}"], r"-p 'seeds' must be NAME=VALUE"),
    ("param-unknown", ["--only", "01", "-p", "lr=0.1", "--out", "{out}"], r"unknown parameter\(s\) \['lr'\]"),
    ("seeds-for-notebook-05", ["--only", "05", "-p", "seeds=[0]", "--out", "{out}"],
     r"unknown parameter\(s\) \['seeds'\]; the selected notebooks take .*'paper_seeds'"),
    ("seeds-malformed", ["--only", "01", "-p", "seeds=[0,1", "--out", "{out}"],
     r"-p seeds='\[0,1' is not a Python literal"),
    ("seeds-expression", ["--only", "01", "-p", "seeds=[2**70]", "--out", "{out}"],
     r"-p seeds='\[2\*\*70\]' is not a Python literal"),
    ("seeds-empty", ["--only", "01", "-p", "seeds=[]", "--out", "{out}"], r"-p seeds=\[\] is invalid: " + SEEDS_ALLOWED),
    ("seeds-negative", ["--only", "01", "-p", "seeds=[-1]", "--out", "{out}"], r"-p seeds=\[-1\] is invalid"),
    ("seeds-2**70", ["--only", "01", "-p", f"seeds=[{2 ** 70}]", "--out", "{out}"], r"-p seeds=.* is invalid"),
    ("seeds-2**32", ["--only", "01", "-p", f"seeds=[0, {2 ** 32}]", "--out", "{out}"], r"-p seeds=.* is invalid"),
    ("seeds-fraction", ["--only", "01", "-p", "seeds=[0.5]", "--out", "{out}"], r"-p seeds=\[0\.5\] is invalid"),
    ("seeds-bool", ["--only", "01", "-p", "seeds=[True]", "--out", "{out}"], r"-p seeds=\[True\] is invalid"),
    ("seeds-text", ["--only", "01", "-p", "seeds=['0']", "--out", "{out}"], r"-p seeds=\['0'\] is invalid"),
    ("seeds-a-number", ["--only", "01", "-p", "seeds=3", "--out", "{out}"], r"-p seeds=3 is invalid: " + SEEDS_ALLOWED),
    ("seeds-repeated", ["--only", "01", "-p", "seeds=[0,0]", "--out", "{out}"], r"-p seeds=\[0, 0\] repeats a seed"),
    ("seeds-bad-with-smoke", ["--only", "01", "--smoke", "-p", "seeds=[-1]"], r"-p seeds=\[-1\] is invalid"),
    ("n_seeds-0", ["--only", "06", "-p", "n_seeds=0", "--out", "{out}"], r"-p n_seeds=0 is invalid: allowed an integer >= 1"),
    ("n_seeds-fraction", ["--only", "06", "-p", "n_seeds=2.5", "--out", "{out}"], r"-p n_seeds=2\.5 is invalid"),
    ("n_seeds-list", ["--only", "06", "-p", "n_seeds=[0]", "--out", "{out}"], r"-p n_seeds=\[0\] is invalid"),
    ("paper_seeds-outside-n_seeds", ["--only", "05", "-p", "n_seeds=1", "--out", "{out}"],
     r"-p paper_seeds=\[0, 1, 2\] with n_seeds=1: notebook 05_dro_training .* \[1, 2\] are missing"),
    ("paper_seeds-outside-smoke", ["--only", "05", "--smoke", "-p", "paper_seeds=[0, 5]"],
     r"-p paper_seeds=\[0, 5\] with n_seeds=2"),
    ("paper_seeds-negative", ["--only", "05", "-p", "paper_seeds=[-1]", "--out", "{out}"],
     r"-p paper_seeds=\[-1\] is invalid"),
    ("pilot_seeds-empty", ["--only", "12", "-p", "pilot_seeds=[]", "--out", "{out}"], r"-p pilot_seeds=\[\] is invalid"),
    ("figures_dir-redirected", ["--only", "01", "-p", "figures_dir='/tmp/f'", "--out", "{out}"],
     r"-p figures_dir: run_all.py sets figures_dir from --out"),
    ("results_dir-redirected", ["--only", "01", "-p", "results_dir=x", "--out", "{out}"],
     r"-p results_dir: run_all.py sets"),
    ("claims_path-redirected", ["--only", "12", "-p", "claims_path=x.json", "--out", "{out}"],
     r"-p claims_path: run_all.py sets"),
    ("jobs-param-0", ["--only", "01", "-p", "jobs=0", "--out", "{out}"], r"-p jobs=0 is invalid: allowed an integer >= 1"),
    ("jobs-param-word", ["--only", "01", "-p", "jobs=two", "--out", "{out}"], r"-p jobs='two' is not a Python literal"),
    ("bool-param-word", ["--only", "20", "-p", "spurious_as_input=yes", "--out", "{out}"],
     r"-p spurious_as_input='yes' is not a Python literal"),
]


def _fill(argv: list[str], tmp: Path) -> list[str]:
    return [a.format(out=tmp / "out", file=tmp / "a_file", root=ROOT) for a in argv]


@pytest.mark.parametrize("argv, match", [pytest.param(a, m, id=i) for i, a, m in RUN_ALL_CASES])
def test_bad_run_all_input_fails_before_any_work(argv, match, sandbox):
    with pytest.raises(SystemExit) as err:
        run_all.main(_fill(argv, sandbox))
    assert re.search(match, str(err.value)), str(err.value)
    assert str(err.value).startswith("error: ")


@pytest.mark.parametrize("value, match", [
    ("{file}", r"UGC_CACHE_DIR: .*a_file/runs cannot be created, .*a_file is a file"),
])
def test_unusable_cache_dir_fails_before_any_work(value, match, sandbox, monkeypatch):
    monkeypatch.setenv("UGC_CACHE_DIR", str(sandbox / "a_file" / "runs"))
    with pytest.raises(SystemExit, match=match):
        run_all.main(_fill(["--only", "01", "--smoke", "--out", "{out}"], sandbox))


def _make_read_only(folder: Path) -> None:
    """A folder this process cannot write: file modes, or for root (whom modes do not stop)
    the immutable attribute; skip when neither holds here."""
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.geteuid() == 0 and shutil.which("chattr"):
        subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
    try:
        (folder / "probe").write_text("")
    except OSError:
        return
    (folder / "probe").unlink()
    folder.chmod(stat.S_IRWXU)
    pytest.skip("cannot make a read-only folder here (root, without chattr +i support)")


def _undo_read_only(folder: Path) -> None:
    if shutil.which("chattr"):
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    folder.chmod(stat.S_IRWXU)


def test_read_only_out_fails_before_any_work(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    _make_read_only(folder)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(run_all, "run_tasks", lambda *a, **k: pytest.fail("work started"))
    try:
        before = _tree_digest(tmp_path)
        with pytest.raises(SystemExit, match=r"--out: .*ro.* is not writable"):
            run_all.main(["--only", "01", "--smoke", "--out", str(folder)])
        with pytest.raises(SystemExit, match=r"--out: .*ro is not writable"):
            bench_run.main(["--quick", "--out", str(folder / "b.json")])
        assert _tree_digest(tmp_path) == before
    finally:
        _undo_read_only(folder)


BENCH_CASES = [
    ("seed-negative", ["--quick", "--seed", "-1", "--out", "{out}.json"],
     r"--seed: seed=-1 is invalid: allowed an integer in \[0, 2\*\*32\)"),
    ("seed-2**32", ["--quick", "--seed", str(2 ** 32), "--out", "{out}.json"], r"--seed: seed=4294967296"),
    ("threads-0", ["--quick", "--threads", "0", "--out", "{out}.json"], r"--threads=0 must be >= 1"),
    ("quick-over-stored", ["--quick"], r"--quick needs --out elsewhere"),
    ("out-is-a-folder", ["--quick", "--out", "{root}/reports"], r"--out .* is a folder: allowed a JSON file"),
    ("out-under-a-file", ["--quick", "--out", "{file}/b.json"], r"--out: .*a_file cannot be created"),
]


@pytest.mark.parametrize("argv, match", [pytest.param(a, m, id=i) for i, a, m in BENCH_CASES])
def test_bad_benchmark_input_fails_before_any_work(argv, match, sandbox):
    with pytest.raises(SystemExit) as err:
        bench_run.main(_fill(argv, sandbox))
    assert re.search(match, str(err.value)), str(err.value)


def test_there_are_cases_for_every_run_all_and_benchmark_item():
    assert len(RUN_ALL_CASES) + len(BENCH_CASES) >= 45


def test_repeated_only_runs_every_named_notebook(sandbox, monkeypatch):
    ran = []
    monkeypatch.setattr(run_all, "run_tasks", lambda tasks, workers, report_one: [
        ran.append(t[0]) or report_one(t[0], ("failed", 0.0, "stopped")) for t in tasks])
    assert run_all.main(_fill(["--only", "01", "--only", "02", "03", "--smoke", "--out", "{out}"],
                              sandbox)) == 1
    assert sorted(ran) == ["01_data", "02_warmup", "03_gradient_theory"]


def test_text_parameters_keep_their_text(sandbox, monkeypatch):
    seen = {}
    monkeypatch.setattr(run_all, "run_tasks", lambda tasks, workers, report_one: [
        seen.update(t[3]) or report_one(t[0], ("failed", 0.0, "stopped")) for t in tasks])
    run_all.main(_fill(["--only", "20", "-p", "label=1", "-p", "spurious=a b", "-p",
                        "data=t.csv", "-p", "features=['x', 'y']", "--out", "{out}"], sandbox))
    assert seen["label"] == "1" and seen["spurious"] == "a b" and seen["features"] == ["x", "y"]
    assert seen["data"] == str(ROOT / "t.csv")
