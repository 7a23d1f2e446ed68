"""The report in a real browser: reports/index.html and every notebook's HTML load in
headless Chromium with every image shown and no console error, exception or failed load.

Skipped, with the reason printed, only when no Chromium is installed (Debian: `apt-get
install chromium`; `make test` tries to install it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

from browser import Browser, find_chromium

ROOT = Path(__file__).resolve().parents[1]
REPORTS = ROOT / "reports"
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))


@pytest.fixture(scope="module")
def browser():
    executable = find_chromium()
    if executable is None:
        reason = "no Chromium on PATH (Debian: apt-get install chromium)"
        print(f"SKIPPED the browser checks: {reason}")
        pytest.skip(reason)
    b = Browser(executable)
    yield b
    b.close()


def _problems(browser: Browser, page: Path) -> tuple[int, list[str]]:
    found = browser.check_page(page)
    return found["images"], found["problems"]


def test_index_shows_every_image_without_errors(browser):
    page = REPORTS / "index.html"
    images, problems = _problems(browser, page)
    assert images == page.read_text().count("<img "), "an <img> the page names is missing"
    assert images > 0
    assert not problems, problems


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_page_shows_every_image_without_errors(browser, name):
    page = REPORTS / f"{name}.html"
    assert 'src="http' not in page.read_text(), "a committed page fetches a script from the network"
    images, problems = _problems(browser, page)
    assert not problems, problems


def test_pages_run_all_writes_now_need_no_network(browser, tmp_path):
    """A page exported with run_all.py's template names no CDN script and loads cleanly."""
    spec = importlib.util.spec_from_file_location("run_all", ROOT / "run_all.py")
    run_all = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_all)
    from nbconvert import HTMLExporter

    nb = nbformat.read(ROOT / "notebooks" / "01_data.ipynb", as_version=4)
    body, _ = HTMLExporter(template_name=run_all.HTML_TEMPLATE.name, extra_template_basedirs=[
        str(run_all.HTML_TEMPLATE.parent)]).from_notebook_node(nb)
    assert 'src="http' not in body
    page = tmp_path / "01_data.html"
    page.write_text(body)
    images, problems = _problems(browser, page)
    assert images > 0 and not problems, problems
