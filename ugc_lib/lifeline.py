"""Processes that die with run_all.py: a guard that ends every tagged descendant, temp sweeps.

A SIGKILL gives a process no chance to clean up, and its children outlive it: papermill's
kernels start in their own session, and a kernel's joblib (loky) workers and resource
trackers are reparented to init when the kernel dies. So run_all.py, before it starts any
worker, tags its environment with a run id (RUN_TAG_ENV, inherited by every descendant:
pool workers, kernels, loky workers) and starts a guard: a small separate process that
polls its parent every GUARD_POLL_S seconds and, once the parent is gone (or says it is
done), SIGKILLs every process whose environment carries the tag, then exits. Pool workers
are forked without exec, so /proc shows them their parent's original environment, without
the tag: they ask the kernel instead for SIGKILL when their parent dies (Linux
PR_SET_PDEATHSIG), and so stop at once. The guard reads /proc, so it runs on Linux only; elsewhere kernels still
end through ipykernel's own parent poller.

Temp notebooks carry their writer's pid (.NN_name.in.PID.XXXXXXXX.ipynb), so the next run
removes those whose writer is dead and leaves a concurrent run's files alone.

Run as a script (not as ugc_lib.lifeline, which would import the whole package) it is the
guard: python lifeline.py PARENT_PID TAG.
"""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

RUN_TAG_ENV = "UGC_RUN_TAG"
GUARD_POLL_S = 0.2  # seconds between checks of the parent
PR_SET_PDEATHSIG = 1  # linux/prctl.h
KILL_ROUNDS = 50  # scans of /proc until none is left (a process may fork between scans)
# A temp notebook written by execute(): .NN_name.in.PID.XXXXXXXX.ipynb (or .out.), where
# XXXXXXXX is mkstemp's random part; older runs wrote no PID.
TEMP_NOTEBOOK = re.compile(r"^\.\d\d_[^/]*?\.(?:in|out)\.(?:(?P<pid>\d+)\.)?[A-Za-z0-9_]+\.ipynb$")
TEMP_HTML = re.compile(r"^\.\d\d_[^/]*?\.html\.(?:(?P<pid>\d+)\.[A-Za-z0-9_]+\.)?tmp$")


def temp_file(folder: Path, stem: str, role: str, suffix: str) -> Path:
    """A new empty file folder/.STEM.ROLE.PID.XXXXXXXX{suffix}: unique (mkstemp), hidden,
    and naming its writer, so remove_stale_temps can tell a dead run's file from a live one's."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{stem}.{role}.{os.getpid()}.", suffix=suffix)
    os.close(fd)
    return Path(tmp)


def publish(tmp: Path, path: Path) -> None:
    """Rename tmp over path, with the mode a plain open() would give (mkstemp's is 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(tmp, 0o666 & ~mask)
    os.replace(tmp, path)


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (a pool initializer; a
    no-op elsewhere). PR_SET_PDEATHSIG follows the thread that forked this process:
    ProcessPoolExecutor forks its workers from the caller's (main) thread."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return  # no parent-death signal: the guard still ends this process
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)


def tagged_pids(tag: str) -> list[int]:
    """Pids of live processes whose environment holds RUN_TAG_ENV=tag (not this one)."""
    needle = f"{RUN_TAG_ENV}={tag}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
        except OSError:  # gone, or another user's
            continue
        if needle in env:
            found.append(int(entry))
    return found


def kill_tagged(tag: str) -> int:
    """SIGKILL every process tagged with tag, scanning again until none is left; returns
    how many were signalled."""
    killed = set()
    for _ in range(KILL_ROUNDS):
        pids = [p for p in tagged_pids(tag) if _alive(p)]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            killed.add(pid)
        time.sleep(0.05)  # let the signals land before the next scan
    return len(killed)


def _alive(pid: int) -> bool:
    """Whether pid runs (a zombie counts as dead: it holds no resources but its entry)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (any platform)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


class Guard:
    """The guard process of one run; stop() ends it (and any tagged leftover) cleanly."""

    def __init__(self, tag: str, process: subprocess.Popen | None):
        self.tag, self.process = tag, process

    def stop(self) -> None:
        os.environ.pop(RUN_TAG_ENV, None)
        if self.process is None:
            return
        try:
            self.process.stdin.write(b"done\n")
            self.process.stdin.close()
        except OSError:
            pass
        self.process.wait()


def start_guard() -> Guard:
    """Tag this process's environment for its future children and start the guard (Linux);
    call before starting any worker or kernel."""
    tag = uuid.uuid4().hex
    os.environ[RUN_TAG_ENV] = tag
    if not os.path.isdir("/proc/self"):
        return Guard(tag, None)
    env = {k: v for k, v in os.environ.items() if k != RUN_TAG_ENV}  # never kills itself
    process = subprocess.Popen(
        [sys.executable, "-S", str(Path(__file__).resolve()), str(os.getpid()), tag],
        stdin=subprocess.PIPE, env=env, start_new_session=True)  # no terminal's Ctrl-C
    return Guard(tag, process)


def guard(parent: int, tag: str) -> None:
    """Wait until the parent dies or writes to stdin, then end every tagged process."""
    while os.getppid() == parent:
        ready, _, _ = select.select([sys.stdin], [], [], GUARD_POLL_S)
        if ready:  # "done", or end of file: the parent has finished
            break
    kill_tagged(tag)


def remove_stale_temps(folder: Path) -> list[Path]:
    """Delete the temp notebooks and HTML files in folder whose writer is dead (or that
    carry no pid: an older run's); returns what was removed."""
    removed = []
    if not folder.is_dir():
        return removed
    for path in folder.iterdir():
        match = TEMP_NOTEBOOK.match(path.name) or TEMP_HTML.match(path.name)
        if match is None or not path.is_file():
            continue
        pid = match.group("pid")
        if pid is not None and pid_alive(int(pid)):
            continue
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:  # a concurrent run removed it first
            pass
    return removed


if __name__ == "__main__":
    guard(int(sys.argv[1]), sys.argv[2])
