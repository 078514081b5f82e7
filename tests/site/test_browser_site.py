"""The built site in a real browser: what readers do with it, offline, and what it weighs.

Tests the strict build of mkdocs.yml + docs/ (with the mermaid hook, docs/hooks/mermaid_svg.py),
served on 127.0.0.1 and driven through Playwright in Debian's Chromium. Every context fails its
test if a request leaves loopback: the site must work where only the sandbox is reachable.
"""

import re
from collections import defaultdict
from pathlib import Path

import pytest

from support.docs_pages import composed, expanded, fences, pages, question_pages
from support.site import ROOT, SiteServer, html_files, url_of
from support.waiting import wait_until

# No example code runs in this process.
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("untraced_module")]

SCREENSHOTS = ROOT / "screenshots"
BUDGET = 450_000  # bytes a page may transfer, uncompressed, everything included
# Any URL but the site's own scheme://127.0.0.1 (or localhost, [::1]) with any port.
OFF_LOOPBACK = re.compile(r"^(?!(data:|blob:|(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/))")
PARTS = 4  # the every-page test, split so that no part nears pytest's 60 s timeout under load


class Watch:
    """What went wrong in a context: requests off loopback, console errors, failed loads."""

    def __init__(self):
        self.outside: list[str] = []
        self.errors: list[str] = []

    def attach(self, page):
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console on {page.url}: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"exception on {page.url}: {e}"))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(
            f"HTTP {r.status}: {r.url}"))
        # ERR_ABORTED is the browser dropping a request because the test navigated on.
        page.on("requestfailed", lambda r: "ERR_ABORTED" not in (r.failure or "") and
                self.errors.append(f"failed: {r.url} ({r.failure})"))
        return page


def _new_context(browser, site, watch, **kw):
    options = {"base_url": site.url, "color_scheme": "light",
               "viewport": {"width": 1280, "height": 900},
               "permissions": ["clipboard-read", "clipboard-write"]}
    context = browser.new_context(**{**options, **kw})
    context.set_default_timeout(20_000)  # generous: the suite shares 2 cores

    def refuse(route):
        watch.outside.append(route.request.url)
        route.abort()

    # Matched inside the browser, so requests to the site itself are not slowed down.
    context.route(OFF_LOOPBACK, refuse)
    return context


@pytest.fixture
def watch():
    w = Watch()
    yield w
    assert w.outside == [], f"requests left loopback: {w.outside}"


@pytest.fixture
def context(browser, site, watch):
    ctx = _new_context(browser, site, watch)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context, watch):
    return watch.attach(context.new_page())


def _all_urls(site: SiteServer) -> list[str]:
    return [url_of(site.root, f) for f in html_files(site.root)]


def _question_pages(site: SiteServer) -> list[str]:
    """Every section's question pages, from the description (use_directory_urls)."""
    built = {p.removesuffix(".md") + "/index.html" for p in question_pages()}
    return [url_of(site.root, f) for f in html_files(site.root)
            if f.relative_to(site.root).as_posix() in built]


def _scheme(page) -> str:
    return page.evaluate("document.body.getAttribute('data-md-color-scheme')")


@pytest.mark.slow
@pytest.mark.parametrize("part", range(PARTS))  # parts that pytest-xdist can run side by side
def test_every_page_loads_clean_and_offline(site, page, watch, part):
    every = _all_urls(site)
    assert len(every) >= 10, every  # the generated source/ pages are there too
    assert any(u.startswith("/source/examples/") for u in every)
    urls = every[part::PARTS]
    for url in urls:
        response = page.goto(url, wait_until="load")
        assert response.status == 200, url
    page.wait_for_load_state("networkidle")
    assert watch.errors == []
    assert watch.outside == []
    print(f"\n{len(urls)} of {len(every)} pages loaded: no console error, no failed or "
          "outside request")


def test_search_suggests_the_visibility_timeout_and_lands_on_the_highlighted_term(page, site):
    site.log.clear()
    page.goto("/", wait_until="networkidle")
    def search_requests() -> list[str]:
        return [p for p, _ in site.log if p.endswith("/search_index.json") or "/workers/" in p]

    held = search_requests()
    site.log.clear()
    page.get_by_role("textbox", name="Search").click()
    page.keyboard.type("visibility")
    results = page.locator(".md-search-result__item a[href*='/celery/pitfalls/']")
    results.first.wait_for()
    # The index and the search worker came when search opened, not with the page
    # (docs/overrides/main.html).
    assert held == [] and len(search_requests()) == 2, search_requests()
    # Prefer the section that talks about it: that link carries the anchor of the heading.
    section = results.filter(has=page.locator("mark", has_text=re.compile("visibility", re.I)))
    target = section.first if section.count() else results.first
    target.click()
    page.wait_for_url(re.compile(r"/celery/pitfalls/\?h=visibility"))
    # Landed: the term is highlighted, and a highlighted one is on screen, not just somewhere.
    page.wait_for_function("""() => [...document.querySelectorAll(
        'article mark[data-md-highlight]')].some(m => {
            const r = m.getBoundingClientRect();
            return /visibility/i.test(m.textContent) && r.width > 0
                && r.top >= 0 && r.bottom <= innerHeight;
        })""")
    if "#" in page.url:  # a section result: its heading is where the reader lands
        heading = page.locator(f"[id='{page.url.split('#')[1]}']")
        assert heading.locator("mark[data-md-highlight]").count() > 0
    # A result opened in a new tab loads the page afresh: the index comes at once there.
    fresh = page.context.new_page()
    fresh.goto("/celery/pitfalls/?h=visibility")
    fresh.locator("article mark[data-md-highlight]").first.wait_for()


