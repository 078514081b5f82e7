"""support/includes.py: one switch for the figures pages quote, and two separate steps.

Writing (UPDATE_INCLUDES set) never compares; comparing (unset) never writes. So a test run
leaves the work tree as it was, and a regeneration run can't pass a comparison by reading
back what it has just written.
"""

import pytest

from support import includes


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setattr(includes, "INCLUDES", tmp_path)
    monkeypatch.delenv("UPDATE_INCLUDES", raising=False)
    return tmp_path


def masked(text: str) -> str:
    return "".join("N" if c.isdigit() else c for c in text)


def test_without_the_switch_nothing_is_written(folder):
    includes.write_include("new.md", "took 1.5 s")
    (folder / "old.md").write_text("took 1.5 s\n")
    includes.write_include("old.md", "took 2.5 s")
    assert sorted(p.name for p in folder.iterdir()) == ["old.md"]
    assert (folder / "old.md").read_text() == "took 1.5 s\n"


def test_without_the_switch_a_stable_shape_is_compared(folder):
    (folder / "q.md").write_text("took 1.5 s\n")
    includes.write_include("q.md", "took 2.5 s", same=masked)  # only a timing differs
    with pytest.raises(AssertionError, match="make includes"):
        includes.write_include("q.md", "took 2.5 min", same=masked)
    with pytest.raises(AssertionError, match="missing"):
        includes.write_include("absent.md", "took 2.5 s", same=masked)


def test_with_the_switch_the_run_is_written_and_not_compared(folder, monkeypatch):
    monkeypatch.setenv("UPDATE_INCLUDES", "1")
    (folder / "q.md").write_text("took 1.5 s\n")
    includes.write_include("q.md", "took 2.5 min", same=masked)  # no comparison here
    includes.write_include("new.md", "3 rows\n\n")
    assert (folder / "q.md").read_text() == "took 2.5 min\n"
    assert (folder / "new.md").read_text() == "3 rows\n"
