"""The same mkdocs.yml builds with Zensical, Material's successor, into the same site.

Tests mkdocs.yml, docs/ and docs/overrides/ under both builders: MkDocs + Material (the primary
build, `make site`) and Zensical (which reads mkdocs.yml but runs no MkDocs hook). Compares
the pages each writes and every rendered code block, and checks in Chromium that the theme
override holds the search index back under Zensical too. Prints what still differs.
"""

import html
import re
from pathlib import Path

import pytest

from support.site import SiteServer, html_files, launch, shared_build, url_of, zensical_build
from support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("untraced_module")]

# A rendered code block, as pymdownx.highlight writes it under either builder.
BLOCK = re.compile(r'<div class="language-(?P<lang>[\w-]+) highlight">(?P<html>.*?)</div>', re.S)
TAG = re.compile(r"<[^>]+>")
RAW_DIAGRAM = re.compile(r'<pre class="mermaid">')
SVG_DIAGRAM = re.compile(r'<div class="mermaid"><svg')
SCRIPTS = re.compile(r'<script src="(?P<src>[^"]+)"')


@pytest.fixture(scope="module")
def builds(tmp_path_factory) -> dict[str, tuple[Path, float]]:
    mkdocs_site, mkdocs_s = shared_build(tmp_path_factory)
    zensical_site, zensical_s = zensical_build(tmp_path_factory.mktemp("zensical") / "project")
    return {"mkdocs": (mkdocs_site, mkdocs_s), "zensical": (zensical_site, zensical_s)}


def pages(site: Path) -> set[str]:
    return {url_of(site, f) for f in html_files(site)}


def code_blocks(page: Path) -> list[tuple[str, str]]:
    """(language, the code's text as a reader sees it) for each highlighted block."""
    return [(m["lang"], html.unescape(TAG.sub("", m["html"])))
            for m in BLOCK.finditer(page.read_text())]


def test_both_builders_write_the_same_pages_and_code_blocks(builds):
    (mk, mk_s), (zs, zs_s) = builds["mkdocs"], builds["zensical"]
    assert pages(mk) == pages(zs)
    assert any(u.startswith("/source/examples/") for u in pages(zs))  # generated, no hook
    compared, differ = 0, []
    for html_file in html_files(mk):
        rel = html_file.relative_to(mk)
        ours, theirs = code_blocks(html_file), code_blocks(zs / rel)
        compared += len(ours)
        if ours != theirs:
            differ.append(rel.as_posix())
    assert compared > 100, compared
    assert differ == []
    # Diagrams are the one known difference until they are rendered without a hook.
    raw = sum(len(RAW_DIAGRAM.findall(f.read_text())) for f in html_files(zs))
    svg = {b: sum(len(SVG_DIAGRAM.findall(f.read_text())) for f in html_files(s))
           for b, s in (("mkdocs", mk), ("zensical", zs))}
    print(f"\nMkDocs {mk_s:.1f} s, Zensical {zs_s:.1f} s (strict builds, wall); "
          f"{len(pages(mk))} pages each, the same set; {compared} code blocks, all identical; "
          f"diagrams as inline SVG: MkDocs {svg['mkdocs']}, Zensical {svg['zensical']} "
          f"(Zensical leaves {raw} as raw mermaid)")


def test_both_load_the_lazy_search_script_before_the_theme_bundle(builds):
    for builder, (site, _) in builds.items():
        for html_file in html_files(site):
            srcs = [s.rsplit("/", 1)[-1] for s in SCRIPTS.findall(html_file.read_text())]
            bundle = next(i for i, s in enumerate(srcs) if s.startswith("bundle."))
            assert "lazy-search.js" in srcs[:bundle], (builder, html_file)
    # Each builder names its index its own way; the script knows both.
    assert (builds["mkdocs"][0] / "search" / "search_index.json").is_file()
    assert (builds["zensical"][0] / "search.json").is_file()


def test_under_zensical_the_index_comes_only_when_search_opens(builds):
    from playwright.sync_api import sync_playwright

    def index_requests() -> list[str]:
        return [p for p, _ in server.log if p.endswith("search.json")]

    server = SiteServer(builds["zensical"][0]).start()
    try:
        with sync_playwright() as p:
            browser = launch(p)
            context = browser.new_context(base_url=server.url)
            context.set_default_timeout(20_000)
            context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda r: r.abort())
            page = context.new_page()
            page.goto("/", wait_until="networkidle")
            assert index_requests() == []  # held back while the page loads
            page.keyboard.press("/")  # Zensical's shortcut opens its search dialog
            wait_until(index_requests, timeout=20, what="the search index after '/'")
            assert index_requests() == ["/search.json"]
            # The search worker started on it.
            wait_until(lambda: any("/workers/search." in p for p, _ in server.log),
                       timeout=20, what="Zensical's search worker")
            browser.close()
    finally:
        server.stop()
