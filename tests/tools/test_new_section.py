"""tools/new_section.py (`make section`): a new section is one command, and what it writes
builds strictly and passes its own tests and the page checks, in a copy of the project."""

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import new_section
import pytest
import sections

from support.paths import ROOT
from support.untraced import untraced

pytestmark = pytest.mark.usefixtures("untraced_module")  # the copy's tests are subprocesses
BIN = Path(sys.executable).parent
NAME, TITLE = "sample", "Sample"


def tracked_copy(dest: Path) -> Path:
    """The project's files as they are in the work tree (what git tracks or would), in a
    new folder."""
    listed = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    files = subprocess.run(listed, cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def run(argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
    # mkdocs.yml names the diagrams' fence format by module: the copy's own, not the one the
    # venv's editable install points at.
    env = untraced({**untraced(), "NO_MKDOCS_2_WARNING": "1",
                    "PATH": f"{BIN}:{untraced()['PATH']}",
                    "PYTHONPATH": str(cwd / "docs" / "hooks")})
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.mark.slow
def test_make_section_writes_a_section_that_builds_and_passes_its_tests(tmp_path):
    copy = tracked_copy(tmp_path / "project")
    before = sections.load(copy / "pyproject.toml")
    made = run(["make", "section", f"NAME={NAME}", f"TITLE={TITLE}", f"VENV={BIN.parent}"],
               copy, 120)
    assert made.returncode == 0, made.stdout + made.stderr
    number = before[-1].questions[1] + 1
    written = sorted(line.removeprefix("wrote ") for line in made.stderr.splitlines()
                     if line.startswith("wrote "))
    print("\n`make section` wrote:\n  " + "\n  ".join(written))
    mutants = ["tests/mutants.toml"] if (ROOT / "tests" / "mutants.toml").is_file() else []
    assert written == sorted([
        f"docs/{NAME}/index.md", f"docs/{NAME}/q{number}-first-question.md",
        f"examples/{NAME}/{NAME}_basics.py", f"tests/{NAME}/test_{NAME}_basics.py",
        f"docs/_includes/{NAME}-install.md", "pyproject.toml", "mkdocs.yml", "README.md",
        f"docs/{NAME}/cheat-sheet.md", "docs/assets/practice.json", "docs/index.md", *mutants])
    after = sections.load(copy / "pyproject.toml")
    assert [s.name for s in after] == [*(s.name for s in before), NAME]
    assert after[-1].questions == (number, number + 5) and after[-1].extra == ()

    # The site, strictly (a broken link, a missing snippet or nav entry fails it).
    pages = run([str(BIN / "python"), "tools/source_pages.py"], copy, 120)
    assert pages.returncode == 0, pages.stderr
    build = run([str(BIN / "mkdocs"), "build", "--strict", "--quiet"], copy, 300)
    assert build.returncode == 0, build.stderr[-3000:]
    assert (copy / "site" / NAME / f"q{number}-first-question" / "index.html").is_file()
    print(f"mkdocs build --strict: exit 0, site/{NAME}/q{number}-first-question/ built")

    # The new section's first test passes, and its pages pass the checks every page meets:
    # its shell blocks run as written, its sentences are shown, its sheet is its pages'.
    tests = run([str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:randomly",
                 f"tests/{NAME}", "tests/site/test_answer_pages.py",
                 "tests/site/test_shown_by.py", "tests/tools/test_rehearse.py",
                 "tests/tools/test_home_page.py", "tests/tools/test_sections.py",
                 "tests/tools/test_install_line.py", "tests/site/test_page_commands.py",
                 "-k", f"not test_page_commands or {NAME}/"], copy, 300)
    summary = tests.stdout.strip().splitlines()[-1]
    print(f"pytest tests/{NAME} and the page checks, in the copy: {summary}")
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "failed" not in summary and "error" not in summary, summary

    # The first test can fail: the page's claim made false in the example, it does.
    mutant = tomllib.loads(new_section.mutant_entry(after[-1], f"q{number}-first-question.md",
                                                    number))["mutant"][0]
    example = copy / mutant["file"]
    assert example.read_text().count(mutant["find"]) == 1
    example.write_text(example.read_text().replace(mutant["find"], mutant["replace"]))
    broken = run([str(BIN / "python"), "-m", "pytest", "-q", "-p", "no:randomly",
                  mutant["test"]], copy, 120)
    assert broken.returncode == 1 and "1 failed" in broken.stdout, broken.stdout[-2000:]


def test_a_name_already_described_is_refused(tmp_path):
    copy = tmp_path / "project"
    copy.mkdir()
    shutil.copy(ROOT / "pyproject.toml", copy)
    with pytest.raises(SystemExit, match="already in pyproject.toml"):
        new_section.create(copy, sections.all_sections()[0].name, "Again")
    with pytest.raises(SystemExit, match="lowercase letters and digits"):
        new_section.create(copy, "Bad-Name", "Bad")


def test_a_refused_name_leaves_the_project_as_it_was(tmp_path):
    """A module that would shadow another section's, or a folder already there: refused
    before a file is written."""
    copy = tmp_path / "project"
    (copy / "examples" / "celery").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", copy)
    (copy / "examples" / "celery" / f"{NAME}_basics.py").write_text("")
    with pytest.raises(SystemExit, match=f"{NAME}_basics: examples/celery/ and examples/{NAME}/"):
        new_section.create(copy, NAME, TITLE)
    (copy / "examples" / "celery" / f"{NAME}_basics.py").unlink()
    (copy / "docs" / NAME).mkdir(parents=True)
    with pytest.raises(SystemExit, match=f"docs/{NAME}/ exists already"):
        new_section.create(copy, NAME, TITLE)
    assert (copy / "pyproject.toml").read_text() == (ROOT / "pyproject.toml").read_text()
    assert sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*")) == [
        "docs", f"docs/{NAME}", "examples", "examples/celery", "pyproject.toml"]


def test_the_entry_and_the_extra_land_where_the_description_reads_them(tmp_path):
    text = new_section.add_to_pyproject((ROOT / "pyproject.toml").read_text(), NAME, TITLE,
                                        (90, 95))
    (tmp_path / "pyproject.toml").write_text(text)
    described = sections.load(tmp_path / "pyproject.toml")
    assert [s.name for s in described][-1] == NAME
    assert described[-1].extra == () and described[-1].questions == (90, 95)
    # The project's own extras keep their comments right above them.
    assert "\n# The Sample section's requirements: what its Try it installs.\nsample = []\n" in text
