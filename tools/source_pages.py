"""Write docs/source/: every example module, tool and test as a page of the site.

Runs before the build (`make docs`, `make site` and the tests' build call it), so the site
needs no hook of its builder: MkDocs and Zensical read the same Markdown files. The folder is
generated, git-ignored and rewritten whole on each run.

A file's page mirrors its path: `examples/celery/api.py` is `source/examples/celery/api.md`,
`tests/celery/test_api.py` is `source/tests/celery/test_api.md`, `tools/benchmark.py` is
`source/tools/benchmark.md`. Each page links back: an example names the pages that show it
and the tests that run it; a test names the module it runs. One click either way, offline.
The pages stay out of the search index (front matter): they repeat whole files, and the
sections readers search for are indexed on the pages that show them.
"""

import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
OUT = DOCS / "source"
PUBLISHED = ("examples/*/*.py", "tools/*.py", "tests/*/test_*.py")
# Folders of docs/ that hold no hand-written page.
NOT_PAGES = ("_includes", "hooks", "source")
INCLUDE = re.compile(r'--8<--\s+"([^":]+)')
FRONT_MATTER = "---\nsearch:\n  exclude: true\n---\n\n"


def shown_on() -> dict[str, list[Path]]:
    """example module or tool -> the pages (not fragments) whose code comes from it."""
    def included(md: Path, seen: frozenset = frozenset()) -> set[str]:
        found = set()
        for target in INCLUDE.findall(md.read_text()):
            if target.startswith(("examples/", "tools/")):
                found.add(target)
            elif target.startswith("docs/") and target not in seen:
                found |= included(ROOT / target, seen | {target})
        return found

    shown: dict[str, list[Path]] = {}
    for md in sorted(DOCS.rglob("*.md")):
        if md.relative_to(DOCS).parts[0] in NOT_PAGES:
            continue
        for module in sorted(included(md)):  # a path such as examples/celery/api.py
            shown.setdefault(module, []).append(md.relative_to(DOCS))
    return shown


def title(md: Path) -> str:
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
    for candidate in (Path("examples", rel.parts[1], f"{name}.py"), Path("tools", f"{name}.py")):
        if (ROOT / candidate).exists():
            return candidate
    return None


def link(rel: Path, depth: int) -> str:
    """A link from a source page `depth` folders below source/ to the page of `rel`."""
    return "../" * depth + rel.with_suffix("").as_posix() + ".md"


def page(rel: Path, shown: dict[str, list[Path]]) -> str:
    # Snippet section markers are for the pages, not for readers of the whole file.
    lines = (ROOT / rel).read_text().splitlines(keepends=True)
    text = "".join(line for line in lines if "--8<--" not in line)
    depth = len(rel.parts) - 1  # folders between source/ and this page
    if rel.parts[0] == "tests":
        other = module_of(rel)
        see = f"Tests [`{other}`]({link(other, depth)})." if other else ""
    else:
        links = [f"[`{t}`]({link(t, depth)})" for t in tests_of(rel)]
        see = f"Tested by {', '.join(links)}." if links else ""
        pages = [f"[{title(md)}]({'../' * (depth + 1)}{md.as_posix()})"
                 for md in shown.get(rel.as_posix(), [])]
        if pages:
            see += f" Shown on {', '.join(pages)}."
    return f"{FRONT_MATTER}# `{rel}`\n\n{see}\n\n{listing(text)}"


TEST_DEF = re.compile(r"^(?:async )?def (test_\w+)\(")


def listing(text: str) -> str:
    """The file as code, with an anchor before each test function (`#test_x`, decorators
    included), so a "Proof:" link opens the function itself, not the top of its module.

    The anchors sit between code blocks, one block per test function: a builder renders
    them without any hook of its own.
    """
    lines = text.splitlines(keepends=True)
    starts = {}  # line index where a test's block begins -> its name
    for i, line in enumerate(lines):
        m = TEST_DEF.match(line)
        if m:
            j = i
            while j > 0 and lines[j - 1].startswith(("@", ")", " ", "#")) and \
                    lines[j - 1].strip() != "" and _in_decorators(lines, j - 1):
                j -= 1
            starts[j] = m[1]
    # A fence longer than any backtick run in the file, so nothing can close it early.
    fence = "`" * 4
    out, block = [], []
    for i, line in enumerate(lines):
        if i in starts:
            if "".join(block).strip():
                out.append(f"{fence}python\n{''.join(block).rstrip()}\n{fence}\n")
            out.append(f'<span id="{starts[i]}"></span>\n')
            block = []
        block.append(line)
    if "".join(block).strip():
        out.append(f"{fence}python\n{''.join(block).rstrip()}\n{fence}\n")
    return "\n".join(out)


def _in_decorators(lines: list[str], i: int) -> bool:
    """Whether line i belongs to the decorators just above a `def` (a decorator may span lines)."""
    for k in range(i, -1, -1):
        line = lines[k]
        if line.startswith("@"):
            return True
        if not line.startswith((" ", ")")):
            return False
    return False


def pages() -> dict[Path, str]:
    """Page path under docs/source/ -> its Markdown."""
    shown = shown_on()
    return {rel.with_suffix(".md"): page(rel, shown)
            for pattern in PUBLISHED
            for rel in (p.relative_to(ROOT) for p in sorted(ROOT.glob(pattern)))}


def write(out: Path = OUT) -> int:
    """Make `out` hold exactly the pages; rewrite only what changed. Returns the page count.

    Each file is replaced in one step (a temp file renamed over it), so two builds that
    start together, as test workers may, never read half a page.
    """
    wanted = pages()
    for rel, text in wanted.items():
        target = out / rel
        if target.is_file() and target.read_text() == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, target)
    for old in sorted(out.rglob("*.md")):  # a file renamed or deleted since the last run
        if old.relative_to(out) not in wanted:
            old.unlink(missing_ok=True)
    return len(wanted)


if __name__ == "__main__":
    target = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else OUT
    print(f"{write(target)} source pages in {target}")