def _copy(page, block) -> str:
    block.hover()
    block.locator("button[data-md-type=copy]").click()
    return page.evaluate("navigator.clipboard.readText()")


def _without_markers(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if "--8<--" not in line)


def test_copy_button_copies_exactly_the_code(page, site):
    # A whole module, as its source page shows it.
    page.goto("/source/examples/celery/celery_app/")
    copied = _copy(page, page.locator("div.highlight").first)
    module = (ROOT / "examples" / "celery" / "celery_app.py").read_text()
    assert copied.rstrip("\n") == _without_markers(module).rstrip("\n")


@pytest.mark.slow  # a page load per question page
def test_copy_button_copies_the_first_python_block_of_every_question_page(page, site):
    # Exactly one of the page's Python fences once its snippets are expanded, and exactly
    # what the block shows.
    checked = 0
    for url in _question_pages(site):
        sources = {f.body.rstrip("\n") for f in fences(expanded(url.strip("/") + ".md"))
                   if f.is_python}
        if not sources:
            continue
        page.goto(url)
        block = page.locator("div.language-python.highlight:visible").first
        shown = block.locator("code").evaluate("c => c.textContent")
        copied = _copy(page, block)
        assert "--8<--" not in copied, url
        assert not re.search(r"^\s*\d+\s", copied.splitlines()[0]), url  # no line numbers
        assert copied.rstrip("\n") == shown.rstrip("\n"), url
        assert copied.rstrip("\n") in sources, url
        checked += 1
    assert checked, "no question page has a Python block"
    print(f"\ncopy button: {checked} question page(s) copied exactly")


DIAGRAM = re.compile(r'<div class="mermaid"><svg|<pre class="mermaid">')


def test_mermaid_diagrams_are_svg_that_follow_the_palette(browser, site, watch):
    # The Markdown says how many diagrams each page has; the browser must show each as SVG.
    wanted = {f"/{p.removesuffix('.md').removesuffix('index')}/".replace("//", "/"):
              sum(f.lang == "mermaid" for f in fences(composed(p))) for p in pages()}
    wanted = {url: n for url, n in wanted.items() if n}
    found = {url_of(site.root, f) for f in html_files(site.root) if DIAGRAM.search(f.read_text())}
    assert wanted, "no page has a mermaid diagram"
    assert found == set(wanted)
    ctx = _new_context(browser, site, watch, color_scheme="light")
    page = watch.attach(ctx.new_page())
    for url, count in sorted(wanted.items()):
        page.emulate_media(color_scheme="light")
        page.goto(url)
        assert page.locator("pre.mermaid").count() == 0, url  # nothing left to draw
        svgs = page.locator("div.mermaid > svg")
        assert svgs.count() == count, url
        for i in range(count):
            box = svgs.nth(i).bounding_box()
            assert box["width"] > 100 and box["height"] > 50, (url, box)
            assert svgs.nth(i).locator("text, foreignObject").count() > 0, url
        # Drawn at build time: the page has no mermaid library and asked for none.
        assert page.evaluate("typeof window.mermaid") == "undefined"
        fills = "svg => [...svg.querySelectorAll('rect, polygon, path')].map(" \
                "e => getComputedStyle(e).fill).join()"
        light = svgs.first.evaluate(fills)
        page.emulate_media(color_scheme="dark")  # the default palette follows the system
        page.wait_for_function("document.body.dataset.mdColorScheme === 'slate'")
        assert svgs.first.evaluate(fills) != light, url  # Material's palette reaches the SVG
    ctx.close()
    assert watch.errors == []
    print("\nmermaid: drawn as SVG on " + ", ".join(f"{u} ({n})" for u, n in wanted.items()))


def _toggle_to(page, scheme: str) -> None:
    for _ in range(3):  # the palette cycles auto -> light -> dark
        if _scheme(page) == scheme:
            return
        page.locator("form[data-md-component=palette] label:not([hidden])").click()
    assert _scheme(page) == scheme


