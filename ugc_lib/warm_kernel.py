"""Warm kernels: notebook kernels forked from a process that has already imported the suite.

Rendering a notebook from the results store takes a few seconds of work, but every fresh
kernel first spends about three seconds of CPU importing torch, scikit-learn, pandas,
matplotlib and ugc_lib. run_all.py executes 20 notebooks, so those imports were a quarter of
its CPU time. Here one server process imports them once and forks a kernel per notebook:

    server   python ugc_lib/warm_kernel.py serve SOCKET    (started by run_all, one per run)
    launcher python ugc_lib/warm_kernel.py launch -f CONNECTION_FILE
             the "kernel process" jupyter_client starts (WarmKernelManager): it asks the
             server for a kernel, forwards SIGINT/SIGTERM to it and exits when it exits
    kernel   the server's forked child: own session, the launcher's working directory and
             environment, then ipykernel's normal start on the connection file. It exits
             when its launcher dies (killed by jupyter_client) or when the server dies.

Forking is safe here because the server only imports: it starts no thread and runs no
torch operation (torch's thread pools start on first use, in the kernel). Everything the
kernel computes it computes itself, so a notebook's outputs are those of a fresh kernel;
tests/test_warm_kernel.py runs one notebook both ways and compares.

Both run this file by its path, not as ugc_lib.warm_kernel: importing the package would
import torch (and pandas, before the server can set up a kernel's import-time conditions)
into the launcher. This module imports nothing of the suite at its top.

Environment: UGC_WARM_KERNELS=0 turns it off in run_all (fresh kernels, as jupyter runs them).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import shutil
import subprocess
import sys
import tempfile
from typing import Iterator

THIS_FILE = os.path.abspath(__file__)
SOCKET_ENV = "UGC_WARM_KERNEL_SOCKET"  # set by serving(); read by the launcher
SWITCH_ENV = "UGC_WARM_KERNELS"
# What a notebook kernel of this suite imports; the server imports these before forking.
# Not matplotlib.pyplot, nor anything that imports it (seaborn, ugc_lib.figures,
# ugc_lib.report): pyplot loads the inline backend, which hooks itself into the running
# IPython shell when imported, and the server has none; the kernel imports those itself.
PRELOAD = ("ipykernel.kernelapp", "ipykernel.ipkernel", "IPython", "numpy", "pandas",
           "scipy.stats", "torch", "sklearn.cluster", "sklearn.decomposition", "sklearn.metrics",
           "matplotlib", "ugc_lib", "ugc_lib.claims", "ugc_lib.diagnostics", "ugc_lib.ledger",
           "ugc_lib.readings", "ugc_lib.tables", "ugc_lib.theory", "ugc_lib.studies")
NOT_PRELOADED = ("matplotlib.pyplot", "matplotlib_inline.backend_inline")


def enabled() -> bool:
    return os.environ.get(SWITCH_ENV, "1").lower() not in ("0", "false", "no", "off")


# ---------------------------------------------------------------- server

class _KernelShell:
    """What get_ipython() returns inside a Jupyter kernel, as far as import-time checks look
    (pandas picks its display defaults by `hasattr(get_ipython(), "kernel")`)."""
    kernel = True
    config: dict = {"IPKernelApp": {}}


def _preload() -> None:
    """Import PRELOAD as a kernel would: with matplotlib's inline backend named in the
    environment (ipykernel sets MPLBACKEND before any import) and get_ipython() answering
    as a kernel's shell while the imports run."""
    import builtins
    import importlib

    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    builtins.get_ipython = lambda: _KernelShell()
    try:
        for name in PRELOAD:
            importlib.import_module(name)
    finally:
        del builtins.get_ipython
    loaded = [name for name in NOT_PRELOADED if name in sys.modules]
    if loaded:
        raise RuntimeError(f"warm-kernel preload imported {loaded}: a forked kernel would "
                           "not show figures; drop the module that imports them from PRELOAD")


def _watch(pid: int) -> None:
    """In the kernel: exit at once when the launcher `pid` exits (jupyter_client kills the
    launcher, not the kernel it never started)."""
    import threading

    fd = os.pidfd_open(pid)

    def wait() -> None:
        import select
        select.select([fd], [], [])
        os._exit(1)
    threading.Thread(target=wait, daemon=True, name="ugc-launcher-watch").start()


