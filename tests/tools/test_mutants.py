"""tools/mutants.py and tests/mutants.toml: the claims-mutation check.

The table is checked on every run (each change applies to exactly one place, each proof
exists, every question page has a claim in it); `make mutants` runs the mutations themselves.
Here the runner is shown telling a killed mutant from a survivor on a project of two files.
"""

import sys
from pathlib import Path

import mutants
import pytest
import sections

TABLE = mutants.load()


def test_every_entry_changes_exactly_one_place_and_names_a_proof_that_exists():
    assert TABLE
    assert mutants.problems(TABLE) == []


def test_every_question_page_has_a_claim_in_the_table():
    claimed = {m.page for m in TABLE}
    pages = [f"{s.name}/{page.name}" for s in sections.all_sections()
             for page in sorted(s.docs.glob("q[0-9]*.md"))]
    assert pages
    assert [page for page in pages if page not in claimed] == []


def test_entries_are_grouped_by_page():
    """Each page's entries sit together, so that a new one goes at the end of its group."""
    order = [m.page for m in TABLE]
    groups = [page for n, page in enumerate(order) if n == 0 or order[n - 1] != page]
    assert len(groups) == len(set(groups)), groups


def test_an_unusable_entry_is_reported():
    entry = TABLE[0]
    twice = mutants.Mutant(entry.claim, entry.page, entry.file, "", "x", entry.test)
    gone = mutants.Mutant(entry.claim, "nowhere.md", entry.file, entry.find, entry.replace,
                          entry.test.replace("::test_", "::no_such_"))
    found = mutants.problems([twice, gone])
    assert len(found) == 3
    assert "not once" in found[0] and "no page" in found[1] and "no function" in found[2]


@pytest.fixture
def tiny(tmp_path):
    """A project of one example and its test, on the shared .venv."""
    root = tmp_path / "project"
    (root / "examples").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "docs").mkdir()
    (root / "docs" / "page.md").write_text("double(2) is 4\n")
    (root / "examples" / "arith.py").write_text(
        "def double(n):\n    # twice n\n    return n * 2\n")
    (root / "tests" / "conftest.py").write_text(
        "import sys\nfrom pathlib import Path\n\n"
        "sys.path.insert(0, str(Path(__file__).parents[1] / 'examples'))\n")
    (root / "tests" / "test_arith.py").write_text(
        "import arith\n\n\ndef test_double():\n    assert arith.double(2) == 4\n")
    (root / ".venv").symlink_to(Path(sys.executable).parents[1], target_is_directory=True)
    return root


def mutant(find: str, replace: str) -> mutants.Mutant:
    return mutants.Mutant("double(2) is 4", "page.md", "examples/arith.py", find, replace,
                          "tests/test_arith.py::test_double")


@pytest.mark.slow
def test_a_broken_claim_is_killed_and_a_harmless_change_survives(tiny):
    files = mutants.project_files(tiny)
    killed = mutants.run_one(mutant("n * 2", "n + 2 + n"), tiny, files, sys.executable)
    survived = mutants.run_one(mutant("# twice n", "# n, twice"), tiny, files, sys.executable)
    assert (killed.killed, killed.how) == (True, "failed")
    assert (survived.killed, survived.how) == (False, "passed: the mutant survived")
    missing = mutants.run_one(mutants.Mutant("x", "page.md", "examples/arith.py", "n * 2",
                                             "n * 3", "tests/test_arith.py::test_gone"),
                              tiny, files, sys.executable)
    assert not missing.killed and missing.how.startswith("pytest exited 4")
    assert (tiny / "examples" / "arith.py").read_text().count("n * 2") == 1  # the copy changed


def test_the_include_reports_claims_kills_and_time():
    first, second = (mutants.Mutant(f"claim {n}", "p.md", "examples/m.py", "a", "b",
                                    f"tests/t/test_m.py::test_{n}[x]") for n in (1, 2))
    text = mutants.markdown([mutants.Outcome(first, True, 12.5, "failed"),
                             mutants.Outcome(second, False, 3.0, "passed: the mutant survived")],
                            95.2, 2)
    assert text.startswith("**2 claims, 2 mutations: 1 of 2 killed.** The whole check took 95 s")
    assert "[`test_1`](source/tests/t/test_m.md#test_1) | killed (12.5 s) |" in text
    assert "| **survived** (passed: the mutant survived) |" in text
    assert mutants.masked(text) == mutants.masked(text.replace("95 s", "311 s"))
    assert mutants.masked(text) != mutants.masked(text.replace("1 of 2", "2 of 2"))


def test_ci_runs_the_check_after_the_suite():
    ci = (mutants.ROOT / ".ci" / "run").read_text().splitlines()
    assert ci.index("time make mutants") > ci.index("time make test")
