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


def _task(name, mode):
    return (name, None, None, {}, 60, None, mode)


def test_recomputing_notebook_12_waits_for_17_and_rendering_waits_for_nothing():
    tasks = [_task("12_claims", "recompute"), _task("17_colored_mnist", "recompute"),
             _task("05_dro_training", "recompute")]
    assert run_all.waits_for(tasks) == {"12_claims": {"17_colored_mnist"},
                                        "17_colored_mnist": set(), "05_dro_training": set()}
    assert run_all.waits_for([_task("12_claims", "recompute")]) == {"12_claims": set()}
    assert run_all.waits_for([_task("12_claims", "render"), _task("17_colored_mnist", "render")]) \
        == {"12_claims": set(), "17_colored_mnist": set()}


def _fake_run(task):
    """A task that logs its start and end to the file in its report_dir slot."""
    import time
    with open(task[5], "a") as f:
        f.write(f"start {task[0]}\n")
    time.sleep(0.3 if task[0] == "17_colored_mnist" else 0.01)
    with open(task[5], "a") as f:
        f.write(f"end {task[0]}\n")
    return "ok", 0.0, ""


@pytest.mark.parametrize("workers", [1, 2])
def test_a_waiting_task_starts_after_the_task_it_waits_for(monkeypatch, workers, tmp_path):
    log = tmp_path / "order.log"  # appended by each task, in whichever process runs it
    monkeypatch.setattr(run_all, "run_task", _fake_run)
    tasks = [(n, None, None, {}, 60, str(log), "recompute")
             for n in ("12_claims", "17_colored_mnist", "05_dro_training")]
    seen = []
    run_all.run_pool(tasks, workers, lambda name, res: seen.append(name), lambda: None)
    lines = log.read_text().splitlines()
    assert sorted(seen) == sorted(t[0] for t in tasks)
    assert lines.index("start 12_claims") > lines.index("end 17_colored_mnist")


def test_a_recomputation_starts_with_the_costliest_studies_of_the_committed_store():
    seconds = run_all.recompute_seconds()
    assert seconds, "the committed store records its studies' run seconds"
    names = sorted(seconds)
    order = run_all.longest_first(names, seconds)
    assert [seconds[n] for n in order] == sorted(seconds.values(), reverse=True)
    assert run_all.longest_first(["a", "b"], {"b": 2.0}) == ["b", "a"]
