"""The site's pages as Markdown, with their snippets expanded exactly as the build does.

The docs tests read the pages through this module: which pages exist, what
each one looks like once `--8<--` lines are replaced (through the
`pymdownx.snippets` preprocessor, configured from mkdocs.yml), and which code
fences they hold.
"""

import functools
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sections

from .paths import DOCS, EXAMPLES, ROOT, TOOLS  # noqa: F401 (TOOLS: the tools, whose code a page may show too)

ALL_EXAMPLES = ROOT / "examples"  # every section's app root: examples/<section>/<module>.py
INCLUDES = DOCS / "_includes"
# Folders under docs/ that are not hand-written pages: fragments and hooks (see exclude_docs in
# mkdocs.yml), and source/, which tools/source_pages.py generates from the files it shows.
NOT_PAGES = ("_includes", "hooks", "source")

# A block-level snippet line: `--8<-- "path"` alone on its line (indent allowed).
SNIPPET_LINE = re.compile(r'^(?P<indent>[ \t]*)-{1,}8<-{1,}[ \t]+"(?P<path>[^"]+)"[ \t]*$')
# A snippet that pulls a section of an example module or a tool:
# examples/<section>/<m>.py:<name> (or a file below the section's folder, such as an
# Alembic revision in examples/databases/migrations/versions/) or tools/<m>.py:<name>.
EXAMPLE_SNIPPET = re.compile(
    r"^(examples/[a-z_]+(/[A-Za-z0-9_]+)*|tools)/[A-Za-z0-9_]+\.py:[a-z][-_0-9a-z]*$")
# Section markers, as pymdownx.snippets recognises them.
SECTION_MARKER = re.compile(
    r"-{1,}8<-{1,}[ \t]+\[[ \t]*(?P<type>start|end)[ \t]*:[ \t]*(?P<name>[a-z][-_0-9a-z]*)[ \t]*\]",
    re.I,
)
QUESTION_FILE = re.compile(r"^q(\d+)-[a-z0-9-]+\.md$")
FENCE_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*)$")
PYTHON_LANGS = {"python", "py", "python3", "py3"}


@dataclass
class Fence:
    page: str  # page path relative to docs/
    line: int  # 1-based line of the opening fence in the text it was found in
    lang: str
    info: str
    body: str  # dedented, ends with a newline unless empty

    @property
    def is_python(self) -> bool:
        return self.lang in PYTHON_LANGS


@functools.cache
def site_config():
    """mkdocs.yml as MkDocs reads it (yaml.safe_load chokes on its !!python/name tags)."""
    from mkdocs.config import load_config

    return load_config(str(ROOT / "mkdocs.yml"))


def _markdown():
    import markdown

    cfg = site_config()
    mdx = {name: dict(opts) for name, opts in cfg.mdx_configs.items()}
    snippets = mdx["pymdownx.snippets"]
    # mkdocs resolves base_path from the current directory, which is the repo
    # root when `make` runs it; pin it there so pytest's cwd doesn't matter.
    snippets["base_path"] = [str((ROOT / p).resolve()) for p in snippets.get("base_path", ["."])]
    return markdown.Markdown(extensions=cfg.markdown_extensions, extension_configs=mdx)


def pages() -> list[str]:
    """Every Markdown page under docs/, relative to docs/ (fragments and hooks excluded)."""
    found = []
    for path in sorted(DOCS.rglob("*.md")):
        rel = path.relative_to(DOCS)
        if rel.parts[0] not in NOT_PAGES:
            found.append(rel.as_posix())
    return found


def question_pages() -> list[str]:
    """Every question page, section by section: docs/<section>/q<N>-<slug>.md for each N of
    the section's range in the description (tools/sections.py)."""
    found = []
    for section in sections.all_sections():
        first, last = section.questions
        for path in sorted(section.docs.glob("q*-*.md")):
            m = QUESTION_FILE.match(path.name)
            if m and first <= int(m[1]) <= last:
                found.append(path.relative_to(DOCS).as_posix())
    return sorted(found, key=question_number)


def question_number(page: str) -> int:
    return int(QUESTION_FILE.match(page.rsplit("/", 1)[-1])[1])


def raw(page: str) -> str:
    return (DOCS / page).read_text()


