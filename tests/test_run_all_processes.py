"""run_all.py as processes: a notebook executed into a folder named like a temp file, a run
killed with SIGKILL (nothing of it survives, a rerun completes), two concurrent runs
sharing one cache and one --out. Real kernels, smoke settings, small notebooks."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("run_all", ROOT / "run_all.py")
run_all = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_all)

linux_only = pytest.mark.skipif(not os.path.isdir("/proc/self"),
                                reason="finds processes through /proc (Linux)")
MARK = "UGC_TEST_PROCESS_MARK"  # set in a run's environment: every descendant inherits it
SETTLE_S = 10  # seconds a killed run's processes get to die (the bound)
START_LIMIT_S = 300  # give up waiting for a run to reach its kernels (a loaded machine)


def _digest(paths) -> str:
    h = hashlib.sha256()
    for root in paths:
        for p in sorted(root.rglob("*")):
            h.update(str(p).encode())
            if p.is_file():
                h.update(p.read_bytes())
    return h.hexdigest()


def _marked(mark: str) -> list[tuple[int, str]]:
    """(pid, command line) of live processes whose environment holds MARK=mark."""
    needle = f"{MARK}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if needle in env and state != "Z":
            found.append((int(entry), cmd.strip()))
    return found


def _start(args: list[str], mark: str, cache: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, MARK: mark, "UGC_CACHE_DIR": str(cache), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, str(ROOT / "run_all.py"), *args], cwd=ROOT, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def _wait_for(condition, limit_s: float, what: str):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"gave up waiting {limit_s:.0f} s for {what}")


def _check_outputs(out: Path, names: list[str]) -> None:
    for name in names:
        nb = nbformat.read(out / "notebooks" / f"{name}.ipynb", as_version=4)
        nbformat.validate(nb)
        assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
        assert (out / f"{name}.html").read_text().rstrip().endswith("</html>")
    assert (out / "index.html").read_text().rstrip().endswith("</html>")
    hidden = [p for p in out.rglob(".*") if p.is_file()]
    assert not hidden, f"temp files left: {hidden}"


def test_execute_into_a_folder_named_like_a_temp_file(tmp_path, capfd):
    """The temp names change only the file name (a folder holding ".in." is fine), are
    removed after the run, the outputs get the umask's mode, and the kernel prints no
    warning about unencrypted TCP."""
    source = tmp_path / "99_tiny.py"
    source.write_text('# %% [markdown]\n# # Tiny\n\n# %% tags=["parameters"]\nx = 1\n\n'
                      '# %%\nprint(x + 1)\n')
    out_dir = tmp_path / "run.in.x.out.y"
    status, _, why = run_all.execute("99_tiny", source, out_dir / "notebooks" / "99_tiny.ipynb",
                                     {"x": 2}, 120, out_dir)
    assert status == "ok", why
    nb = nbformat.read(out_dir / "notebooks" / "99_tiny.ipynb", as_version=4)
    assert nb.cells[-1].outputs[0]["text"] == "3\n"
    assert sorted(p.name for p in out_dir.rglob("*")) == ["99_tiny.html", "99_tiny.ipynb", "notebooks"]
    mask = os.umask(0)
    os.umask(mask)
    assert (out_dir / "99_tiny.html").stat().st_mode & 0o777 == 0o666 & ~mask
    assert "without encryption" not in capfd.readouterr().err


def test_stale_temp_notebooks_of_a_dead_writer_are_removed(tmp_path):
    from ugc_lib.lifeline import remove_stale_temps

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    names = [f".01_data.in.{dead}.abc_1234.ipynb", f".01_data.out.{dead}.abc_1234.ipynb",
             ".04_clustering.in.k3j_a9x2.ipynb",  # an older run's name, without a pid
             f".02_warmup.html.{dead}.zz_9.tmp",
             f".02_warmup.in.{os.getpid()}.abc_1234.ipynb",  # a live writer's: kept
             "01_data.ipynb", ".ugc_other.tmp"]  # not temp notebooks: kept
    for name in names:
        (tmp_path / name).write_text("{}")
    removed = sorted(p.name for p in remove_stale_temps(tmp_path))
    assert removed == sorted(names[:4])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names[4:])


@linux_only
def test_sigkill_leaves_no_process_and_a_rerun_completes(tmp_path):
    """SIGKILL of run_all.py --jobs 2 while its kernels (and notebook 03's joblib workers,
    and the warm-kernel server with its forked kernels) run: after SETTLE_S seconds no process of the run is left, the committed outputs are
    unchanged, and the same command then completes."""
    out, cache, mark = tmp_path / "out", tmp_path / "cache", uuid.uuid4().hex
    args = ["--only", "01", "03", "--smoke", "-p", "jobs=2", "--jobs", "2", "--out", str(out)]
    committed = [ROOT / "notebooks", ROOT / "reports"]
    before = _digest(committed)
    run = _start(args, mark, cache, tmp_path / "killed.log")
    try:
        def kernels_and_workers():
            cmds = [c for _, c in _marked(mark)]
            # a fresh kernel, or the launcher of one forked by the warm-kernel server
            kernels = sum("ipykernel_launcher" in c or "warm_kernel.py launch" in c for c in cmds)
            # warm kernels finish notebook 01's smoke run in seconds: wait for a kernel that
            # is running joblib workers (notebook 03's), the window the kill must hit
            return kernels >= 1 and any("loky" in c for c in cmds) and cmds
        seen = _wait_for(kernels_and_workers, START_LIMIT_S, "a kernel with a joblib worker")
        run.send_signal(signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + SETTLE_S
        while _marked(mark) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = _marked(mark)
    finally:
        for pid, _ in _marked(mark):  # never leave a stray process to the next test
            os.kill(pid, signal.SIGKILL)
    assert not left, f"alive {SETTLE_S} s after SIGKILL: {left} (of {len(seen)} processes)"
    assert _digest(committed) == before
    rerun = _start(args, mark, cache, tmp_path / "rerun.log")
    assert rerun.wait() == 0, (tmp_path / "rerun.log").read_text()
    _check_outputs(out, ["01_data", "03_gradient_theory"])
    assert not _marked(mark), "a finished run left a process behind"


@linux_only
def test_two_concurrent_runs_share_one_cache_and_one_out(tmp_path):
    out, cache, mark = tmp_path / "out", tmp_path / "cache", uuid.uuid4().hex
    args = ["--only", "03", "--smoke", "--jobs", "1", "--out", str(out)]
    runs = [_start(args, mark, cache, tmp_path / f"run{i}.log") for i in range(2)]
    codes = [r.wait() for r in runs]
    assert codes == [0, 0], [(tmp_path / f"run{i}.log").read_text()[-2000:] for i in range(2)]
    _check_outputs(out, ["03_gradient_theory"])
    entries = sorted(cache.rglob("*"))
    assert entries and not [p for p in entries if p.name.startswith(".")]
    for entry in entries:
        record = json.loads(entry.read_text())
        assert {"config", "seed", "final", "version"} <= set(record)
    assert not _marked(mark)


def test_nbval_never_collects_hidden_temp_notebooks(tmp_path):
    """notebooks/conftest.py: a temp notebook a killed run left beside the real one is not
    collected by nbval (the rule lives in that folder, not at the root: see its docstring)."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(ROOT / "notebooks" / "conftest.py", folder / "conftest.py")
    shutil.copy(ROOT / "notebooks" / "01_data.ipynb", folder / "01_data.ipynb")
    shutil.copy(ROOT / "notebooks" / "01_data.ipynb", folder / ".01_data.in.99999.abcdefgh.ipynb")
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "--nbval",
                           "-p", "no:cacheprovider", str(folder)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert "01_data.ipynb::" in done.stdout, done.stdout + done.stderr
    assert ".01_data.in." not in done.stdout
    assert not (ROOT / "conftest.py").exists(), "a root conftest.py shadows tests/conftest.py"
