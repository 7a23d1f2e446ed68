"""The README's "Use it on your own data" example: its printed output is what the code prints.

    python tests/test_readme_example.py    # rewrite the README's output block
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
START, END = "<!-- your-data-example:start -->", "<!-- your-data-example:end -->"
BLOCKS = re.compile(r"```python\n(?P<code>.*?)```\n\n```text\n(?P<out>.*?)```\n", re.S)


def example(text: str) -> tuple[str, str, tuple[int, int]]:
    """(code, printed output, span of the output in text) between the README markers."""
    begin, end = text.index(START), text.index(END)
    match = BLOCKS.search(text, begin, end)
    assert match, f"README: no ```python block followed by a ```text block between {START} and {END}"
    return match.group("code"), match.group("out"), match.span("out")


def run_example(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README example", "exec"), {"__name__": "readme_example"})
    return out.getvalue()


def test_readme_example_output_is_current():
    code, printed, _ = example(README.read_text())
    assert len(code.strip().splitlines()) <= 14, "the README example should stay short"
    assert run_example(code) == printed, (
        "README example output is stale: run `python tests/test_readme_example.py`")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    text = README.read_text()
    code, _, (lo, hi) = example(text)
    README.write_text(text[:lo] + run_example(code) + text[hi:])
    print(f"rewrote the example output in {README}")
