"""Notebook sources: each notebook is kept as a percent-format .py file
(notebooks/src/NN_name.py, readable diffs) and built into notebooks/NN_name.ipynb.

Format: cells start with a line "# %%"; "# %% [markdown]" starts a markdown cell
whose lines drop their leading "# "; "# %% tags=["parameters"]" tags the cell.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

_MARKER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def parse_percent(text: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    cells: list[tuple[bool, list[str], list[str]]] = []
    for line in text.splitlines():
        m = _MARKER.match(line)
        if m:
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            cells.append((bool(m.group("md")), tags, []))
        elif cells:
            cells[-1][2].append(line)
        elif line.strip():
            raise ValueError(f"text before the first '# %%' cell marker: {line!r}")
    for is_md, tags, lines in cells:
        while lines and not lines[-1].strip():
            lines.pop()
        if is_md:
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines)
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell("\n".join(lines))
        if tags:
            cell.metadata["tags"] = tags
        # Stable ids, so rebuilding a notebook gives the same file.
        cell["id"] = f"cell-{len(nb.cells):02d}"
        nb.cells.append(cell)
    return nb


def build_notebook(source: Path) -> nbformat.NotebookNode:
    nb = parse_percent(Path(source).read_text())
    nbformat.validate(nb)
    return nb
