"""Warm kernels (ugc_lib/warm_kernel.py): a notebook executed in a kernel forked from the
preloaded server has the outputs of a fresh kernel (a pandas table's text form, an inline
figure, the environment and working directory); the kernel dies with its launcher; the
switch turns it off."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import nbformat
import papermill as pm
import pytest

from ugc_lib import warm_kernel

pytestmark = pytest.mark.skipif(not hasattr(os, "pidfd_open"), reason="Linux only (pidfd)")

CELLS = [
    "import os, pandas as pd\nimport matplotlib.pyplot as plt\n"
    "pd.DataFrame({f'a column with a long name {i}': [1.23456789] * 3 for i in range(12)})",
    "fig, ax = plt.subplots(figsize=(2, 2))\nax.plot([0, 1], [1, 0])\nplt.show()",
    "print(os.environ.get('UGC_WARM_TEST'), os.path.basename(os.getcwd()))",
    "import torch\nprint(torch.get_num_threads() >= 1, torch.zeros(3).sum().item())",
]


def _notebook(path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def _outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    return [[{k: v for k, v in out.items() if k != "execution_count"} for out in cell.outputs]
            for cell in nb.cells]


def _execute(src, out, cwd):
    pm.execute_notebook(str(src), str(out), cwd=str(cwd), progress_bar=False, kernel_name="python3",
                        kernel_manager_class="ugc_lib.warm_kernel.WarmKernelManager")


def test_a_forked_kernel_gives_a_fresh_kernels_outputs(tmp_path, monkeypatch, capfd):
    src = tmp_path / "nb.ipynb"
    _notebook(src)
    work = tmp_path / "workdir"
    work.mkdir()
    monkeypatch.setenv("UGC_WARM_TEST", "from-the-caller")
    monkeypatch.setenv(warm_kernel.SWITCH_ENV, "0")
    with warm_kernel.serving() as path:
        assert path is None  # switched off: the kernelspec's own command
        _execute(src, tmp_path / "cold.ipynb", work)
    monkeypatch.setenv(warm_kernel.SWITCH_ENV, "1")
    with warm_kernel.serving() as path:
        assert path is not None and os.environ[warm_kernel.SOCKET_ENV] == path
        _execute(src, tmp_path / "warm.ipynb", work)
    assert warm_kernel.SOCKET_ENV not in os.environ and not os.path.exists(path)
    cold, warm = _outputs(tmp_path / "cold.ipynb"), _outputs(tmp_path / "warm.ipynb")
    assert "image/png" in cold[1][0]["data"]  # the figure is shown inline
    assert cold[2][0]["text"] == "from-the-caller workdir\n"
    assert warm == cold
    assert "To connect another client" not in capfd.readouterr().out  # no stand-alone banner


def test_the_kernel_exits_when_its_launcher_is_killed(tmp_path, monkeypatch):
    from jupyter_client import BlockingKernelClient
    monkeypatch.setenv(warm_kernel.SWITCH_ENV, "1")
    with warm_kernel.serving():
        km = warm_kernel.WarmKernelManager(kernel_name="python3")
        km.start_kernel()
        client: BlockingKernelClient = km.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)
        pids: list[dict] = []
        reply = client.execute_interactive("import os; print(os.getpid())", timeout=60,
                                           output_hook=pids.append)
        assert reply["content"]["status"] == "ok"
        kernel_pid = int(next(m["content"]["text"] for m in pids if m["msg_type"] == "stream"))
        launcher = km.provisioner.process
        assert kernel_pid != launcher.pid
        client.stop_channels()
        os.kill(launcher.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _alive(kernel_pid):
            time.sleep(0.1)
        assert not _alive(kernel_pid), "the forked kernel outlived its launcher"
        km.cleanup_resources()


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_bad_command_line_is_refused():
    proc = subprocess.run([sys.executable, warm_kernel.THIS_FILE, "nonsense"], capture_output=True,
                          text=True)
    assert proc.returncode == 2 and "usage" in proc.stderr
