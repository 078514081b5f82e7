"""MkDocs hook: publish every example module, tool and test as a page of the site.

A file's page mirrors its path: `examples/celery/api.py` is `source/examples/celery/api.md`,
`tests/celery/test_api.py` is `source/tests/celery/test_api.md`, `tools/benchmark.py` is
`source/tools/benchmark.md`. Each source page links back: an example names the pages that
show it and the tests that run it; a test names the module it runs. One click either way,
and it works offline.
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
            if target.startswith(("examples/", "tools/")):
                found.add(target.split(":")[0])
            elif target.startswith("docs/") and target not in seen:
                found |= included(ROOT / target, seen | {target})
        return found

    shown: dict[str, list[Path]] = {}
    for md in sorted(DOCS.rglob("*.md")):
        if "_includes" in md.parts:
            continue
        for module in included(md):  # a path such as examples/celery/api.py
            shown.setdefault(module, []).append(md.relative_to(DOCS))
    return shown


def _title(md: Path) -> str:
    heading = re.search(r"^# (.+)$", (DOCS / md).read_text(), re.M)
    return heading[1].strip() if heading else md.stem


def tests_of(rel: Path) -> list[Path]:
    """The tests of a module: tests/<section>/test_<m>.py and test_<m>_*.py beside it.

    A module of examples/<section>/ is tested in tests/<section>/; a tool in tests/tools/.
    """
    folder = ROOT / "tests" / (rel.parts[1] if rel.parts[0] == "examples" else "tools")
    found = sorted(folder.glob(f"test_{rel.stem}.py"))
    found += sorted(folder.glob(f"test_{rel.stem}_*.py"))
    return [t.relative_to(ROOT) for t in found]


def module_of(rel: Path) -> Path | None:
    """The module a test file runs, if it is named after one."""
    name = rel.stem.removeprefix("test_")
    section = rel.parts[1]
    for candidate in (Path("examples", section, f"{name}.py"), Path("tools", f"{name}.py")):
        if (ROOT / candidate).exists():
            return candidate
    return None


def _link(rel: Path, depth: int) -> str:
    """A link from a source page `depth` folders below source/ to the page of `rel`."""
    return "../" * depth + rel.with_suffix("").as_posix() + ".md"


def _page(rel: Path, shown: dict[str, list[Path]]) -> str:
    # Snippet section markers are for the pages, not for readers of the whole file.
    lines = (ROOT / rel).read_text().splitlines(keepends=True)
    text = "".join(line for line in lines if "--8<--" not in line)
    depth = len(rel.parts) - 1  # folders between source/ and this page
    if rel.parts[0] == "tests":
        other = module_of(rel)
        see = f"Tests [`{other}`]({_link(other, depth)})." if other else ""
    else:
        links = [f"[`{t}`]({_link(t, depth)})" for t in tests_of(rel)]
        see = f"Tested by {', '.join(links)}." if links else ""
        pages = [f"[{_title(md)}]({'../' * (depth + 1)}{md.as_posix()})"
                 for md in shown.get(rel.as_posix(), [])]
        if pages:
            see += f" Shown on {', '.join(pages)}."
    # A fence longer than any backtick run in the file, so nothing can close it early.
    fence = "`" * 4
    return f"# `{rel}`\n\n{see}\n\n{fence}python\n{text}{fence}\n"


def on_files(files, config):
    shown = _shown_on()
    for pattern in ("examples/*/*.py", "tools/*.py", "tests/*/test_*.py"):
        for path in sorted(ROOT.glob(pattern)):
            rel = path.relative_to(ROOT)
            page = f"source/{rel.with_suffix('').as_posix()}.md"
            files.append(File.generated(config, page, content=_page(rel, shown)))
    return files


# Pygments' rendering of `def test_x`: each test function gets an anchor, `#test_x`, so a
# "Proof:" link opens the function itself, not the top of its module.
TEST_DEF = re.compile(r'(<span class="k">def</span>(?:<span class="w"> </span>| )'
                      r'<span class="nf">(test_\w+)</span>)')


def on_page_content(html, page, config, files):
    if not page.file.src_uri.startswith("source/tests/"):
        return html
    return TEST_DEF.sub(r'<span id="\2"></span>\1', html)
