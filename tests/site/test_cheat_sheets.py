"""Every section's cheat sheet, as a reader opens it and as a printer gets it.

The sheets are written by tools/rehearse.py (their content is checked against the pages in
tests/tools/test_rehearse.py). Here, in Debian's Chromium: each is in the navigation at the
end of its section; on screen, at 390 px and 1280 px, it shows every question with its line
and does not scroll sideways; printed (print media, A4), it shows the sheet alone, without
header, navigation or footer, on at most two pages.
"""

import json

import pytest
import rehearse

from support.docs_pages import site_config
from support.site import LOOPBACK, ROOT, loopback_context, pdf_pages

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("untraced_module")]

MAX_PAGES = 2  # A4 pages a section may print on
# An A4 page inside the print margins of rehearse.css (12 mm 14 mm), in CSS px (96 per inch).
PRINTED = {"width": round((210 - 2 * 14) / 25.4 * 96), "height": round((297 - 2 * 12) / 25.4 * 96)}
SHOTS = ROOT / "screenshots" / "cheat-sheets"
SECTIONS = [s["name"] for s in json.loads(rehearse.PRACTICE_JSON.read_text())["sections"]]
CHROME = ".md-header, .md-tabs, .md-sidebar--primary, .md-sidebar--secondary, .md-footer"


def test_each_sheet_ends_its_sections_block_in_the_navigation():
    blocks = {}
    for entry in site_config().nav:
        if isinstance(entry, dict):
            for title, children in entry.items():
                if isinstance(children, list):
                    last = children[-1]
                    blocks[title] = last if isinstance(last, str) else list(last.values())[0]
    for name in SECTIONS:
        assert f"{name}/cheat-sheet.md" in blocks.values(), (name, blocks)


@pytest.mark.slow
@pytest.mark.parametrize("width", (390, 1280))
def test_each_sheet_shows_every_question_and_its_line_without_sideways_scroll(
        browser, site, width):
    data = {s["name"]: s for s in json.loads(rehearse.PRACTICE_JSON.read_text())["sections"]}
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, requests = loopback_context(browser, site, viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        for name in SECTIONS:
            page.goto(f"/{name}/cheat-sheet/")
            questions = data[name]["questions"]
            headings = page.locator(".cheat-sheet h2 > a:not(.headerlink)")
            assert headings.count() == len(questions)
            assert headings.all_inner_texts() == [q["title"] for q in questions]
            lines = page.locator(".cheat-sheet code.cheat-line")
            assert lines.count() == sum(bool(q["line"]) for q in questions)
            assert [t.strip() for t in lines.all_text_contents()] == \
                [q["line"] for q in questions if q["line"]]
            assert not page.evaluate("document.scrollingElement.scrollWidth > innerWidth")
            size = page.evaluate("parseFloat(getComputedStyle("
                                 "document.querySelector('.cheat-sheet blockquote')).fontSize)")
            page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)
            print(f"\n{name} at {width} px: {len(questions)} questions, "
                  f"{lines.count()} lines, answer text {size:.1f} px, no sideways scroll")
    finally:
        context.close()
    assert [u for u in requests if not LOOPBACK.match(u)] == []


@pytest.mark.slow
def test_each_sheet_prints_alone_on_at_most_two_a4_pages(browser, site):
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, requests = loopback_context(browser, site, viewport={"width": 1280, "height": 900})
    counts = {}
    try:
        page = context.new_page()
        for name in SECTIONS:
            page.goto(f"/{name}/cheat-sheet/")
            page.emulate_media(media="print")
            shown = page.evaluate(f"""() => [...document.querySelectorAll({CHROME!r})]
                .filter(e => getComputedStyle(e).display !== 'none').map(e => e.className)""")
            assert shown == [], f"{name}: printed with {shown}"
            assert page.locator(".cheat-sheet h2").first.is_visible()
            pdf = page.pdf(format="A4", print_background=False)
            (SHOTS / f"{name}.pdf").write_bytes(pdf)
            counts[name] = pdf_pages(pdf)
            # No page is given away: as many pages as the sheet's printed height fills.
            page.set_viewport_size(PRINTED)
            height = page.evaluate("document.documentElement.scrollHeight")
            assert counts[name] == -(-height // PRINTED["height"]), (name, height, counts)
            page.set_viewport_size({"width": 1280, "height": 900})
            page.emulate_media(media="screen")
    finally:
        context.close()
    print("\nprinted (A4): " + ", ".join(f"{n} {c} page(s)" for n, c in counts.items()))
    assert [u for u in requests if not LOOPBACK.match(u)] == []
    assert counts and all(1 <= c <= MAX_PAGES for c in counts.values()), counts


def test_the_page_count_reads_chromiums_pdf(browser, tmp_path):
    page = browser.new_page()
    try:
        page.set_content("<p>one</p><p style='break-before: page'>two</p>"
                         "<p style='break-before: page'>three</p>")
        assert pdf_pages(page.pdf(format="A4")) == 3
    finally:
        page.close()
