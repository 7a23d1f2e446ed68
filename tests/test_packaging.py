"""pyproject.toml and environment.yml pin the same exact versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!-]+)$")


def pyproject_pins() -> list[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def _pip_list_by_lines(text: str) -> list[str]:
    """The entries under `- pip:` in a conda environment file (simple line parser)."""
    entries, in_pip, pip_indent = [], False, None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        item = line.strip()
        if item in ("- pip:", "-pip:"):
            in_pip, pip_indent = True, indent
            continue
        if in_pip:
            if indent <= pip_indent:
                in_pip = False
                continue
            assert item.startswith("- "), raw
            entries.append(item[2:].strip().strip("'\""))
    return entries


def environment_pip_entries() -> list[str]:
    text = (ROOT / "environment.yml").read_text()
    by_lines = _pip_list_by_lines(text)
    try:
        import yaml
    except ImportError:
        return by_lines
    data = yaml.safe_load(text)
    by_yaml = [d["pip"] for d in data["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(by_yaml) == 1
    assert [str(e) for e in by_yaml[0]] == by_lines  # the two parsers agree
    return by_lines


def _is_self_install(entry: str) -> bool:
    return entry.replace(" ", "") in ("-e.", "-e./", ".")


def test_environment_pip_entries_parsed():
    entries = environment_pip_entries()
    assert len(entries) >= 10
    assert any(_is_self_install(e) for e in entries)  # the project itself, editable


def test_pins_identical_and_exact():
    py = pyproject_pins()
    env = [e for e in environment_pip_entries() if not _is_self_install(e)]
    for entry in py + env:
        assert PIN.match(entry.replace(" ", "")), f"not pinned with ==: {entry!r}"
    norm = lambda pins: {e.replace(" ", "").lower() for e in pins}  # noqa: E731
    assert len(norm(py)) == len(py) and len(norm(env)) == len(env)  # no duplicates
    assert norm(py) == norm(env), (norm(py) ^ norm(env))


def test_torch_pinned():
    assert "torch==2.13.0" in [e.replace(" ", "") for e in pyproject_pins()]
    assert "torch==2.13.0" in [e.replace(" ", "") for e in environment_pip_entries()]


def test_conda_python_matches_requires_python():
    with open(ROOT / "pyproject.toml", "rb") as f:
        requires = tomllib.load(f)["project"]["requires-python"]
    text = (ROOT / "environment.yml").read_text()
    m = re.search(r"^\s*-\s*python\s*=\s*(\d+)\.(\d+)", text, re.M)
    assert m, "environment.yml pins no python version"
    low = re.match(r">=\s*(\d+)\.(\d+)", requires)
    assert low and (int(m[1]), int(m[2])) >= (int(low[1]), int(low[2]))
