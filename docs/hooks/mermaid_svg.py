"""MkDocs hook: draw every ```mermaid diagram as inline SVG when the site is built.

Why not let Material draw them in the reader's browser? Material loads
mermaid.min.js from unpkg.com (the site must work offline), and the library is
3.5 MB: one diagram would take a question page far past its 500 KB budget.
So the build draws each diagram once, with the vendored mermaid
(docs/assets/vendor/mermaid/, build-time only, not published) in headless
Chromium, with Material's own mermaid settings and theme CSS. The theme CSS
only refers to Material's CSS variables, so the inline SVG follows the
light/dark palette like Material's own rendering does. Pages ship no JS for it.

Each drawing keeps only the style rules it uses and rounds its geometry to a
tenth of a unit: about 15 to 30 kB per diagram instead of 25 to 70 kB.
A diagram mermaid can't parse fails the build, naming its page.

Drawings are cached by content (mermaid build + settings + drawing code + diagram
text), so only a new or changed diagram starts Chromium. The cache is committed,
in docs/hooks/diagrams/ (or $MERMAID_SVG_CACHE): `make docs` on a fresh machine needs
no Chromium, and a changed diagram is drawn by the next build that has one.
Chromium is $CHROMIUM, else the first of chromium / chromium-browser /
google-chrome on PATH.
"""

import concurrent.futures
import functools
import hashlib
import html
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[2]
VENDOR = "assets/vendor/mermaid/"  # relative to docs/
MERMAID_JS = ROOT / "docs" / VENDOR / "mermaid.min.js"
# What pymdownx.superfences' fence_code_format writes for a ```mermaid fence.
PRE = re.compile(r'<pre class="mermaid"><code>(?P<code>.*?)</code></pre>', re.S)
# Material's `pre.mermaid` selector no longer matches this, so its bundle never fetches mermaid.
SVG_BOX = '<div class="mermaid">{svg}</div>'

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

# Draw, then keep only the style rules that match something in this drawing (mermaid and
# Material ship rules for every kind of diagram), and round the geometry.
DRAW_JS = """async ([id, code]) => {
    const host = document.createElement("div");
    host.innerHTML = (await mermaid.render(id, code)).svg;
    document.body.append(host);
    const svg = host.firstElementChild, style = svg.querySelector("style");
    const used = (rule) => {
        if (rule.selectorText === undefined) return true;  // @keyframes and the like
        const plain = rule.selectorText.replace(/::?[a-z-]+(\\([^)]*\\))?/g, "") || "*";
        try {
            return svg.matches(plain) || svg.querySelector(plain) !== null;
        } catch (e) {
            return true;  // a selector we can't test is kept
        }
    };
    style.textContent = [...style.sheet.cssRules].filter(used).map(r => r.cssText).join("");
    // Geometry to a tenth of a unit (sub-pixel at the drawing's size): mermaid writes
    // 17 significant digits per coordinate, most of a flowchart's bytes.
    const number = /-?(?:\\d*\\.\\d+|\\d+\\.?)(?:e[-+]?\\d+)?/gi;
    const round = (value) => value.replace(number, (n, at, all) => {
        if (!/\\.\\d{2}/.test(n)) return n;
        // Compact path data runs numbers together ("12.258.001" is 12.258 and .001): the
        // rounded ones must stay apart ("12.3 0", not "12.30"; "1 .5", not "1.5").
        const short = String(+(+n).toFixed(1)).replace(/^(-?)0\\./, "$1.");
        const before = /[\\d.]/.test(all[at - 1] || "") && /^\\d/.test(short) ? " " : "";
        const after = all[at + n.length] === "." && !short.includes(".") ? " " : "";
        return before + short + after;
    });
    for (const el of [svg, ...svg.querySelectorAll("*")]) {
        el.removeAttribute("data-points");  // edge points again, base64, for mermaid's own JS
        for (const name of ["d", "points", "transform", "viewBox", "x", "y", "width", "height"]) {
            const value = el.getAttribute(name);
            if (value) el.setAttribute(name, round(value));
        }
    }
    host.remove();
    return svg.outerHTML;
}"""

_sources: dict[str, list[str]] = {}  # page src_uri -> diagram texts, filled while pages render
_svgs: dict[str, str] = {}  # diagram text -> svg, for this build


