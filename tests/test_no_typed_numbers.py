"""No typed numbers: no markdown cell of a notebook and no README prose line holds a decimal
number with two or more decimal places, unless it is quoted from the paper or allowlisted.

Numbers measured by the code must be rendered by a code cell (display(Markdown(...)))
or generated into the README between markers, so that nbval and the README test re-check
them; a number typed into prose goes stale silently.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT.parent / "shared" / "paper" / "ugc_paper.txt"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

# A decimal with >= 2 decimal places, not part of a word or of a dotted version (2.13.0).
DECIMAL = re.compile(r"(?<![\w.])\d*\.\d{2,}(?!\d|\.\d)")
# Any number in the paper, with a following "%" when there is one.
PAPER_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(\\?%)?")
ALLOWED = {  # typed number -> why it may stay typed
    "3.11": "the Python version the README asks for (python3.11)",
}
GENERATED = re.compile(r"<!-- ([\w-]+):start .*?-->.*?<!-- \1:end -->", re.S)


def paper_values(text: str) -> set[float]:
    """Every number of the paper; a percentage also as a fraction (95% -> 0.95)."""
    out = set()
    for number, percent in PAPER_NUMBER.findall(text):
        out.add(round(float(number), 9))
        if percent:
            out.add(round(float(number) / 100, 9))
    return out


def typed_numbers(text: str, paper: set[float] | None) -> list[str]:
    """Decimals of `text` neither allowlisted nor (when the paper is given) quoted from it."""
    found = [m.group(0) for m in DECIMAL.finditer(text)]
    found = [x for x in found if x not in ALLOWED]
    if paper is not None:
        found = [x for x in found if round(float(x), 9) not in paper]
    return found


def readme_prose(text: str) -> str:
    """The README with its generated blocks and fenced code blocks blanked (line numbers kept)."""
    def blank(match: re.Match) -> str:
        return "\n" * match.group(0).count("\n")
    text = GENERATED.sub(blank, text)
    return re.sub(r"^```.*?^```", blank, text, flags=re.S | re.M)


def markdown_cells(path: Path) -> list[tuple[int, str]]:
    nb = nbformat.read(path, as_version=4)
    return [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "markdown"]


def _paper() -> set[float] | None:
    return paper_values(PAPER.read_text()) if PAPER.is_file() else None


def _check(offenders: list[str], where: str) -> None:
    paper = _paper()
    if offenders and paper is None:
        pytest.skip(f"paper text not found at {PAPER}: cannot tell whether {offenders} in {where} "
                    f"are quoted from the paper")
    assert not offenders, (f"typed decimal numbers in {where}: {offenders}. Render them from the "
                           f"computed results (display(Markdown(...)) in a code cell, or a generated "
                           f"README section), or add them to ALLOWED with a reason")


# ---------------------------------------------------------------- the detector itself

def test_detector_finds_typed_decimals_and_ignores_versions_words_and_one_decimal():
    text = ("WGA 0.941 [0.923, −0.965]; torch 2.13.0; python3.11; ≈ 1.3%; 9.87%. At 0.95. "
            "F1 .25 and x.25")
    assert typed_numbers(text, paper=None) == ["0.941", "0.923", "0.965", "9.87", "0.95", ".25"]


def test_detector_accepts_numbers_quoted_from_the_paper_and_the_allowlist():
    paper = paper_values("matches 99.4% and 99.6% \\pm 0.1\\%, correlated at 95%.")
    assert 0.994 in paper and 0.95 in paper and 0.001 in paper
    assert typed_numbers("oracle 0.994, test 0.996, corr 0.95, Python 3.11, measured 0.941",
                         paper) == ["0.941"]


def test_readme_prose_drops_generated_blocks_and_code_blocks():
    text = ("intro 0.12\n<!-- x-y:start (generated) -->\n| 0.34 |\n<!-- x-y:end -->\n"
            "```python\nlr = 0.56\n```\nafter 0.78\n")
    assert typed_numbers(readme_prose(text), None) == ["0.12", "0.78"]


# ---------------------------------------------------------------- the committed files

@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in NOTEBOOKS])
def test_no_typed_numbers_in_markdown_cells(path):
    paper = _paper()
    offenders = [f"cell {i}: {x}" for i, src in markdown_cells(path)
                 for x in typed_numbers(src, paper if paper is not None else set())]
    _check(offenders, path.name)


def test_every_notebook_is_checked():
    sources = sorted((ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))
    assert [p.stem for p in NOTEBOOKS] == [s.stem for s in sources]


def test_no_typed_numbers_in_readme_prose():
    paper = _paper()
    prose = readme_prose((ROOT / "README.md").read_text())
    offenders = [f"line {n}: {x}" for n, line in enumerate(prose.splitlines(), 1)
                 for x in typed_numbers(line, paper if paper is not None else set())]
    _check(offenders, "README.md (outside generated sections and code blocks)")
