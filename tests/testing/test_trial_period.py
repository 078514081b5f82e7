"""Q44: a clock boundary. The test that compares with today's local date fails in the evening
hours of New York (where the UTC date has already moved on); the same test on a clock frozen
by time-machine passes at every hour."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from trial_period import start_trial

from support.includes import write_include
from support.paths import ROOT

pytest_plugins = ["pytester"]
DAY = datetime(2026, 3, 10)  # a Tuesday, New York on daylight saving time (UTC-4)
NEW_YORK = ZoneInfo("America/New_York")

# Each test of the suite runs once at each hour of DAY in New York, on a stopped clock.
EVERY_HOUR = f"""
import pytest
import time_machine
from datetime import datetime
from zoneinfo import ZoneInfo


@pytest.fixture(autouse=True, params=range(24), ids=lambda h: f"{{h:02}}h")
def hour_in_new_york(request):
    when = datetime({DAY.year}, {DAY.month}, {DAY.day}, request.param, 30,
                    tzinfo=ZoneInfo("America/New_York"))
    with time_machine.travel(when, tick=False):
        yield
"""


def test_a_trial_ends_fourteen_days_after_it_starts(time_machine):
    time_machine.move_to(datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), tick=False)
    trial = start_trial()
    assert trial.started == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert trial.ends_on == date(2027, 1, 14)


def test_the_local_date_fails_in_the_evening_and_the_frozen_clock_never(pytester):
    pytester.makeconftest(EVERY_HOUR)
    pytester.makepyfile(test_trial_clock=(
        ROOT / "examples/testing/flaky_suite/test_trial_clock.py").read_text())
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-q")
    failures = [r.nodeid.split("::")[-1] for r in
                result.reprec.getreports("pytest_runtest_logreport")
                if r.failed and r.when == "call"]
    assert {f.split("[")[0] for f in failures} == {"test_trial_ends_in_fourteen_days_from_today"}
    failed = sorted(f.split("[")[1][:-1] for f in failures)
    # The hours when New York's date differs from UTC's, computed on their own.
    expected = [f"{h:02}h" for h in range(24)
                if (DAY + timedelta(hours=h, minutes=30)).replace(tzinfo=NEW_YORK)
                .astimezone(UTC).date() != DAY.date()]
    assert failed == expected == ["20h", "21h", "22h", "23h"]
    result.assert_outcomes(passed=48 - len(failed), failed=len(failed))
    write_include("q44-clock.md", "\n".join([
        "| Test, run at each hour of one day in New York | Failed | Hours |", "|---|---|---|",
        f"| compares with `date.today()` | {len(failed)}/24 | {', '.join(failed)} |",
        "| on a clock frozen by time-machine | 0/24 | |"]))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
def test_the_suite_passes_where_the_date_agrees(pytester, zone):
    """At noon the two dates agree in both zones: the flake hides on a developer's machine."""
    pytester.makepyfile(test_trial_clock=(
        ROOT / "examples/testing/flaky_suite/test_trial_clock.py").read_text())
    pytester.makeconftest(f"""
import pytest, time_machine
from datetime import datetime
from zoneinfo import ZoneInfo

@pytest.fixture(autouse=True)
def noon():
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=ZoneInfo("{zone}")), tick=False):
        yield
""")
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=2)
