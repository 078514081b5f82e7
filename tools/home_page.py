"""The home page's list of what the guide covers, from the description of the sections and
their pages.

    python tools/home_page.py

rewrites the part of docs/index.md between its two `home:` markers: what the guide covers
now, every section (title, questions, what it is about), every question page with a link to
its 30-second answer, the section's other pages, and a line to rehearse with wherever the
practice mode and the cheat sheets exist. The rest of the page is written by hand.
tests/tools/test_home_page.py fails when the list is stale, so a new page or section can't
be missing from it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import sections

START = "<!-- home:start (written by tools/home_page.py from pyproject.toml and the pages) -->"
END = "<!-- home:end -->"
QUESTION_FILE = re.compile(r"^q(\d+)-[a-z0-9-]+\.md$")
CHEAT_SHEET = "cheat-sheet.md"
PRACTICE = "practice.md"
NUMBERS = dict(enumerate(["no", "one", "two", "three", "four", "five", "six", "seven",
                          "eight", "nine", "ten"]))


def title(page: Path) -> str:
    """A page's own heading: its first `# ` line."""
    for line in page.read_text().splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    raise ValueError(f"{page}: no `# ` heading")


def question_pages(section: sections.Section) -> list[Path]:
    first, last = section.questions
    found = [p for p in section.docs.glob("q*.md")
             if (m := QUESTION_FILE.match(p.name)) and first <= int(m[1]) <= last]
    return sorted(found, key=lambda p: int(QUESTION_FILE.match(p.name)[1]))


def other_pages(section: sections.Section) -> list[Path]:
    """The section's pages that are neither its index, a question nor its cheat sheet."""
    questions = set(question_pages(section))
    return sorted(p for p in section.docs.glob("*.md")
                  if p not in questions and p.name not in ("index.md", CHEAT_SHEET))


def link(page: Path, docs: Path, anchor: str = "") -> str:
    return page.relative_to(docs).as_posix() + (f"#{anchor}" if anchor else "")


def names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def render(all_sections: tuple[sections.Section, ...], docs: Path) -> str:
    count = len(all_sections)
    first = all_sections[0].questions[0]
    last = all_sections[-1].questions[1]
    out = [
        START,
        "",
        f"This part of the guide covers {NUMBERS.get(count, count)} "
        f"section{'s' * (count != 1)}, questions "
        f"Q{first} to Q{last}: {names([f'**{s.title}**' for s in all_sections])}. Each "
        "question is answered the way you would answer it in an interview, in at most 80 "
        "words, and then in depth, with code you can run and a test behind every claim.",
        "",
    ]
    sheets = [s for s in all_sections if (s.docs / CHEAT_SHEET).is_file()]
    if (docs / PRACTICE).is_file() or sheets:
        parts = []
        if (docs / PRACTICE).is_file():
            parts.append(f"[practice mode]({PRACTICE})")
        if sheets:
            parts.append("cheat sheets: " + ", ".join(
                f"[{s.title}]({link(s.docs / CHEAT_SHEET, docs)})" for s in sheets))
        out += ["Rehearse: " + " · ".join(parts), ""]
    for section in all_sections:
        overview = link(section.docs / "index.md", docs)
        out += [f"## {section.title} ({section.label})", "",
                f"{section.about} [The section's overview]({overview}).", ""]
        questions = question_pages(section)
        for page in questions:
            out.append(f"- [{title(page)}]({link(page, docs)}) · "
                       f"[the answer in 30 seconds]({link(page, docs, 'in-30-seconds')})")
        if not questions:
            out.append("- No question page yet.")
        others = other_pages(section)
        if others:
            out += ["", "Also in this section: " + " · ".join(
                f"[{title(p)}]({link(p, docs)})" for p in others) + "."]
        out.append("")
    out.append(END)
    return "\n".join(out)


def update(text: str, all_sections: tuple[sections.Section, ...], docs: Path) -> str:
    """`text` (docs/index.md) with the part between the markers written afresh."""
    if START not in text or END not in text:
        raise ValueError(f"docs/index.md has no {START!r} … {END!r} part")
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    return before + render(all_sections, docs) + after


def write(root: Path = sections.ROOT) -> Path:
    page = root / "docs" / "index.md"
    described = sections.load(root / "pyproject.toml")
    page.write_text(update(page.read_text(), described, root / "docs"))
    return page


if __name__ == "__main__":
    print(f"wrote {write().relative_to(sections.ROOT)}", file=sys.stderr)
