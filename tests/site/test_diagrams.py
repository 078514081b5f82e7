"""Every diagram and chart is readable where it is shown, on a phone and on a laptop, light
and dark.

Tests the drawings of the built site in Debian's Chromium at 390 px and 1280 px viewport
widths: the ```mermaid fences (drawn from the committed SVGs by docs/hooks/mermaid_svg.py)
and every chart a page includes inline (a `--8<--` line pulling an .svg, such as the
benchmarks chart that tools/benchmark.py draws). Both are found from the Markdown, so a chart
added later is measured too. For each one it measures the smallest text as the reader's
screen renders it: each text element's computed font size times the scale its SVG is drawn
at (the element's screen transform). Screenshots of every drawing at both widths go to
screenshots/diagrams/ (and, for one that scrolls sideways in its box, one more scrolled to its
right end: `-end.png`).
"""

import re

import pytest

from support.docs_pages import SNIPPET_LINE, composed, fences, pages
from support.site import ROOT, html_files, url_of

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.usefixtures("untraced_module")]

SHOTS = ROOT / "screenshots" / "diagrams"
MIN_PX = 11.0  # the smallest text a reader can take in without zooming
WIDTHS = (390, 1280)  # a phone held upright, a laptop
SCHEMES = ("light", "dark")
# Screenshots only: the sticky header would cover a diagram taller than the window.
HIDE_HEADER = ".md-header, .md-tabs { visibility: hidden; }"
OFF_LOOPBACK = re.compile(r"^(?!(data:|blob:|https?://127\.0\.0\.1(:\d+)?/))")

# For every drawing of the article (an SVG with text of its own; icons have none), in page
# order: its kind, its smallest rendered text in CSS px, and where it is. Each one's frame
# (its scroll box, else its figure) is tagged for the screenshot.
MEASURE = """() => [...document.querySelectorAll('article svg')]
  .filter(svg => !svg.parentElement.closest('svg') && svg.querySelector('text, foreignObject'))
  .map((svg, i) => {
    let smallest = Infinity, what = '';
    const visit = (el, box) => {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (!own || getComputedStyle(el).display === 'none') return;
        const m = box.getScreenCTM();
        const px = parseFloat(getComputedStyle(el).fontSize) * Math.hypot(m.a, m.b);
        if (px < smallest) [smallest, what] = [px, el.textContent.trim().slice(0, 40)];
    };
    for (const t of svg.querySelectorAll('text, tspan')) visit(t, t);
    for (const fo of svg.querySelectorAll('foreignObject'))
        for (const el of fo.querySelectorAll('*')) visit(el, fo);
    const r = svg.getBoundingClientRect();
    (svg.closest('.diagram, figure') || svg).dataset.measured = i;
    return {kind: svg.closest('.mermaid') ? 'mermaid' : 'chart', px: smallest, what,
            width: r.width, natural: svg.viewBox.baseVal.width};
})"""


def _charts(markdown: str) -> int:
    """Inline SVG charts: `--8<--` lines that pull an .svg into the page."""
    return sum(bool((m := SNIPPET_LINE.match(line)) and m["path"].endswith(".svg"))
               for line in markdown.split("\n"))


def _diagram_pages() -> dict[str, dict[str, int]]:
    """URL -> how many ```mermaid fences and inline SVG charts its Markdown has."""
    wanted = {}
    for p in pages():
        text = composed(p)
        counts = {"mermaid": sum(f.lang == "mermaid" for f in fences(text)),
                  "chart": _charts(text)}
        if any(counts.values()):
            wanted[f"/{p.removesuffix('.md').removesuffix('index')}/".replace("//", "/")] = counts
    return wanted


def test_charts_are_found_in_the_markdown_and_shown_inline():
    wanted = _diagram_pages()
    assert wanted["/celery/benchmarks/"]["chart"] == 1
    assert wanted["/celery/q28-how-celery-works/"] == {"mermaid": 2, "chart": 0}
    assert _charts('<figure>\n--8<-- "docs/assets/new-chart.svg"\n</figure>\n') == 1
    # An SVG shown as an image keeps its text out of reach of the page (and of this test).
    as_image = re.compile(r"!\[[^\]]*\]\([^)]+\.svg\)|<img[^>]+\.svg", re.I)
    assert [p for p in pages() if as_image.search(composed(p))] == []


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("width", WIDTHS)
def test_every_diagram_is_readable_at_phone_and_laptop_widths(site, browser, width, scheme):
    wanted = _diagram_pages()
    assert wanted, "no page has a diagram"
    built = {url_of(site.root, f) for f in html_files(site.root)}
    assert set(wanted) <= built
    SHOTS.mkdir(parents=True, exist_ok=True)
    rows, outside, overflow = [], [], []
    ctx = browser.new_context(base_url=site.url, color_scheme=scheme,
                              viewport={"width": width, "height": 900})
    ctx.route(OFF_LOOPBACK, lambda r: (outside.append(r.request.url), r.abort()))
    try:
        page = ctx.new_page()
        for url, counts in sorted(wanted.items()):
            page.goto(url)
            palette = page.evaluate("document.body.dataset.mdColorScheme")
            assert palette == {"light": "default", "dark": "slate"}[scheme]
            found = page.evaluate(MEASURE)
            assert {kind: sum(m["kind"] == kind for m in found) for kind in counts} == counts, \
                (url, found)
            # The page itself never scrolls sideways: a wide diagram scrolls in its own box.
            if page.evaluate("document.scrollingElement.scrollWidth > innerWidth"):
                overflow.append(url)
            name = url.strip("/").split("/")[-1] or "home"
            page.add_style_tag(content=HIDE_HEADER)
            for i, m in enumerate(found):
                rows.append((url, i + 1, m))
                box = page.locator(f"[data-measured='{i}']")
                box.screenshot(path=SHOTS / f"{name}-{i + 1}-{width}-{scheme}.png")
                if box.evaluate("b => b.scrollWidth > b.clientWidth"):
                    # A reader can reach the rest: keyboard focus, then scroll.
                    assert box.get_attribute("tabindex") == "0", (url, i)
                    box.evaluate("b => { b.scrollLeft = b.scrollWidth; }")
                    box.screenshot(path=SHOTS / f"{name}-{i + 1}-{width}-{scheme}-end.png")
    finally:
        ctx.close()

    print(f"\nsmallest rendered text per drawing at {width} px, {scheme} (screenshots: {SHOTS}):")
    for url, n, m in rows:
        print(f"  {url} #{n} ({m['kind']}): {m['px']:5.1f} px ({m['what']!r}; "
              f"drawn {m['width']:.0f} of {m['natural']:.0f} px wide)")
    assert outside == [], f"requests left loopback: {outside}"
    assert overflow == [], f"pages that scroll sideways: {overflow}"
    small = [(url, n, round(m["px"], 1)) for url, n, m in rows if m["px"] < MIN_PX]
    assert small == [], f"text below {MIN_PX} px: {small}"
