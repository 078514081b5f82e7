"""Q46: 100% line coverage from tests that check almost nothing; branch coverage shows a
branch they never take; mutmut counts the mutants they let live; exact assertions and a
Hypothesis property kill them all."""

import json
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from shipping_fee import FREE_FROM_CENTS, shipping_fee

from support.includes import write_include
from support.paths import ROOT
from support.planted import plant
from support.untraced import untraced

EXAMPLES = ROOT / "examples" / "testing"
BIN = Path(sys.executable).parent


def test_the_rule_at_its_boundaries():
    assert [shipping_fee(t) for t in (0, FREE_FROM_CENTS - 1, FREE_FROM_CENTS)] == [499, 499, 0]
    assert shipping_fee(FREE_FROM_CENTS, express=True) == 1000
    with pytest.raises(ValueError, match="cannot be negative"):
        shipping_fee(-1)


def reader_folder(folder: Path, tests: str) -> Path:
    """The files Q46's Try it takes, with setup.cfg naming `tests` as the judges."""
    folder.mkdir()
    shutil.copy(EXAMPLES / "shipping_fee.py", folder)
    shutil.copytree(EXAMPLES / "shipping_tests", folder / "shipping_tests")
    (folder / "setup.cfg").write_text(
        plant(EXAMPLES / "setup.cfg", "shipping_tests/test_weak.py", f"shipping_tests/{tests}"))
    return folder


def run(folder: Path, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """A command in the reader's folder, with none of the suite's own coverage settings (under
    `make test` this process is measured, and its COVERAGE_* would steer the reader's run)."""
    env = {k: v for k, v in untraced().items() if not k.startswith("COVERAGE_")}
    return subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=timeout)


def coverage_of(folder: Path, tests: str) -> dict:
    """coverage.py's JSON report of shipping_fee.py under `tests`, with branches measured."""
    ran = run(folder, str(BIN / "python"), "-m", "coverage", "run", "--branch", "-m", "pytest",
              "-q", "-p", "no:randomly", "-p", "no:cacheprovider", f"shipping_tests/{tests}")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    run(folder, str(BIN / "python"), "-m", "coverage", "json", "-o", "coverage.json")
    return json.loads((folder / "coverage.json").read_text())["files"]["shipping_fee.py"]


@pytest.mark.slow
@pytest.mark.parametrize("tests", ["test_weak.py", "test_strong.py"])
def test_every_line_runs_but_the_weak_tests_miss_a_branch(tmp_path, tests):
    report = coverage_of(reader_folder(tmp_path / "reader", tests), tests)
    assert report["missing_lines"] == []  # 100% line coverage, either way
    if tests == "test_weak.py":  # `if express:` is never false: its jump to `return` is missing
        lines = (EXAMPLES / "shipping_fee.py").read_text().split("\n")
        branch, target = (lines.index(text) + 1 for text in ("    if express:", "    return fee"))
        assert report["missing_branches"] == [[branch, target]]
    else:
        assert report["missing_branches"] == []
    OBSERVED[tests] = report["summary"]


OBSERVED: dict[str, dict] = {}


def mutation_test(folder: Path) -> dict:
    """`mutmut run` in the reader's folder, then its counts (`mutmut export-cicd-stats`)."""
    ran = run(folder, str(BIN / "mutmut"), "run", timeout=400)
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    run(folder, str(BIN / "mutmut"), "export-cicd-stats")
    return json.loads((folder / "mutants" / "mutmut-cicd-stats.json").read_text())


@pytest.mark.slow
def test_mutants_survive_the_weak_tests_and_die_under_the_strong_ones(tmp_path):
    with ThreadPoolExecutor(2) as pool:  # two runs side by side: each mostly waits
        weak, strong = pool.map(
            lambda tests: mutation_test(reader_folder(tmp_path / tests, tests)),
            ["test_weak.py", "test_strong.py"])
    assert weak["total"] == strong["total"] > 10
    assert weak["survived"] > weak["total"] // 2
    assert strong["survived"] == 0 and strong["killed"] == strong["total"]
    rows = [("weak: two tests, no exact value", "test_weak.py", weak),
            ("strong: exact fees at each boundary, and a property", "test_strong.py", strong)]
    if len(OBSERVED) < 2:  # run alone (-k): no coverage figures to put beside the counts
        return
    write_include("q46-mutants.md", "\n".join(
        ["| Tests | Line coverage | Branches taken | Mutants | Killed | Survived |",
         "|---|---|---|---|---|---|"]
        + [f"| {what} | {OBSERVED[tests]['percent_statements_covered']:.0f}% | "
           f"{OBSERVED[tests]['covered_branches']}/{OBSERVED[tests]['num_branches']} | "
           f"{stats['total']} | {stats['killed']} | {stats['survived']} |"
           for what, tests, stats in rows]))
