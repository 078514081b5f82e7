"""The ```mermaid fences as inline SVG, served from drawings committed beside this module.

A pymdownx.superfences custom fence format (mkdocs.yml):

    custom_fences:
      - name: mermaid
        class: mermaid
        format: !!python/name:mermaid_svg.fence

so any builder that runs Python-Markdown with superfences (MkDocs, Zensical) renders the same
HTML, and no build hook is involved. `make` installs the project in editable mode, which puts
this module on the path `!!python/name:` imports from.

Why not let the reader's browser draw them? Material loads mermaid.min.js from unpkg.com (the
site must work offline), and the library is 3.5 MB. So each diagram is drawn once, with the
vendored mermaid (vendor/mermaid/, a build tool, never published) in headless Chromium, with
Material's own mermaid settings and theme CSS. That CSS only refers to Material's CSS
variables, so the inline SVG follows the light/dark palette as Material's own drawing does.
Pages ship no JS for it.

A drawing is named by a hash of its fence's source (with the mermaid build, the settings and
the drawing code): docs/hooks/diagrams/<hash>.svg, or $MERMAID_SVG_CACHE. A build serves the
committed drawing; only a new or changed diagram needs Chromium, which then draws it and saves
it for the next commit. Without Chromium such a build fails, naming the diagram. So does a
diagram mermaid can't parse. Chromium is $CHROMIUM, else the first of chromium /
chromium-browser / google-chrome on PATH.

Each drawing keeps only the style rules it uses and rounds its geometry to a tenth of a unit,
and says how small it may be drawn: its min-width keeps its smallest text at READABLE_PX or
more. A diagram wider than the column at that size scrolls sideways in its own box
(docs/assets/stylesheets/diagrams.css) instead of shrinking out of reach.
"""

import concurrent.futures
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from pymdownx.superfences import SuperFencesException

HERE = Path(__file__).resolve().parent
MERMAID_JS = HERE / "vendor" / "mermaid" / "mermaid.min.js"
READABLE_PX = 12  # the smallest text a reader gets, in CSS px: above the 11 px floor
# The scroll box (focusable, so a keyboard can scroll it) around mermaid's usual container.
BOX = ('<div class="diagram" tabindex="0" role="group" aria-label="Diagram">'
       '<div class="mermaid">{svg}</div></div>')

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

# Draw; keep only the style rules that match something in this drawing (mermaid and Material
# ship rules for every kind of diagram); round the geometry; set the smallest width at which
# the smallest text is still READABLE_PX.
DRAW_JS = """async ([id, code, readable]) => {
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
    // Font sizes in the drawing's own units: what a reader sees at its natural width.
    let smallest = Infinity;
    for (const el of svg.querySelectorAll("text, tspan, foreignObject *")) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        if (own) smallest = Math.min(smallest, parseFloat(getComputedStyle(el).fontSize));
    }
    const natural = svg.viewBox.baseVal.width;
    // Text drawn smaller than that widens the drawing past its natural size.
    if (smallest < Infinity) svg.style.minWidth = `${Math.ceil(natural * readable / smallest)}px`;
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

# The same call Material makes in the browser (mermaid/index.ts); its themeCSS is added when
# drawing, from the installed Material.
SETTINGS = {
    "startOnLoad": False,
    "sequence": {"actorFontSize": "16px", "messageFontSize": "16px", "noteFontSize": "16px"},
}


def fence(source, language, class_name, options, md, **kwargs):
    """superfences' format: the fence's drawing, drawn first if it is not committed yet."""
    path = drawings_dir() / f"{key(source)}.svg"
    if not path.is_file():
        _draw_and_save(source, path)
    return BOX.format(svg=path.read_text())


def chromium_executable() -> str | None:
    """Debian's chromium (or $CHROMIUM); None means Playwright's own download."""
    if os.environ.get("CHROMIUM"):
        return os.environ["CHROMIUM"]
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    return None


def drawings_dir() -> Path:
    return Path(os.environ.get("MERMAID_SVG_CACHE") or HERE / "diagrams")


@functools.cache
def _library_digest() -> bytes:
    return hashlib.sha256(MERMAID_JS.read_bytes()).digest()


def key(source: str) -> str:
    """The drawing's name: the fence's source, and everything else that shapes the drawing."""
    h = hashlib.sha256(_library_digest())
    h.update(DRAW_JS.encode())
    h.update(json.dumps([SETTINGS, READABLE_PX], sort_keys=True).encode())
    h.update(source.encode())
    return h.hexdigest()[:24]


def material_assets() -> tuple[str, str]:
    """Material's mermaid theme CSS (from its bundle) and its main stylesheet."""
    import material

    assets = Path(material.__file__).parent / "templates" / "assets"
    bundle = next((assets / "javascripts").glob("bundle.*.min.js")).read_text()
    name = re.search(r"themeCSS:(\w+)", bundle)
    css = name and re.search(rf'[\s,;]{re.escape(name[1])}="((?:[^"\\]|\\.)*)"', bundle)
    if not css:
        raise RuntimeError("can't find Material's mermaid theme CSS in its bundle")
    main = next((assets / "stylesheets").glob("main.*.min.css")).read_text()
    return json.loads(f'"{css[1]}"'), main


def draw(jobs: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Draw {name: diagram source} in one headless Chromium: ({name: svg}, {name: error})."""
    from playwright.sync_api import Error, sync_playwright

    theme_css, main_css = material_assets()
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
            page.evaluate("s => mermaid.initialize(s)", {**SETTINGS, "themeCSS": theme_css})
            for name, code in jobs.items():
                try:
                    drawn[name] = page.evaluate(DRAW_JS, [f"mmd-{name[:10]}", code, READABLE_PX])
                except Error as exc:  # mermaid's parse error, with line and column
                    failed[name] = exc.message.removeprefix("Error: ").split("\n    at ")[0]
        finally:
            browser.close()
    return drawn, failed


def _draw_and_save(source: str, path: Path) -> None:
    first = source.strip().splitlines()[0] if source.strip() else "(empty)"
    # A thread of its own: Playwright's sync API refuses to run inside an asyncio loop, and
    # the caller (a dev server, a test) may have one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        try:
            drawn, failed = pool.submit(draw, {path.stem: source}).result(timeout=120)
        except Exception as exc:
            raise SuperFencesException(
                f"mermaid_svg: no drawing of the diagram that starts {first!r} in "
                f"{path.parent}, and it could not be drawn: {exc}. Is Chromium installed "
                "(apt-get install chromium)?"
            ) from exc
    if failed:
        raise SuperFencesException(
            f"mermaid_svg: mermaid can't draw the diagram that starts {first!r}: "
            f"{failed[path.stem]}")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Atomic, so builds running side by side never read half a file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(drawn[path.stem])
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
