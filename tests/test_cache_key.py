"""The cache key covers the code that computes a record, and only that code."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import ugc_lib
from ugc_lib.runner import RECORD_MODULES, code_digest
from ugc_lib.store import INFRASTRUCTURE

PACKAGE = Path(ugc_lib.__file__).parent


def _copy(tmp_path: Path) -> Path:
    dst = tmp_path / "ugc_lib"
    shutil.copytree(PACKAGE, dst, ignore=shutil.ignore_patterns("__pycache__"))
    return dst


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def test_figure_edit_keeps_the_key_and_train_edit_changes_it(tmp_path):
    pkg = _copy(tmp_path)
    before = code_digest(pkg)
    assert before == code_digest(PACKAGE)
    _append(pkg / "figures.py", "\n# a caption reworded\n")
    assert code_digest(pkg) == before
    _append(pkg / "train.py", "\n# any change to training code\n")
    assert code_digest(pkg) != before


def test_the_data_package_is_hashed_recursively(tmp_path):
    """Every file of the package data/ counts, a dataset module included."""
    pkg = _copy(tmp_path)
    before = code_digest(pkg)
    _append(pkg / "data" / "synthetic.py", "\n# a change to a dataset\n")
    assert code_digest(pkg) != before


def _imports(module: str) -> set[str]:
    """ugc_lib modules that `module` imports anywhere in its source (relative imports)."""
    path = PACKAGE / f"{module}.py"
    if not path.is_file():
        return set()  # a package (data/): hashed whole, its relative imports are its own
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:  # "from . import x": x may be a module or a name of __init__
                found.update(a.name for a in node.names
                             if (PACKAGE / f"{a.name}.py").is_file() or (PACKAGE / a.name).is_dir())
    return found


def test_record_modules_include_everything_runs_import():
    """Starting from runner, every ugc_lib module reached by imports is hashed, or is named
    as infrastructure (computes no number of a record)."""
    seen, todo = set(), ["runner"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo += _imports(name)
    assert seen <= set(RECORD_MODULES) | set(INFRASTRUCTURE), \
        sorted(seen - set(RECORD_MODULES) - set(INFRASTRUCTURE))
    assert not set(RECORD_MODULES) & set(INFRASTRUCTURE)


def test_an_infrastructure_edit_keeps_the_digest(tmp_path):
    pkg = tmp_path / "ugc_lib"
    shutil.copytree(PACKAGE, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_digest(pkg)
    for name in INFRASTRUCTURE:
        path = pkg / f"{name}.py"
        path.write_text(path.read_text() + "\n# an edit\n")
    assert code_digest(pkg) == before
