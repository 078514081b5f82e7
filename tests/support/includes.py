"""Figures a page quotes, written by the test that observed them.

A page never types a plan, a count or a timing: it includes a fragment of docs/_includes/
that a test writes from what it saw. The tests assert their outcomes on every run; they
rewrite the fragments only when UPDATE_INCLUDES is set (`make includes`), so a page quotes
one whole run, and a test run leaves the work tree as it found it.
"""

import os
from pathlib import Path

INCLUDES = Path(__file__).resolve().parents[2] / "docs" / "_includes"


def write_include(name: str, text: str) -> Path:
    """docs/_includes/<name>, rewritten under UPDATE_INCLUDES (and only if it changed)."""
    path = INCLUDES / name
    text = text.rstrip("\n") + "\n"
    if os.environ.get("UPDATE_INCLUDES") and (not path.exists() or path.read_text() != text):
        path.write_text(text)
    return path


def write_observed(name: str, keys: list[str], observed: dict[str, str]) -> None:
    """The table a module's tests filled row by row (`observed[key]` is a Markdown row),
    written once every row is there: a partial run (`-k`) never writes half a table."""
    if all(key in observed for key in keys):
        write_include(name, "\n".join(["| What the test did | What it observed |", "|---|---|"]
                                       + [observed[key] for key in keys]))