def expanded(page: str) -> str:
    """The page after the snippets preprocessor: what the rest of Markdown sees."""
    md = _markdown()
    return "\n".join(md.preprocessors["snippet"].run(raw(page).split("\n")))


def composed(page: str, _depth: int = 0) -> str:
    """The page with only its Markdown fragments (docs/_includes/*.md) spliced in.

    Snippets of example modules stay as `--8<--` lines, so one can tell a block
    pulled from examples/ from a block typed into a page or a fragment.
    """
    return _compose(raw(page), _depth)


def _compose(text: str, depth: int) -> str:
    if depth > 5:
        raise RecursionError("Markdown fragments include each other too deeply")
    out = []
    for line in text.split("\n"):
        m = SNIPPET_LINE.match(line)
        if m and m["path"].endswith(".md"):
            inner = _compose((ROOT / m["path"]).read_text(), depth + 1)
            out.extend(m["indent"] + part if part else part for part in inner.split("\n"))
        else:
            out.append(line)
    return "\n".join(out)


def fences(text: str, page: str = "") -> list[Fence]:
    """The fenced code blocks of a Markdown text, nested in admonitions or tabs or not."""
    found: list[Fence] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = len(m["indent"]), m["fence"], m["info"].strip()
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body = []
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            line = lines[j]
            strip = min(indent, len(line) - len(line.lstrip(" \t")))
            body.append(line[strip:])
            j += 1
        lang = info.split()[0].lstrip("{.").rstrip("}").lower() if info else ""
        while body and not body[-1].strip():  # trailing blank lines render as nothing
            body.pop()
        text_ = "\n".join(body) + ("\n" if body else "")
        found.append(Fence(page=page, line=i + 1, lang=lang, info=info, body=text_))
        i = j + 1
    return found


def is_pulled(fence: Fence) -> bool:
    """A fence whose only content is snippet lines pulling sections of examples or tools."""
    lines = [line for line in fence.body.split("\n") if line.strip()]
    if not lines:
        return False
    for line in lines:
        m = SNIPPET_LINE.match(line)
        if not (m and EXAMPLE_SNIPPET.match(m["path"])):
            return False
    return True


def example_texts() -> dict[str, str]:
    """Every module a page may pull code from, by its path from the project root."""
    files = sorted(ALL_EXAMPLES.glob("*/**/*.py")) + sorted(TOOLS.glob("*.py"))
    return {p.relative_to(ROOT).as_posix(): p.read_text() for p in files}


def section_markers(text: str) -> list[tuple[int, str, str]]:
    """(line, 'start'|'end', name) for every section marker in a file."""
    marks = []
    for n, line in enumerate(text.split("\n"), 1):
        m = SECTION_MARKER.search(line)
        if m:
            marks.append((n, m["type"].lower(), m["name"]))
    return marks


def delegated_blocks(page: str, test_file: str) -> list[list[str]]:
    """A page's ```bash fences as their command lines, each declared delegated to `test_file`
    (`data-check="delegated"` with a data-reason naming it), which runs them itself. The
    test module may pass its own `__file__`."""
    if test_file.startswith("/"):
        test_file = Path(test_file).relative_to(ROOT).as_posix()
    # The section's install line (a generated fragment) is checked where it is generated.
    blocks = [f for f in fences(expanded(page), page)
              if f.lang == "bash" and 'data-check="install"' not in f.info]
    for fence in blocks:
        assert 'data-check="delegated"' in fence.info and test_file in fence.info, (
            f"{page}:{fence.line}: not delegated to {test_file}: {fence.info}")
    return [[line for line in f.body.splitlines() if line.strip()] for f in blocks]


def in_container(line: str, service: str = "worker") -> str:
    """What a page's `docker compose exec SERVICE cmd` line runs inside the container: `cmd`,
    run natively by a test in that service's environment (support.sandbox)."""
    prefix = f"docker compose exec {service} "
    assert line.startswith(prefix), f"not a `{prefix}…` line: {line}"
    return line.removeprefix(prefix)


def run_line(line: str, env: dict, cwd: Path = EXAMPLES) -> subprocess.CompletedProcess:
    """A page's command line, run by bash as written from its app root; it must exit 0."""
    out = subprocess.run(["bash", "-c", line], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=90)
    assert out.returncode == 0, f"{line}: exit {out.returncode}\n{out.stderr[-1500:]}"
    return out
