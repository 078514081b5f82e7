"""Write what a reader rehearses with, from the question pages: a cheat sheet per section and
the practice mode's questions.

    python tools/rehearse.py           # rewrite docs/<section>/cheat-sheet.md and the JSON
    python tools/rehearse.py --check   # exit 1, naming the files, if any is out of date

The question pages of a section are docs/<section>/q<N>-*.md with N in the section's range
(pyproject.toml's [tool.guide], read through tools/sections.py). From each it takes the title
(the `# ` heading), the What to say box, the follow-up questions with their answers, and
the line that shows the answer best: the page marks one of its fences with
`data-cheat="<text>"`, and the line of that block (snippets expanded, as the build does)
that holds the text is the one shown. The mark stays on the page, next to the code it picks,
so a page that changes its code changes its sheet line too, or fails here when the text is
gone.

- `docs/<section>/cheat-sheet.md`: every What to say of the section, each with its line and
  a link to the full answer; printable (docs/assets/stylesheets/rehearse.css).
- `docs/assets/practice.json`: the same, with the follow-ups, as HTML for the practice mode
  (docs/practice.md, docs/assets/javascripts/practice.js). Links are relative to practice/.

Both are committed, so the site needs no build hook; tests/tools/test_rehearse.py fails
when either differs from what this tool would write now.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path[:0] = [str(ROOT / "tools"), str(ROOT / "tests")]

import sections  # noqa: E402

from support.docs_pages import expanded, fences  # noqa: E402 (the build's snippet expansion)

PRACTICE_JSON = DOCS / "assets" / "practice.json"
SHEET = "cheat-sheet.md"
HEADING = re.compile(r"^# (.+)$", re.M)
SAY = re.compile(r'^!!! quote "What to say[^"]*"\n(?P<body>(?: {4}.*\n|\n)+)', re.M)
FOLLOW_UPS = re.compile(r"^## Follow-up questions\n(?P<body>.*?)(?=^## |\Z)", re.M | re.S)
FOLLOW_UP = re.compile(r'^\?\?\?\+? question "(?P<title>(?:[^"\\]|\\.)*)"\n'
                       r"(?P<body>(?: {4}.*\n|[ \t]*\n)+)", re.M)
CHEAT = re.compile(r'\bdata-cheat="(?P<text>[^"]+)"')
TITLE = re.compile(r'\btitle="(?P<file>[^"]+)"')
LINK = re.compile(r"\]\((?P<target>[^)#\s]+\.md)(?P<anchor>#[^)\s]*)?\)")


@dataclass
class Question:
    page: str  # relative to docs/
    number: int
    title: str
    say: str  # Markdown, one paragraph
    line: str  # the line that shows it best, or "" if the page marks none
    lang: str
    origin: str  # the file the line comes from (its block's title), if it names one
    follow_ups: list[tuple[str, str]] = field(default_factory=list)  # (title, Markdown)


def _dedent(body: str) -> str:
    return "\n".join(line[4:] for line in body.rstrip().split("\n")).strip() + "\n"


def marked_line(page: str, text: str) -> tuple[str, str, str]:
    """(line, lang, origin) of the fence the page marks with data-cheat, or empty strings."""
    marked = [f for f in fences(text, page) if CHEAT.search(f.info)]
    if not marked:
        return "", "", ""
    if len(marked) > 1:
        raise ValueError(f"{page}: {len(marked)} fences carry data-cheat; mark one")
    fence = marked[0]
    wanted = CHEAT.search(fence.info)["text"]
    lines = [line.strip() for line in fence.body.split("\n") if wanted in line]
    if len(lines) != 1:
        raise ValueError(f'{page}:{fence.line}: data-cheat="{wanted}" matches {len(lines)} '
                         "lines of its block; it must pick exactly one")
    title = TITLE.search(fence.info)
    return lines[0], fence.lang, title["file"] if title else ""


def question(page: str) -> Question:
    text = expanded(page)
    say = SAY.search(text)
    if not say:
        raise ValueError(f"{page}: no What to say box")
    follow = FOLLOW_UPS.search(text)
    follow_ups = [(m["title"].replace('\\"', '"'), _dedent(m["body"]))
                  for m in FOLLOW_UP.finditer(follow["body"] if follow else "")]
    line, lang, origin = marked_line(page, text)
    return Question(page=page, number=int(re.search(r"/q(\d+)-", page)[1]),
                    title=HEADING.search(text)[1].strip(),
                    say=" ".join(_dedent(say["body"]).split()),
                    line=line, lang=lang, origin=origin, follow_ups=follow_ups)


def question_pages(section: sections.Section) -> list[str]:
    first, last = section.questions
    found = []
    for path in section.docs.glob("q*-*.md"):
        m = re.fullmatch(r"q(\d+)-.+\.md", path.name)
        if m and first <= int(m[1]) <= last:
            found.append((int(m[1]), path.relative_to(section.root / "docs").as_posix()))
    return [page for _, page in sorted(found)]


def code(line: str, lang: str) -> str:
    """Inline code, highlighted by pymdownx.inlinehilite (`#!lang`)."""
    ticks = "`" * (max((len(t) for t in re.findall(r"`+", line)), default=0) + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{ticks}{pad}#!{lang} {line}{pad}{ticks}" if lang else f"{ticks}{pad}{line}{pad}{ticks}"


def sheet(section: sections.Section, questions: list[Question]) -> str:
    out = [
        "---", "search:", "  exclude: true", "---", "",
        f"# {section.title}: cheat sheet", "",
        "<!-- Written by tools/rehearse.py from the question pages: edit those, then run "
        "`python tools/rehearse.py`. -->", "",
        f"Every 30-second answer of {section.title} ({section.label}) on one sheet, each with "
        "the line that shows it. It prints on two A4 pages at most; to test yourself first, "
        "open the [practice mode](../practice.md).", "",
        '<div class="cheat-sheet" markdown>', "",
    ]
    for q in questions:
        out += [f"## [{q.title}]({posixpath.basename(q.page)})", "", f"> {q.say}", ""]
        if q.line:
            origin = f' <span class="cheat-origin">{q.origin}</span>' if q.origin else ""
            out += [f"{code(q.line, q.lang)}{{ .cheat-line }}{origin}", ""]
    out += ["</div>", ""]
    return "\n".join(out)


def _site_links(markdown: str, page: str) -> str:
    """Turn a page's links to other pages into links from practice/ to their built URLs."""
    def url(m: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(posixpath.dirname(page), m["target"]))
        path = target.removesuffix(".md").removesuffix("index").rstrip("/")
        return f"](../{path + '/' if path else ''}{m['anchor'] or ''})"
    return LINK.sub(url, markdown)


