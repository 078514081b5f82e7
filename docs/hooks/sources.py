"""MkDocs hook: publish every example module and test as a page of the site.

Pages link to `source/examples/<module>.md` and `source/tests/<test>.md`, and each
source page links back: an example names the pages that show it and the tests that
run it; a test names the example it runs. One click either way, and it works offline.
"""

import re
from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
INCLUDE = re.compile(r'--8<--\s+"([^":]+)')


def _shown_on() -> dict[str, list[Path]]:
    """example module -> the pages (not fragments) whose code comes from it."""
    def included(md: Path, seen: frozenset = frozenset()) -> set[str]:
        found = set()
        for target in INCLUDE.findall(md.read_text()):
            if target.startswith("examples/"):
                found.add(Path(target).stem)
            elif target.startswith("docs/") and target not in seen:
                found |= included(ROOT / target, seen | {target})
        return found

    shown: dict[str, list[Path]] = {}
    for md in sorted(DOCS.rglob("*.md")):
        if "_includes" in md.parts:
            continue
        for module in included(md):
            shown.setdefault(module, []).append(md.relative_to(DOCS))
    return shown


def _title(md: Path) -> str:
    heading = re.search(r"^# (.+)$", (DOCS / md).read_text(), re.M)
    return heading[1].strip() if heading else md.stem


def _page(rel: Path, shown: dict[str, list[Path]]) -> str:
    # Snippet section markers are for the pages, not for readers of the whole file.
    lines = (ROOT / rel).read_text().splitlines(keepends=True)
    text = "".join(line for line in lines if "--8<--" not in line)
    module = rel.stem
    if rel.parts[0] == "examples":
        tests = sorted(ROOT.glob(f"tests/test_{module}.py")) + sorted(
            ROOT.glob(f"tests/test_{module}_*.py"))
        links = [f"[`tests/{t.name}`](../tests/{t.stem}.md)" for t in tests]
        see = f"Tested by {', '.join(links)}." if links else ""
        pages = [f"[{_title(md)}](../../{md.as_posix()})" for md in shown.get(module, [])]
        if pages:
            see += f" Shown on {', '.join(pages)}."
    else:
        name = module.removeprefix("test_")
        other = f"examples/{name}.py"
        see = f"Tests [`{other}`](../examples/{name}.md)." if (ROOT / other).exists() else ""
    # A fence longer than any backtick run in the file, so nothing can close it early.
    fence = "`" * 4
    return f"# `{rel}`\n\n{see}\n\n{fence}python\n{text}{fence}\n"


def on_files(files, config):
    shown = _shown_on()
    for folder in ("examples", "tests"):
        for path in sorted((ROOT / folder).glob("*.py")):
            rel = path.relative_to(ROOT)
            if path.name in ("__init__.py", "conftest.py"):
                continue
            files.append(
                File.generated(config, f"source/{folder}/{path.stem}.md", content=_page(rel, shown))
            )
    return files
