"""The package's shape: layered imports with no circle, one-line module docstrings,
module sizes, and registries that agree with the config's validation."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from ugc_lib import claims, config, data, grouping, objectives, studies

PACKAGE = Path(__file__).resolve().parents[1] / "ugc_lib"

# Bottom to top: a module may import only modules of a strictly lower layer (ARCHITECTURE.md).
LAYERS = [
    {"version", "files", "repro", "intervals", "validation", "global_state", "data.base",
     "data.image_folder", "data.store", "data.tabular", "gradients", "objectives", "grasp",
     "selection",
     "cluster_scores", "cluster", "platform_record", "nbcompare", "lifeline", "warm_kernel"},
    {"group_report", "user_models", "data.synthetic", "data.colored_digits", "grouping",
     "testmode", "data.colored_mnist", "data.adult", "data.compas", "data.fetch"},
    {"data", "fast_kmeans"},
    {"config"},
    {"models", "metrics", "store"},
    {"train", "stacked", "stored_checks"},
    {"batched_grouping", "estimators"},
    {"batched"},
    {"runner", "real_studies"},
    {"studies", "theory", "your_data", "audit", "run_checks"},
    {"claims", "diagnostics", "bench", "bench_batched", "bench_distributed", "tables", "tuning"},
    {"ledger", "figures", "readings", "comparison"},
    {"readme_text", "real_report"},
    {"report"},
    {"__init__"},
]
LAYER_OF = {name: i for i, layer in enumerate(LAYERS) for name in layer}
# Flat registries or lists of one kind of thing may pass the size limit (issue: one concept,
# one file): claims.py is the list of every rule C1-C14 beside its text, plus the registry.
MAX_LINES = 400
LONG_ALLOWED = {"claims", "figures"}  # figures.py: one function per saved figure


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, node: ast.ImportFrom) -> list[str]:
    """The ugc_lib modules a relative `from ... import` names."""
    if node.level == 0:
        if not (node.module or "").startswith("ugc_lib"):
            return []
        base = node.module.split(".")[1:]
    else:
        here = importer.split(".") if importer != "__init__" else []
        is_pkg = _modules()[importer].name == "__init__.py"
        anchor = here if is_pkg else here[:-1]
        anchor = anchor[:len(anchor) - (node.level - 1)]
        base = anchor + (node.module.split(".") if node.module else [])
    known = _modules()
    out = []
    for alias in node.names:
        full = ".".join(base + [alias.name])
        out.append(full if full in known else ".".join(base) or "__init__")
    return [m for m in out if m in known]


def _imports(name: str, path: Path) -> tuple[set[str], list[str]]:
    """(ugc_lib modules imported at run time, lazy imports found inside functions)."""
    tree = ast.parse(path.read_text())
    top, lazy = set(), []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            top.update(_resolve(name, node))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and (inner.level or
                                                          (inner.module or "").startswith("ugc_lib")):
                    lazy.append(f"{name}.{node.name}")
    return top, lazy


def test_imports_point_down_with_no_circle_and_no_lazy_import():
    modules = _modules()
    assert set(modules) == set(LAYER_OF), "every module has a layer in LAYERS (and no stale one)"
    for name, path in modules.items():
        top, lazy = _imports(name, path)
        assert not lazy, f"lazy imports of ugc_lib inside functions: {lazy}"
        for target in top - {name}:
            assert LAYER_OF[target] < LAYER_OF[name], (
                f"{name} (layer {LAYER_OF[name]}) imports {target} (layer {LAYER_OF[target]}): "
                f"imports must point to a lower layer")


def test_every_module_opens_with_a_one_line_job_and_stays_small():
    for name, path in _modules().items():
        doc = ast.get_docstring(ast.parse(path.read_text()))
        assert doc, f"{name} has no module docstring"
        first = doc.splitlines()[0]
        assert first.strip() and len(first) <= 100, f"{name}: first docstring line {first!r}"
        n = len(path.read_text().splitlines())
        assert n <= MAX_LINES or name in LONG_ALLOWED, f"{name} has {n} lines (> {MAX_LINES})"


def test_registries_agree_with_the_config_validation():
    assert config.GROUPING_SOURCES == tuple(grouping.SOURCES)
    assert config.METHOD_NAMES == tuple(objectives.METHODS)
    for name in data.DATASETS:
        module = data.dataset_module(name)
        assert callable(module.make) and callable(module.input_dim) and callable(module.check)
    with pytest.raises(ValueError, match=r"data\.dataset='nope'.*synthetic"):
        config.DataConfig(dataset="nope")


def test_claim_registry_holds_every_claim_id_and_rule_studies_exist():
    paper = (Path(__file__).resolve().parents[2] / "shared" / "paper" / "CLAIMS.md")
    ids = list(claims.CLAIMS)
    assert ids == ["C1", "C2", "C3", "C4", "C5a", "C5b", "C5c", "C6a", "C6b", "C6c", "C7", "C8",
                   "C9", "C10", "C11", "C12", "C13", "C14"]
    if paper.is_file():
        listed = re.findall(r"^\| (C\d+[a-c]?) \|", paper.read_text(), re.M)
        assert listed == ids
    for c in claims.CLAIMS.values():
        assert (c.rule is None) == (c.study == ""), c.id
        if c.rule is not None:
            assert c.study in studies.STUDIES, c.id


def test_notebook_sources_only_name_what_the_library_has():
    """Every `module.attribute` a notebook source reads from a ugc_lib module exists, so a
    rename in the library fails here, in seconds, rather than in a notebook run."""
    import importlib
    import importlib.util

    sources = sorted((PACKAGE.parent / "notebooks" / "src").glob("[0-9][0-9]_*.py"))
    assert sources
    for src in sources:
        code = "\n".join(line for line in src.read_text().splitlines() if not line.startswith("#"))
        imported = re.search(r"^from ugc_lib import (.+)$", code, re.M)
        assert imported, f"{src.name} imports nothing from ugc_lib"
        for entry in (n.strip() for n in imported.group(1).split(",")):
            name, _, alias = entry.partition(" as ")  # "readings as R"
            alias = alias.strip() or name
            if importlib.util.find_spec(f"ugc_lib.{name}") is None:
                continue  # a function or constant re-exported by the package
            module = importlib.import_module(f"ugc_lib.{name}")
            tree = ast.parse("\n".join(line for line in code.splitlines()
                                        if not line.lstrip().startswith("%")))
            attrs = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)
                     and isinstance(node.value, ast.Name) and node.value.id == alias}
            for attr in attrs:
                assert hasattr(module, attr), f"{src.name}: ugc_lib.{name} has no {attr!r}"
