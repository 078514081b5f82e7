"""Every link in the built site lands somewhere, and every question page shows where its code is.

Tests the strict build of mkdocs.yml + docs/ (the source/ pages come from tools/source_pages.py).
Reads site/ as files: each href and src of each HTML page is resolved the way a browser would
against the page's URL, and must name a file of the build and, with a #fragment, an id in it.
"""

import re
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from support.docs_pages import SNIPPET_LINE, composed, pages, question_pages
from support.site import ROOT, html_files, shared_build, url_of

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

BASE = "http://site.invalid"  # any origin: only same-origin links are internal
PULLED = re.compile(r"^(?P<module>examples/[a-z_]+/[A-Za-z0-9_]+)\.py:")
# Code pulled from a file below a section's app root (a container's program, a suite a
# reader runs): shown code too, tested by the module test its page's Sources names.
PULLED_BELOW = re.compile(r"^examples/[a-z_]+/[\w/]+/[\w.-]+:")


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.assets: list[str] = []  # what the page loads by itself: scripts, styles, images

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for name in ("id", "name") if tag == "a" else ("id",):
            if a.get(name):
                self.ids.add(a[name])
        for name in ("href", "src"):
            if a.get(name) is not None and not (tag == "link" and a.get("rel") == "canonical"):
                self.links.append(a[name])
        if a.get("src") is not None or (tag == "link" and a.get("rel") != "canonical"):
            self.assets.append(a.get("src") or a.get("href") or "")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    return shared_build(tmp_path_factory)[0]


@pytest.fixture(scope="module")
def parsed(site) -> dict[str, _Page]:
    return _parse(site)


def _parse(site: Path) -> dict[str, _Page]:
    """URL path of each page -> its ids and links."""
    out = {}
    for f in html_files(site):
        p = _Page()
        p.feed(f.read_text())
        out[url_of(site, f)] = p
    return out


def _target(site: Path, path: str) -> Path | None:
    """The file a URL path is served from, as a static server does it."""
    f = site / unquote(path).lstrip("/")
    if f.is_dir():
        f = f / "index.html"
    return f if f.is_file() else None


def broken_links(site: Path, parsed: dict[str, _Page]) -> tuple[int, list[str]]:
    """(internal links checked, the broken ones) over every href and src of every page."""
    broken, checked = [], 0
    for url, page in parsed.items():
        for link in page.links:
            parts = urlsplit(urljoin(BASE + url, link))
            if f"{parts.scheme}://{parts.netloc}" != BASE:
                continue  # another site (or mailto:, data:): not ours to check offline
            checked += 1
            f = _target(site, parts.path)
            if f is None:
                broken.append(f"{url}: {link} -> no file {parts.path}")
            elif parts.fragment and (
                f.suffix != ".html" or unquote(parts.fragment) not in parsed[url_of(site, f)].ids
            ):
                broken.append(f"{url}: {link} -> no id #{parts.fragment} in {parts.path}")
    return checked, broken


def test_no_broken_internal_link_or_anchor(site, parsed):
    checked, broken = broken_links(site, parsed)
    assert checked > 100, checked  # the check saw the site (nav, assets, anchors)
    assert broken == [], "\n".join(broken)
    print(f"\n{checked} internal links and anchors in {len(parsed)} pages: none broken")


def test_pages_load_nothing_from_another_site(site, parsed):
    """Offline by construction: no script, style sheet, font or image comes from elsewhere."""
    outside = [(url, asset) for url, page in parsed.items() for asset in page.assets
               if urlsplit(urljoin(BASE + url, asset)).netloc not in ("site.invalid", "")]
    assert outside == []
    assert sum(len(p.assets) for p in parsed.values()) > 3 * len(parsed)  # assets were seen


def test_the_checker_catches_a_missing_page_and_a_missing_anchor(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "index.html").write_text(
        '<a href="a/#here">ok</a> <a href="a/#gone">bad id</a> <a href="b/">bad page</a>'
        ' <img src="x.png"> <a href="https://example.org/nowhere">elsewhere</a>'
    )
    (tmp_path / "a" / "index.html").write_text('<h2 id="here">Here</h2><a href="../">up</a>')
    (tmp_path / "x.png").write_bytes(b"")
    checked, broken = broken_links(tmp_path, _parse(tmp_path))
    assert checked == 5
    assert broken == ["/: a/#gone -> no id #gone in /a/", "/: b/ -> no file /b/"]


def _modules_pulled(md: str) -> list[str]:
    found = []
    for line in composed(md).split("\n"):
        m = SNIPPET_LINE.match(line)
        if m and (p := PULLED.match(m["path"])) and p["module"] not in found:
            found.append(p["module"])
    return found


def test_each_question_page_links_to_its_example_modules_and_their_tests(site, parsed):
    questions = question_pages()  # every section's, from the description
    assert len(questions) >= 3, questions
    report, missing = [], []
    for md in questions:
        url = "/" + md.removesuffix(".md") + "/"
        resolved = {
            str(PurePosixPath(urlsplit(urljoin(BASE + url, link)).path))
            for link in parsed[url].links
        }
        modules = _modules_pulled(md)
        if not modules and not any(PULLED_BELOW.match(m["path"]) for m in map(
                SNIPPET_LINE.match, composed(md).split("\n")) if m):
            missing.append(f"{md} shows no code from examples/")
        for m in modules:  # examples/<section>/<module>, tested by tests/<section>/test_<module>
            section, name = m.split("/")[1:]
            for page in (m, f"tests/{section}/test_{name}"):
                if not _target(site, f"/source/{page}/"):
                    missing.append(f"{md}: {page}.py does not exist")
                elif f"/source/{page}" not in resolved:
                    missing.append(f"{md}: no link to {page}.py (../source/{page}.md)")
        report.append(f"{md}: {', '.join(modules)}")
    assert missing == [], "\n".join(missing)
    print("\nquestion pages link their modules and tests:\n  " + "\n  ".join(report))


def test_every_example_has_its_test_and_its_page_links_back(site):
    """One hop from a module to what runs it and to the pages that show it (tools/source_pages.py)."""
    def article_links(page: str) -> set[str]:
        # Only the page's own text: the navigation links every page on every page.
        html = (site / page.strip("/") / "index.html").read_text()
        parser = _Page()
        parser.feed(html[html.index("<article"):html.index("</article>")])
        return {urlsplit(urljoin(BASE + page, href)).path for href in parser.links}

    examples = sorted((ROOT / "examples").glob("*/*.py"))
    assert len(examples) > 10
    for module in examples:
        m, section = module.stem, module.parent.name
        test = f"tests/{section}/test_{m}"
        assert (ROOT / f"{test}.py").is_file(), f"examples/{section}/{m}.py: no {test}.py"
        page = f"/source/examples/{section}/{m}/"
        links = article_links(page)
        assert f"/source/{test}/" in links, f"{page} does not link its test"
        for md in pages():
            if f'"examples/{section}/{m}.py' in composed(md):
                url = "/" + md.removesuffix(".md").removesuffix("index").rstrip("/") + "/"
                assert url.replace("//", "/") in links, f"{page} does not link back to {md}"
