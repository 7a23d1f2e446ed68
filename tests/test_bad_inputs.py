"""Bad inputs, table-driven: every config field with a wrong type or a non-finite number,
bad seeds and malformed config dicts each fail with ValueError naming the field, before
any training starts and without writing a file."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from pathlib import Path

import pytest

import ugc_lib.runner as runner
from ugc_lib.config import PAPER_TEXT, from_dict

WRONG = {  # annotation -> values of the wrong type or not finite
    "int": ["3", 2.5, 2000.0, None, True],
    "float": ["1e-3", float("nan"), float("inf"), -float("inf"), None, True],
    "bool": [1, "True", None],
    "str": [1, None],
    "int | None": ["10", 2.5],
    "float | None": ["0.3", float("nan"), float("inf"), True],
    "tuple[int, ...]": [(32.7,), ("32",), 32],
    "tuple[int, int, int]": [(1000, 500), (1000.0, 500, 500)],
}


def _cases():
    for section in ("data", "model", "train", "grouping", "objective"):
        for f in dataclasses.fields(getattr(PAPER_TEXT, section)):
            for value in WRONG[f.type]:
                yield pytest.param(f"{section}.{f.name}", value, id=f"{section}.{f.name}={value!r}")


CASES = list(_cases())


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """Fail the test if any run starts; yield a cache folder whose content must not change."""
    monkeypatch.setattr(runner, "run_experiment", lambda *a, **k: pytest.fail("a run started"))
    before = _tree_digest(tmp_path)
    yield tmp_path
    assert _tree_digest(tmp_path) == before, "a file was written"


def test_there_are_at_least_eighty_cases():
    assert len(CASES) >= 80


@pytest.mark.parametrize("field, value", CASES)
def test_wrong_type_or_non_finite_config_value_names_the_field(field, value, no_work):
    with pytest.raises(ValueError, match=rf"^{field.replace('.', r'[.]')}=") as err:
        cfg = PAPER_TEXT.with_updates(**{field: value})
        runner.sweep([cfg], [0], cache_dir=no_work)
    assert "allowed" in str(err.value)
    if isinstance(value, float) and not math.isfinite(value):
        assert "finite" in str(err.value)


@pytest.mark.parametrize("seed", [0.5, -1, 2 ** 32, 2 ** 70, True, "0", None])
def test_bad_seed_names_the_seed(seed, no_work):
    with pytest.raises(ValueError, match=r"seed=.*allowed an integer in \[0, 2\*\*32\)"):
        runner.run(PAPER_TEXT, seed, cache_dir=no_work)
    with pytest.raises(ValueError, match="seed="):
        runner.sweep([PAPER_TEXT], [0, seed], cache_dir=no_work)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d.pop("data"), "missing"),
    (lambda d: d.update(extra={}), "unknown"),
    (lambda d: d["train"].update(lrr=0.1), r"unknown config fields \['lrr'\]"),
    (lambda d: d.update(model=[1, 2]), "allowed a dict"),
])
def test_malformed_config_dict_names_the_section_or_field(edit, match, no_work):
    d = PAPER_TEXT.to_dict()
    edit(d)
    with pytest.raises(ValueError, match=match):
        from_dict(d)


def test_configs_must_be_run_configs(no_work):
    with pytest.raises(TypeError, match="RunConfig"):
        runner.sweep([PAPER_TEXT.to_dict()], [0], cache_dir=no_work)


@pytest.mark.parametrize("value, disabled", [("1", True), ("true", True), ("ON", True),
                                             ("0", False), ("false", False), ("off", False)])
def test_no_progress_variable_has_its_obvious_meaning(monkeypatch, value, disabled):
    from ugc_lib.train import progress_disabled
    monkeypatch.setenv("UGC_NO_PROGRESS", value)
    assert progress_disabled() is disabled
    assert progress_disabled(True) is False and progress_disabled(False) is True


def test_no_progress_unset_shows_bars_only_in_a_terminal(monkeypatch):
    import sys

    from ugc_lib.train import progress_disabled
    monkeypatch.delenv("UGC_NO_PROGRESS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert progress_disabled() is True