def _die_with_parent() -> None:
    """SIGTERM this process when its parent dies (Linux prctl PR_SET_PDEATHSIG; elsewhere
    nothing: the lifeline guard of run_all still ends it)."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)


def _become_kernel(request: dict) -> None:
    """In the forked child: the launcher's session, cwd and env, then ipykernel's start."""
    os.setsid()
    _die_with_parent()  # the server
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path in ((0, os.devnull), (1, request["stdout"]), (2, request["stderr"])):
        target = os.open(path, os.O_RDWR if fd == 0 else os.O_WRONLY)
        os.dup2(target, fd)
        os.close(target)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _watch(request["launcher"])
    # ipykernel read JPY_PARENT_PID when the server imported it, before any launcher existed:
    # give it the value a fresh kernel reads (it polls that process and stays quiet)
    parent = request["env"].get("JPY_PARENT_PID") or request["launcher"]
    sys.argv = ["ipykernel_launcher", "-f", request["connection_file"],
                f"--IPKernelApp.parent_handle={int(parent)}"]
    from ipykernel import kernelapp
    kernelapp.launch_new_instance()


def serve(path: str) -> None:
    """Listen on the UNIX socket at `path` (requests queue from then on), import PRELOAD,
    then fork one kernel per request."""
    _die_with_parent()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    print("ready", flush=True)
    _preload()
    while True:
        conn, _ = server.accept()
        with conn:
            request = json.loads(conn.makefile().readline())
            pid = os.fork()
            if pid == 0:
                server.close()
                conn.close()
                try:
                    _become_kernel(request)
                finally:
                    os._exit(0)
            conn.sendall(f"{pid}\n".encode())


@contextlib.contextmanager
def serving() -> Iterator[str | None]:
    """Start a server for the block (None when switched off or not on Linux), exported in
    SOCKET_ENV so that WarmKernelManager uses it; stopped afterwards. Its socket lives in a
    fresh temp folder, never in the checkout (a killed run cannot clean up after itself)."""
    if not enabled() or not hasattr(os, "pidfd_open") or not hasattr(os, "fork"):
        yield None
        return
    folder = tempfile.mkdtemp(prefix="ugc-warm-kernel-")
    path = os.path.join(folder, "server.sock")
    proc = subprocess.Popen([sys.executable, THIS_FILE, "serve", path],
                            stdout=subprocess.PIPE, text=True)
    try:
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"the warm-kernel server did not start (exit {proc.wait()})")
        os.environ[SOCKET_ENV] = path
        yield path
    finally:
        os.environ.pop(SOCKET_ENV, None)
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------- launcher

def launch(connection_file: str) -> int:
    """Ask the server for a kernel on connection_file; stay its stand-in until it exits."""
    request = {"connection_file": os.path.realpath(connection_file), "cwd": os.getcwd(),
               "env": dict(os.environ), "launcher": os.getpid(),
               # the launcher's own stdout and stderr (pipes to jupyter_client), opened anew
               "stdout": f"/proc/{os.getpid()}/fd/1", "stderr": f"/proc/{os.getpid()}/fd/2"}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(os.environ[SOCKET_ENV])
        s.sendall((json.dumps(request) + "\n").encode())
        pid = int(s.makefile().readline())

    def forward(signum, _frame):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return 0
    import select
    while True:
        try:
            if select.select([fd], [], [], 1.0)[0]:
                return 0
        except InterruptedError:
            continue


def _manager_class():
    from jupyter_client.manager import KernelManager

    class WarmKernelManager(KernelManager):
        """A KernelManager whose kernel process is the launcher when a server is running
        (SOCKET_ENV set), else the kernelspec's own command."""

        def format_kernel_cmd(self, extra_arguments=None):
            if not os.environ.get(SOCKET_ENV):
                return super().format_kernel_cmd(extra_arguments)
            return [sys.executable, THIS_FILE, "launch", "-f", os.path.realpath(self.connection_file)]
    WarmKernelManager.__module__ = "ugc_lib.warm_kernel"
    return WarmKernelManager


def __getattr__(name: str):
    # WarmKernelManager is built on first use, so that the launcher and the server, which
    # run this file, do not import jupyter_client's manager.
    if name == "WarmKernelManager":
        cls = globals()["WarmKernelManager"] = _manager_class()
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["serve"] and len(args) == 2:
        serve(args[1])
        return 0
    if args[:2] == ["launch", "-f"] and len(args) == 3:
        return launch(args[2])
    print("usage: python -m ugc_lib.warm_kernel serve SOCKET | launch -f CONNECTION_FILE",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
