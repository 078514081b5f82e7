"""Q54: this project's own pipeline under its own checks: actionlint and zizmor on its
workflows (none found) and on a seeded bad one (found); pytest-xdist on a fixed subset; a
dependency cache keyed on the lock; and why the cheap stages go first."""

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pipeline_checks
import pytest
from pipeline_checks import Stage, actionlint, cache_key, install, run_stages, zizmor

from support.includes import write_observed
from support.paths import ROOT

pytestmark = pytest.mark.usefixtures("untraced_children")

OBSERVED: dict[str, str] = {}
ROWS = ["own", "seeded_actionlint", "seeded_zizmor", "xdist", "cache", "key", "fail_fast"]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BAD = Path(__file__).parent / "data" / "bad-workflow.yml"
# A fixed subset: three of this section's own tests, each building a wheel (a subprocess).
SUBSET = [f"tests/cicd/test_build_once.py::test_{name}" for name in (
    "the_digest_built_once_is_what_every_environment_runs",
    "a_stored_file_that_no_longer_matches_its_digest_is_refused",
    "main_builds_and_promotes")]
# Four pins of the lock, a few MB of wheels: enough for the cache to matter.
SMALL_LOCK = ["sqlalchemy", "psycopg-binary", "alembic", "fastapi"]


def record(key: str, what: str, seen: str) -> None:
    OBSERVED[key] = f"| {what} | {seen} |"
    write_observed("q54-observed.md", ROWS, OBSERVED)


def test_the_projects_own_workflows_have_no_findings():
    assert len(WORKFLOWS) >= 2
    assert actionlint(*WORKFLOWS) == []
    assert zizmor(*WORKFLOWS) == []
    record("own", f"actionlint and zizmor on `.github/workflows/` ({len(WORKFLOWS)} files)",
           "no findings")


def test_a_seeded_bad_workflow_is_caught_by_both():
    lint = actionlint(BAD)
    kinds = sorted({re.search(r"\[([a-z-]+)\]$", line)[1] for line in lint})
    assert {"expression", "job-needs"} <= set(kinds), lint
    assert any("potentially untrusted" in line for line in lint), lint
    audit = zizmor(BAD)
    idents = sorted({line.split()[0] for line in audit})
    assert {"dangerous-triggers", "template-injection", "unpinned-uses", "artipacked"} <= \
        set(idents), audit
    record("seeded_actionlint", "actionlint on the seeded workflow",
           f"{len(lint)} findings: {', '.join(kinds)}")
    record("seeded_zizmor", "zizmor on the seeded workflow",
           f"{len(audit)} findings: {', '.join(idents)}")


def pytest_run(workers: int) -> tuple[float, str]:
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                          "-n", str(workers), *SUBSET], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-2000:]
    return time.monotonic() - start, out.stdout.strip().splitlines()[-1]


@pytest.mark.slow
@pytest.mark.timeout(600)  # two whole pytest runs, on a machine the suite keeps busy
def test_xdist_on_a_fixed_subset():
    serial, serial_summary = pytest_run(0)
    parallel, parallel_summary = pytest_run(2)
    assert re.search(r"\b3 passed\b", serial_summary) and re.search(r"\b3 passed\b",
                                                                    parallel_summary)
    record("xdist", "3 of this section's tests, `-n 0` then `-n 2` (2 shared cores)",
           f"{serial:.1f} s and {parallel:.1f} s: ×{serial / parallel:.2f}")


@pytest.mark.slow
def test_a_warm_cache_installs_faster_than_a_cold_one(tmp_path):
    lock = (ROOT / "requirements.lock").read_text()
    pins = [re.search(rf"^{name}==\S+", lock, re.M)[0] for name in SMALL_LOCK]
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(pins) + "\n")
    # The best of three each: one install takes a second or less, so a busy machine's pause
    # in a single one would read as the cache's doing. The packages come from a local index
    # here, so "cold" skips the download a real runner pays: x2.3 on a quiet machine, x1.45
    # under a loaded suite run; a cache that isn't used reads x1.
    caches = [tmp_path / f"cache-{n}" for n in range(3)]
    cold = min(install(requirements, tmp_path / "venv", cache) for cache in caches)
    warm = min(install(requirements, tmp_path / "venv", caches[-1]) for _ in caches)
    assert cold / warm >= 1.2, (cold, warm)
    record("cache", f"uv installs {len(pins)} pinned packages into a fresh venv, "
           "empty cache then the same cache", f"{cold:.1f} s then {warm:.1f} s: "
           f"×{cold / warm:.1f}")


def test_the_cache_key_changes_with_the_locks_content_only(tmp_path):
    lock = tmp_path / "requirements.lock"
    shutil.copy(ROOT / "requirements.lock", lock)
    key = cache_key(lock)
    lock.touch()  # a fresh checkout: a new date, the same bytes
    assert cache_key(lock) == key == cache_key(ROOT / "requirements.lock")
    lock.write_text(lock.read_text().replace("idna==", "idna===", 1))
    assert cache_key(lock) != key
    record("key", "The cache key of the lock: copied and touched, then one pin changed",
           f"`{key}` both times, then `{cache_key(lock)}`")


def test_failing_fast_stops_at_the_cheap_stage(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")  # an unused import: a lint error
    lint = Stage("lint", [str(pipeline_checks.BIN / "ruff"), "check", str(bad)])
    tests = Stage("tests", [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                            SUBSET[1]])
    cheap_first = run_stages([lint, tests])
    costly_first = run_stages([tests, lint])
    assert [(n, c) for n, c, _ in cheap_first] == [("lint", 1), ("tests", None)]
    assert [(n, c) for n, c, _ in costly_first] == [("tests", 0), ("lint", 1)]
    red_cheap = sum(s for _, _, s in cheap_first)
    red_costly = sum(s for _, _, s in costly_first)
    assert red_costly > red_cheap
    make = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60).stdout
    assert make.index("ruff check") < make.index("pytest")  # the project's own order
    record("fail_fast", "A lint error, lint stage first vs. the test stage first",
           f"red after {red_cheap:.2f} s (tests never ran) vs. {red_costly:.2f} s")


def test_main_reports_findings_and_exits_1(capsys):
    assert pipeline_checks.main([str(BAD)]) == 1
    assert pipeline_checks.main([str(w) for w in WORKFLOWS]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{len(WORKFLOWS)} workflows: no findings"


def test_a_linter_that_cannot_run_is_an_error_not_a_clean_result(tmp_path):
    with pytest.raises(RuntimeError, match="no such file"):
        actionlint(tmp_path / "missing.yml")
