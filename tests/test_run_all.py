"""run_all.py: bad input fails before anything runs; the notebook source format."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from ugc_lib.report import parse_percent

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("run_all", ROOT / "run_all.py")
run_all = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_all)


def test_list_names_every_source(capsys):
    assert run_all.main(["--list"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [p.stem for p in sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))]


def test_unknown_notebook_is_an_error_naming_it():
    with pytest.raises(SystemExit, match="unknown notebook '99'"):
        run_all.main(["--only", "99", "--smoke"])


def test_unknown_parameter_is_an_error_before_running(monkeypatch):
    monkeypatch.setattr(run_all, "execute", lambda *a, **k: pytest.fail("ran a notebook"))
    with pytest.raises(SystemExit, match="unknown parameter"):
        run_all.main(["--only", "05", "-p", "no_such_param=1", "--out", "/tmp/x"])


def test_override_without_out_is_refused(monkeypatch):
    monkeypatch.setattr(run_all, "execute", lambda *a, **k: pytest.fail("ran a notebook"))
    with pytest.raises(SystemExit, match="--out"):
        run_all.main(["--only", "05", "-p", "seeds=[0]"])


def test_out_cannot_be_the_committed_reports(monkeypatch):
    monkeypatch.setattr(run_all, "execute", lambda *a, **k: pytest.fail("ran a notebook"))
    with pytest.raises(SystemExit, match="overwrite"):
        run_all.main(["--only", "05", "--smoke", "--out", str(ROOT / "reports")])


def test_unreachable_scheduler_is_an_error_before_running(monkeypatch):
    import socket

    monkeypatch.setattr(run_all, "execute", lambda *a, **k: pytest.fail("ran a notebook"))
    monkeypatch.setenv("UGC_SCHEDULER_TIMEOUT", "1")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(SystemExit, match=f"--scheduler: no Dask scheduler answered at "
                                         f"tcp://127.0.0.1:{port}"):
        run_all.main(["--only", "05", "--scheduler", f"tcp://127.0.0.1:{port}"])
    with pytest.raises(SystemExit, match="--scheduler: scheduler='host:1' is invalid"):
        run_all.main(["--only", "05", "--scheduler", "host:1"])


def test_scheduler_is_exported_to_the_kernels(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setenv("UGC_SCHEDULER", "tcp://127.0.0.1:1")  # overridden by --scheduler off
    monkeypatch.setattr(run_all, "execute", lambda name, *a, **k: seen.append(
        os.environ["UGC_SCHEDULER"]) or ("failed", 0.1, "stop"))
    assert run_all.main(["--only", "05", "--jobs", "1", "--scheduler", "off",
                         "--out", str(tmp_path)]) == 1
    assert seen == ["off"]


def test_failing_notebook_gives_nonzero_exit_and_names_it(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(run_all, "execute",
                        lambda name, *a, **k: ("failed", 0.1, "cell 3: ValueError: boom"))
    assert run_all.main(["--only", "05", "--smoke", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert "05_dro_training" in out.err and "cell 3" in out.out


def test_percent_format_cells_and_tags():
    nb = parse_percent('# %% [markdown]\n# # Title\n# text\n\n# %% tags=["parameters"]\n'
                       'seeds = [0]\n\n# %%\nprint(seeds)\n')
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[0].source == "# Title\ntext"
    assert nb.cells[1].metadata["tags"] == ["parameters"]
    assert nb.cells[2].source == "print(seeds)"


def test_text_before_first_marker_is_rejected():
    with pytest.raises(ValueError, match="before the first"):
        parse_percent("x = 1\n# %%\ny = 2\n")