def chromium_executable() -> str | None:
    """Debian's chromium (or $CHROMIUM); None means Playwright's own download."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def _cache_dir() -> Path:
    if os.environ.get("MERMAID_SVG_CACHE"):
        return Path(os.environ["MERMAID_SVG_CACHE"])
    return Path(__file__).with_name("diagrams")


def _material_assets(config) -> tuple[str, str]:
    """Material's mermaid theme CSS (from its bundle) and its main stylesheet."""
    import material  # theme.dirs[0] is the override folder (custom_dir), not Material's

    assets = Path(material.__file__).parent / "templates" / "assets"
    bundle = next((assets / "javascripts").glob("bundle.*.min.js")).read_text()
    name = re.search(r"themeCSS:(\w+)", bundle)
    css = name and re.search(rf'[\s,;]{re.escape(name[1])}="((?:[^"\\]|\\.)*)"', bundle)
    if not css:
        raise PluginError("mermaid_svg: can't find Material's mermaid theme CSS in its bundle")
    main = next((assets / "stylesheets").glob("main.*.min.css")).read_text()
    return json.loads(f'"{css[1]}"'), main


def _settings(theme_css: str) -> dict:
    # The same call Material makes in the browser (mermaid/index.ts).
    return {
        "startOnLoad": False,
        "themeCSS": theme_css,
        "sequence": {"actorFontSize": "16px", "messageFontSize": "16px", "noteFontSize": "16px"},
    }


@functools.cache
def _library_digest() -> bytes:
    return hashlib.sha256(MERMAID_JS.read_bytes()).digest()


def _key(settings: dict, code: str) -> str:
    h = hashlib.sha256(_library_digest())
    h.update(DRAW_JS.encode())  # a change in how drawings are made invalidates the cache
    h.update(json.dumps(settings, sort_keys=True).encode())
    h.update(code.encode())
    return h.hexdigest()[:24]


def _draw(jobs: dict[str, str], settings: dict, main_css: str):
    """Draw {key: diagram text} in one headless Chromium: ({key: svg}, {key: error})."""
    from playwright.sync_api import Error, sync_playwright

    drawn, failed = {}, {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_executable(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.abort())  # nothing leaves this page
            # Material's CSS gives the text the font the reader's page will measure it with.
            page.set_content('<!doctype html><html><body class="md-typeset"></body></html>')
            page.add_style_tag(content=main_css)
            page.add_script_tag(content=MERMAID_JS.read_text())
            page.evaluate("s => mermaid.initialize(s)", settings)
            for key, code in jobs.items():
                try:
                    drawn[key] = page.evaluate(DRAW_JS, [f"mmd-{key[:10]}", code])
                except Error as exc:  # mermaid's parse error, with line and column
                    failed[key] = exc.message.removeprefix("Error: ").split("\n    at ")[0]
        finally:
            browser.close()
    return drawn, failed


def on_files(files, config):
    # The vendored library is a build tool: readers never download it.
    for file in list(files):
        if file.src_uri.startswith(VENDOR):
            files.remove(file)
    return files


def on_page_content(html_, page, config, files):
    found = [html.unescape(m["code"]) for m in PRE.finditer(html_)]
    if found:
        _sources[page.file.src_uri] = found
    else:
        _sources.pop(page.file.src_uri, None)
    return html_


def on_env(env, config, files):
    """Every page's Markdown is HTML now, and none is written yet: draw what's missing."""
    if not any(_sources.values()):
        return env
    theme_css, main_css = _material_assets(config)
    settings = _settings(theme_css)
    cache = _cache_dir()
    jobs = {}
    for code in {c for codes in _sources.values() for c in codes}:
        key = _key(settings, code)
        cached = cache / f"{key}.svg"
        if cached.is_file():
            _svgs[code] = cached.read_text()
        else:
            jobs[key] = code
    if jobs:
        # A thread of its own: Playwright's sync API refuses to run inside an asyncio loop,
        # and the caller (mkdocs serve, a test) may have one.
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            try:
                drawn, failed = pool.submit(_draw, jobs, settings, main_css).result(timeout=120)
            except Exception as exc:
                raise PluginError(
                    f"mermaid_svg: could not draw {len(jobs)} diagram(s): {exc}. "
                    "Is Chromium installed (apt-get install chromium)?"
                ) from exc
        if failed:
            where = {code: uri for uri, codes in _sources.items() for code in codes}
            raise PluginError("mermaid_svg: a diagram that mermaid can't draw:\n" + "\n".join(
                f"- in {where[jobs[key]]}: {error}" for key, error in failed.items()))
        cache.mkdir(parents=True, exist_ok=True)
        for key, svg in drawn.items():
            # Atomic, so builds running side by side never read half a file.
            fd, tmp = tempfile.mkstemp(dir=cache, suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                f.write(svg)
            os.chmod(tmp, 0o644)
            os.replace(tmp, cache / f"{key}.svg")
            _svgs[jobs[key]] = svg
    return env


def on_post_page(output, page, config):
    # After the search plugin has indexed the page: the index keeps the diagram's words,
    # not the SVG's style sheet.
    if page.file.src_uri not in _sources:
        return output
    return PRE.sub(lambda m: SVG_BOX.format(svg=_svgs[html.unescape(m["code"])]), output)
