"""docs/hooks/mermaid_svg.py: the ```mermaid fence format serves committed drawings, draws a
missing one offline with only the styles it uses and a readable minimum width, and names a
diagram it can't draw.

The browser tests check the diagrams of the real pages (committed drawings); these draw fresh
ones, with no committed drawing, the way a build does after a diagram changes.
"""

import re

import mermaid_svg
import pytest
from pymdownx.superfences import SuperFencesException

from support.docs_pages import composed, fences, pages, site_config

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

SEQUENCE = """sequenceDiagram
    participant API
    participant Redis
    API->>Redis: LPUSH celery
"""
BROKEN = "sequenceDiagram\n    API->>: (((\n"


def _fence(source: str) -> str:
    return mermaid_svg.fence(source, "mermaid", "mermaid", {}, None)


def test_mkdocs_yml_names_the_fence_format_by_its_import_path():
    # `!!python/name:` imports it while the config loads, before any hook could run.
    fences = site_config().mdx_configs["pymdownx.superfences"]["custom_fences"]
    assert [f["format"] for f in fences if f["name"] == "mermaid"] == [mermaid_svg.fence]


def test_the_committed_drawings_are_exactly_the_diagrams_the_pages_have():
    # superfences hands the format the fence's lines without the last newline.
    wanted = {mermaid_svg.key(f.body.removesuffix("\n")): f"{f.page}:{f.line}"
              for page in pages() for f in fences(composed(page)) if f.lang == "mermaid"}
    committed = {p.stem for p in (mermaid_svg.HERE / "diagrams").glob("*.svg")}
    assert wanted, "no page has a diagram"
    # A page's diagram without its drawing needs Chromium to build; a drawing no page uses
    # (the old version of an edited diagram) is dead weight: delete it.
    assert {k: v for k, v in wanted.items() if k not in committed} == {}
    assert committed - set(wanted) == set()


def test_serves_the_committed_drawing_without_a_browser(tmp_path, monkeypatch):
    monkeypatch.setenv("MERMAID_SVG_CACHE", str(tmp_path))
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    (tmp_path / f"{mermaid_svg.key(SEQUENCE)}.svg").write_text("<svg>committed</svg>")
    html = _fence(SEQUENCE)
    assert html == ('<div class="diagram" tabindex="0" role="group" aria-label="Diagram">'
                    '<div class="mermaid"><svg>committed</svg></div></div>')
    # Any change to the source is another drawing.
    assert mermaid_svg.key(SEQUENCE + "    Redis-->>API: 1\n") != mermaid_svg.key(SEQUENCE)


def test_a_missing_drawing_without_a_browser_fails_the_build_naming_the_diagram(
        tmp_path, monkeypatch):
    monkeypatch.setenv("MERMAID_SVG_CACHE", str(tmp_path))
    monkeypatch.setenv("CHROMIUM", "/nonexistent/chromium")
    # SuperFencesException: superfences lets any other exception through as a plain code block.
    with pytest.raises(SuperFencesException, match="starts 'sequenceDiagram'.*Chromium"):
        _fence(SEQUENCE)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
@pytest.mark.browser
def test_draws_offline_with_only_the_styles_it_uses_and_reports_a_broken_diagram():
    drawn, failed = mermaid_svg.draw({"seq": SEQUENCE, "bad": BROKEN})

    svg = drawn["seq"]
    assert svg.startswith('<svg id="mmd-seq"') and 'aria-roledescription="sequence"' in svg
    assert ">LPUSH celery<" in svg and ">API<" in svg
    style = re.search(r"<style>(.*?)</style>", svg, re.S)[1]
    # Material's theme CSS, so the page's palette (light or dark) colours the drawing...
    assert "var(--md-mermaid-sequence-actor-bg-color)" in style
    # ...but only the rules that match something in this drawing: mermaid's and Material's
    # style sheets cover every kind of diagram, and a page carries one copy per diagram.
    # Unshaken, this drawing's <style> is about 14 kB.
    assert len(style) < 4000

    # Never drawn narrower than its 16 px text allows: 12/16 of its natural width.
    natural = float(re.search(r'viewBox="[-.\d]+ [-.\d]+ ([.\d]+)', svg)[1])
    smallest = float(re.search(r"min-width: (\d+)px", svg)[1])
    assert smallest == pytest.approx(natural * mermaid_svg.READABLE_PX / 16, abs=1)

    # Geometry rounded to a tenth: mermaid's 17-digit coordinates are most of a drawing's bytes.
    geometry = " ".join(re.findall(r' (?:d|transform|viewBox)="([^"]*)"', svg))
    assert geometry and not re.search(r"\.\d\d", geometry)
    assert "data-points" not in svg

    assert list(failed) == ["bad"] and "Parse error on line 2" in failed["bad"]


@pytest.mark.slow
@pytest.mark.browser
def test_a_build_draws_a_missing_drawing_once_and_a_broken_one_fails_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MERMAID_SVG_CACHE", str(tmp_path))
    html = _fence(SEQUENCE)
    saved = tmp_path / f"{mermaid_svg.key(SEQUENCE)}.svg"
    assert [p.name for p in tmp_path.iterdir()] == [saved.name]
    assert html.endswith(saved.read_text() + "</div></div>")
    with pytest.raises(SuperFencesException, match="can't draw .*Parse error on line 2"):
        _fence(BROKEN)