def test_palette_toggle_switches_and_is_remembered(page, site):
    questions = _question_pages(site)
    page.goto("/")
    assert _scheme(page) == "default"  # the reader's system says light
    _toggle_to(page, "slate")
    bg_dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.goto(questions[0])  # a full load of another page
    assert _scheme(page) == "slate"
    _toggle_to(page, "default")
    bg_light = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg_light != bg_dark
    page.goto("/")
    assert _scheme(page) == "default"


def _focus_shows(page) -> bool:
    return page.evaluate("""() => {
        const el = document.activeElement, s = getComputedStyle(el);
        const ring = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        const r = el.getBoundingClientRect();
        const onScreen = r.width > 0 && r.height > 0 && r.bottom > 0 && r.top < innerHeight;
        return el.matches(':focus-visible') && (ring || s.boxShadow !== 'none') && onScreen;
    }""")


def test_keyboard_opens_search_and_focus_is_visible(page):
    page.goto("/")
    page.keyboard.press("/")
    page.wait_for_function("document.activeElement.matches('input.md-search__input')")
    assert page.evaluate("document.getElementById('__search').checked")
    page.keyboard.type("celery")
    page.locator(".md-search-result__item").first.wait_for()
    page.keyboard.press("Escape")
    page.wait_for_function("!document.getElementById('__search').checked")

    page.goto("/")
    page.keyboard.press("Tab")  # the first stop is "Skip to content"
    assert page.evaluate("document.activeElement.classList.contains('md-skip')")
    assert _focus_shows(page)
    page.keyboard.press("Tab")
    assert _focus_shows(page)
    page.keyboard.press("s")  # the other shortcut, from anywhere but a text field
    page.wait_for_function("document.activeElement.matches('input.md-search__input')")


def _rehearsal_pages(site: SiteServer) -> list[str]:
    """The practice mode, which loads its questions too, and every cheat sheet."""
    return ["/practice/"] + [url_of(site.root, f) for f in html_files(site.root)
                             if f.relative_to(site.root).parts[-2:-1] == ("cheat-sheet",)]


@pytest.mark.slow
def test_question_and_rehearsal_pages_weigh_at_most_450_kb(browser, site, watch):
    rows = []
    rehearsal = _rehearsal_pages(site)
    assert len(rehearsal) >= 3
    for url in _question_pages(site) + rehearsal:
        ctx = _new_context(browser, site, watch)
        page = watch.attach(ctx.new_page())
        site.log.clear()
        page.goto(url, wait_until="networkidle")
        if url == "/practice/":  # counted once its questions have come
            page.locator(".practice-setup").wait_for()
        # The browser's favicon comes on its own, on a busy machine after the page went quiet.
        # Count it too.
        wait_until(lambda: any(p.endswith("/favicon.png") for p, _ in site.log),
                   timeout=15, what=f"the favicon of {url}")
        page.wait_for_load_state("networkidle")
        # The search worker waits for search to open, like the index (lazy-search.js).
        assert [p for p, _ in site.log if "/workers/" in p] == [], url
        by_kind = defaultdict(int)
        for path, size in site.log:
            kind = Path(path).suffix.lstrip(".") or "html"
            if path.endswith("/search_index.json"):
                kind = "search index"
            by_kind[{"png": "img", "svg": "img"}.get(kind, kind)] += size
        ctx.close()
        rows.append((url, sum(by_kind.values()), dict(by_kind)))
    assert rows, "no question page"
    index = (site.root / "search" / "search_index.json").stat().st_size
    print(f"\npage weight (bytes transferred, uncompressed, cold; the {index / 1000:.1f} kB "
          "search index comes only when search is opened):")
    for url, total, kinds in rows:
        split = ", ".join(f"{k} {v / 1000:.1f} kB" for k, v in sorted(kinds.items()))
        print(f"  {url}: {total / 1000:.1f} kB = {split}")
    assert watch.errors == []
    heavy = [(u, t) for u, t, _ in rows if t > BUDGET]
    assert heavy == []


@pytest.mark.slow
def test_screenshots_home_and_a_question_page_light_and_dark(browser, site, watch):
    SCREENSHOTS.mkdir(exist_ok=True)
    question = next((u for u in _question_pages(site) if "/q28-" in u), _question_pages(site)[0])
    taken = []
    for scheme, expected in (("light", "default"), ("dark", "slate")):
        ctx = _new_context(browser, site, watch, color_scheme=scheme)
        page = watch.attach(ctx.new_page())
        for name, url in (("home", "/"), (question.strip("/").split("/")[-1], question)):
            page.goto(url)  # "load": the page is static after it, diagrams included
            assert _scheme(page) == expected
            path = SCREENSHOTS / f"{name}-{scheme}.png"
            page.screenshot(path=path)
            assert path.stat().st_size > 10_000
            taken.append(path.name)
        ctx.close()
    assert watch.errors == []
    print(f"\nscreenshots/: {', '.join(taken)}")
