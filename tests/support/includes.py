"""Figures a page quotes, written by the test that observed them.

A page never types a plan, a count or a timing: it includes a fragment of docs/_includes/
that a test writes from what it saw. One switch, UPDATE_INCLUDES (`make includes`), and two
separate steps:
- with it set, a test writes the fragment from this run and still asserts what it observed;
- without it, nothing is written, and a fragment whose shape is stable (`same=`) is compared
  with the committed one, so a page can't drift from what the tests see.
A test run therefore leaves the work tree as it found it, and regenerating can't turn a
comparison into one that passes by construction (it never compares a file with itself).
"""

import os
from collections.abc import Callable
from pathlib import Path

INCLUDES = Path(__file__).resolve().parents[2] / "docs" / "_includes"


def updating() -> bool:
    """True in the regeneration step (`make includes`)."""
    return bool(os.environ.get("UPDATE_INCLUDES"))


def write_include(name: str, text: str, same: Callable[[str], object] | None = None) -> Path:
    """docs/_includes/<name>: rewritten under UPDATE_INCLUDES (only if it changed); otherwise,
    with `same` given, the committed file must agree with `text` once both go through `same`
    (for instance with the timings masked)."""
    path = INCLUDES / name
    text = text.rstrip("\n") + "\n"
    if updating():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    elif same is not None:
        assert path.exists(), f"{name} is missing: `make includes` writes it"
        assert same(path.read_text()) == same(text), (
            f"{name} no longer says what this run saw: `make includes` rewrites it")
    return path


def write_observed(name: str, keys: list[str], observed: dict[str, str]) -> None:
    """The table a module's tests filled row by row (`observed[key]` is a Markdown row),
    written once every row is there: a partial run (`-k`) never writes half a table."""
    if all(key in observed for key in keys):
        write_include(name, "\n".join(["| What the test did | What it observed |", "|---|---|"]
                                       + [observed[key] for key in keys]))
