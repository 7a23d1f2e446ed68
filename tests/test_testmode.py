"""The test command picks exact nbval only on the recorded platform; the record is complete."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from ugc_lib import platform_record, report, testmode

HERE = {"machine": "x86_64", "cpu_capability": "AVX512", "torch_blas": "mkl",
        "blas": [{"vendor": "openblas", "version": "0.3.30", "architecture": "SkylakeX",
                  "prefix": "libscipy_openblas"}],
        "torch": "2.13.0+cpu", "numpy": "2.4.6", "python": "3.11.2", "processor": "some CPU"}


def test_matching_platform_runs_exact():
    mode, why = testmode.choose(None, dict(HERE), HERE)
    assert mode == "exact" and "matches" in why


def test_informational_fields_do_not_decide():
    mode, _ = testmode.choose(None, {**HERE, "python": "3.11.9", "processor": "other"}, HERE)
    assert mode == "exact"


@pytest.mark.parametrize("field, value", [
    ("cpu_capability", "DEFAULT"), ("machine", "arm64"), ("numpy", "2.4.7"),
    ("torch_blas", "open"), ("blas", [{"vendor": "openblas", "architecture": "Haswell"}]),
])
def test_any_kernel_or_version_difference_runs_tolerant(field, value):
    mode, why = testmode.choose(None, {**HERE, field: value}, HERE)
    assert mode == "tolerant" and field in why


def test_no_record_runs_tolerant():
    assert testmode.choose(None, None, HERE)[0] == "tolerant"


def test_environment_overrides_and_is_checked():
    assert testmode.choose("tolerant", dict(HERE), HERE) == ("tolerant", "UGC_TEST_MODE=tolerant")
    assert testmode.choose("exact", {**HERE, "cpu_capability": "DEFAULT"}, HERE)[0] == "exact"
    with pytest.raises(ValueError, match="UGC_TEST_MODE='fast'.*exact, tolerant"):
        testmode.choose("fast", HERE, HERE)


def test_pytest_arguments_per_mode():
    exact = testmode.runner_args("exact", ["05_dro_training"], unit=True)
    assert exact[:2] == ["-q", "tests"] and "--nbval" in exact
    every = testmode.runner_args("exact", testmode.notebook_names(None), unit=True)
    assert every == ["-q", "tests", "--nbval", "notebooks", "--nbval-sanitize-with",
                     "notebooks/nbval_sanitize.cfg"]  # the command `make test` ran before
    assert "notebooks/05_dro_training.ipynb" in exact and "notebooks/nbval_sanitize.cfg" in exact
    tolerant = testmode.runner_args("tolerant", ["05_dro_training"], unit=False)
    assert tolerant[-1] == "tests/tolerant_notebooks.py" and "ugc_lib.testmode" in tolerant


@pytest.mark.parametrize("unit", [True, False])
def test_tolerant_arguments_collect_the_notebook_checks(unit, tmp_path):
    """pytest collects tests/tolerant_notebooks.py with or without the unit tests' folder
    (a file argument inside a folder argument is otherwise dropped). A stand-in tree keeps
    this fast."""
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_unit.py").write_text("def test_unit():\n    pass\n")
    (tmp_path / "tests" / testmode.TOLERANT_TESTS.name).write_text("def test_nb():\n    pass\n")
    args = testmode.runner_args("tolerant", ["05_dro_training"], unit)
    plugin = args.index("ugc_lib.testmode")  # its summary hook plays no part in collection
    args = [a for i, a in enumerate(args) if a != "-q" and i not in (plugin - 1, plugin)]
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", *args],
                          cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    ids = done.stdout.splitlines()
    assert f"tests/{testmode.TOLERANT_TESTS.name}::test_nb" in ids, done.stdout + done.stderr
    assert ("tests/test_unit.py::test_unit" in ids) == unit


def test_notebook_selection_by_number_or_name():
    assert testmode.notebook_names(["05", "15_colored_digits"]) == ["05_dro_training",
                                                                  "15_colored_digits"]
    assert len(testmode.notebook_names(None)) >= 16
    with pytest.raises(SystemExit, match="unknown notebook '99'"):
        testmode.notebook_names(["99"])


def test_current_platform_record_round_trips(tmp_path):
    path = platform_record.write(tmp_path / "platform.json")
    recorded = platform_record.load(path)
    assert set(platform_record.MATCH_FIELDS) <= set(recorded)
    assert recorded["cpu_capability"] and recorded["blas"], json.dumps(recorded)
    assert platform_record.differences(recorded, platform_record.current()) == []
    assert platform_record.load(tmp_path / "absent.json") is None


def test_committed_platform_record_is_complete():
    recorded = platform_record.load(testmode.PLATFORM_JSON)
    assert recorded is not None, "reports/platform.json missing: run `make reproduce`"
    assert set(platform_record.MATCH_FIELDS) <= set(recorded)


def _run_all():
    spec = importlib.util.spec_from_file_location("run_all", testmode.ROOT / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("only, written", [([], True), (["--only", "05"], False)])
def test_a_full_run_all_records_its_platform(monkeypatch, tmp_path, only, written):
    run_all = _run_all()
    monkeypatch.setattr(run_all, "execute", lambda *a: ("ok", 0.0, ""))  # no notebook runs
    monkeypatch.setattr(run_all, "remember_seconds", lambda results: None)
    monkeypatch.setattr(report, "write_index", lambda *a, **k: None)
    assert run_all.main(["--out", str(tmp_path), "--jobs", "1", *only]) == 0
    recorded = platform_record.load(tmp_path / "platform.json")
    assert (recorded is not None) == written  # a partial run does not speak for every output
    if written:
        assert platform_record.differences(recorded, platform_record.current()) == []
