"""docs/hooks/mermaid_svg.py draws diagrams offline, keeps only the styles they use, names bad ones.

The browser tests check the diagrams of the real pages (cached drawings included); this draws
fresh ones, with no cache, the way a first build on a new machine does.
"""

import re

import pytest

from support.docs_pages import site_config
from support.site import mermaid_hook

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

SEQUENCE = """sequenceDiagram
    participant API
    participant Redis
    API->>Redis: LPUSH celery
"""
BROKEN = "sequenceDiagram\n    API->>: (((\n"


@pytest.mark.slow
@pytest.mark.browser
def test_draws_offline_with_only_the_styles_it_uses_and_reports_a_broken_diagram():
    hook = mermaid_hook()
    theme_css, main_css = hook._material_assets(site_config())
    drawn, failed = hook._draw({"seq": SEQUENCE, "bad": BROKEN},
                               hook._settings(theme_css), main_css)

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

    # Geometry rounded to a tenth: mermaid's 17-digit coordinates are most of a drawing's bytes.
    geometry = " ".join(re.findall(r' (?:d|transform|viewBox)="([^"]*)"', svg))
    assert geometry and not re.search(r"\.\d\d", geometry)
    assert "data-points" not in svg

    assert list(failed) == ["bad"] and "Parse error on line 2" in failed["bad"]
