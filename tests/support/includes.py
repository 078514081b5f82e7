"""Figures a page quotes, written by the test that observed them.

A page never types a plan, a count or a timing: it includes a fragment of docs/_includes/
that a test writes from what it saw on this run.
"""

from pathlib import Path

INCLUDES = Path(__file__).resolve().parents[2] / "docs" / "_includes"


def write_include(name: str, text: str) -> Path:
    """Write docs/_includes/<name> (only when it changed, so an unchanged run leaves git clean)."""
    path = INCLUDES / name
    text = text.rstrip("\n") + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return path