def _html(markdown: str, page: str, inline: bool = False) -> str:
    import markdown as md

    html = md.markdown(_site_links(markdown, page),
                       extensions=["tables", "pymdownx.superfences", "pymdownx.inlinehilite"])
    if inline:
        html = re.sub(r"^<p>(.*)</p>$", r"\1", html, flags=re.S)
    return html


def practice(all_questions: dict[sections.Section, list[Question]]) -> dict:
    return {"sections": [
        {"name": s.name, "title": s.title, "label": s.label,
         "sheet": f"../{s.name}/cheat-sheet/",
         "questions": [
             {"id": f"q{q.number}", "number": q.number, "title": q.title,
              "url": f"../{q.page.removesuffix('.md')}/",
              "say": _html(q.say, q.page, inline=True),
              "line": q.line, "lang": q.lang,
              "follow_ups": [{"title": _html(t, q.page, inline=True), "answer": _html(a, q.page)}
                             for t, a in q.follow_ups]}
             for q in qs]}
        for s, qs in all_questions.items() if qs]}


def outputs() -> dict[Path, str]:
    """Every file this tool writes, and what it must hold now."""
    found = {s: [question(p) for p in question_pages(s)] for s in sections.all_sections()}
    files = {s.docs / SHEET: sheet(s, qs) for s, qs in found.items() if qs}
    files[PRACTICE_JSON] = json.dumps(practice(found), indent=1, ensure_ascii=False) + "\n"
    return files


def stale() -> list[Path]:
    return [p for p, text in outputs().items() if not p.exists() or p.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say what is out of date")
    args = parser.parse_args(argv)
    if args.check:
        old = stale()
        for path in old:
            print(f"out of date: {path.relative_to(ROOT)} (run python tools/rehearse.py)")
        return 1 if old else 0
    for path, text in outputs().items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
