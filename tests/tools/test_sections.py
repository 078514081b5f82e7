"""tools/sections.py: the one description of the sections, and what it guards."""

import subprocess
import sys
from pathlib import Path

import sections

from support.paths import ROOT


def test_every_section_has_its_three_folders_and_its_extra():
    described = sections.all_sections()
    assert [s.name for s in described][:2] == ["celery", "databases"]
    for section in described:
        for folder in (section.docs, section.examples, section.tests):
            assert folder.is_dir(), f"section {section.name}: {folder} is missing"
        # Its extra may be empty (examples that need only the standard library): its install
        # line then says there is nothing to install.
        assert section.install_include.is_file(), f"{section.name}: no install line"
        assert (section.docs / "index.md").is_file(), f"{section.name}: no index page"


def test_question_numbers_follow_each_other_across_sections():
    numbers = [s.questions for s in sections.all_sections()]
    for (_, last), (first, _) in zip(numbers, numbers[1:], strict=False):
        assert first == last + 1, numbers
    assert all(first <= last for first, last in numbers)


def test_no_folder_of_docs_examples_or_tests_is_a_section_nobody_described():
    described = {s.name for s in sections.all_sections()}
    not_sections = {"_includes", "assets", "hooks", "overrides", "source",  # docs/
                    "site", "sandbox", "tools", "support"}  # tests/
    for top in ("docs", "examples", "tests"):
        folders = {p.name for p in (ROOT / top).iterdir()
                   if p.is_dir() and not p.name.startswith((".", "__"))}
        assert folders - not_sections <= described, (top, folders - not_sections - described)


def test_a_path_knows_its_section():
    assert sections.of_path("examples/databases/isolation.py").name == "databases"
    assert sections.of_path(ROOT / "docs" / "celery" / "q26-what-is-celery.md").name == "celery"
    assert sections.of_path("tests/site/test_docs_build.py") is None


def test_the_example_modules_of_all_sections_shadow_nothing():
    assert sections.clashes() == []


def test_a_module_two_sections_share_is_a_clash(tmp_path):
    """What would stop the run in tests/conftest.py: two `api.py`, or a `queue.py` (the
    standard library's), or a `sqlalchemy.py`, each put on sys.path beside the others."""
    def section(name, *modules):
        (tmp_path / "examples" / name).mkdir(parents=True)
        for module in modules:
            (tmp_path / "examples" / name / f"{module}.py").write_text("")
        return sections.Section(name, name.title(), (1, 1), (), ".", ("x",), tmp_path)

    found = sections.clashes((section("one", "api", "queue"), section("two", "api", "sqlalchemy")))
    assert found == ["queue: examples/one/ shadows the standard library",
                     "api: examples/one/ and examples/two/",
                     "sqlalchemy: examples/two/ shadows an installed package"]


def test_make_quick_takes_one_section_by_its_name_in_the_description():
    """`make quick SECTION=<name>` runs tests/<name>/ and the site's checks, and a name the
    description lacks stops it before pytest starts."""
    tools = Path(sections.__file__).parent
    for section in sections.all_sections():
        out = subprocess.run([sys.executable, str(tools / "sections.py"), "--tests",
                              section.name], capture_output=True, text=True, timeout=30)
        assert out.stdout.strip() == f"tests/{section.name}"
    out = subprocess.run([sys.executable, str(tools / "sections.py"), "--tests", "nosuch"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "no section 'nosuch'" in out.stderr
    dry = subprocess.run(["make", "-n", "quick", "SECTION=databases", "-o", "system-deps",
                          "-o", "lint"], cwd=sections.ROOT, capture_output=True, text=True,
                         timeout=30)
    assert "tools/sections.py --tests databases) tests/site\"" in dry.stdout, dry.stdout
