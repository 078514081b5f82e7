"""Q44: a sleep-then-check against a real Celery worker fails whenever the task takes longer
than the sleep; a bounded wait on the result passes every time and still has a deadline."""

import statistics
import time

import pytest
from bounded_wait import wait_for

from support.includes import write_include

RUNS = 20


def test_wait_for_returns_the_first_truthy_value():
    answers = iter([None, 0, "ready"])
    assert wait_for(lambda: next(answers), timeout=5, interval=0) == "ready"


def test_wait_for_gives_up_at_its_deadline():
    start = time.monotonic()
    with pytest.raises(TimeoutError, match="still false after 0.2 s"):
        wait_for(lambda: False, timeout=0.2)
    assert time.monotonic() - start < 5


@pytest.mark.slow
def test_a_sleep_fails_some_runs_and_a_bounded_wait_none(worker):
    from celery_app import cleanup_old_files

    cleanup_old_files.delay(30).get(timeout=30)  # warm: connections open, worker busy-free
    round_trips = []
    for _ in range(RUNS):
        start = time.perf_counter()
        cleanup_old_files.delay(30).get(timeout=30)
        round_trips.append(time.perf_counter() - start)
    # The sleep a test author picks after a few runs on their machine: a typical round trip.
    sleep = statistics.quantiles(round_trips, n=4)[0]  # the fastest quarter's bound

    def sleep_then_check() -> bool:
        result = cleanup_old_files.delay(30)
        time.sleep(sleep)
        ok = result.ready()
        result.get(timeout=30)  # let it finish before the next run
        return ok

    def bounded_wait() -> bool:
        result = cleanup_old_files.delay(30)
        return wait_for(result.ready, timeout=30)

    slept = [sleep_then_check() for _ in range(RUNS)]
    waited = [bounded_wait() for _ in range(RUNS)]
    assert slept.count(False) >= 1 and waited.count(False) == 0
    write_include("q44-sleep.md", "\n".join([
        f"| Test, run {RUNS} times against a real worker | Failed |", "|---|---|",
        f"| `time.sleep({sleep * 1000:.1f} ms)` then check (a fast round trip) | "
        f"{slept.count(False)}/{RUNS} |",
        f"| `wait_for(result.ready, timeout=30)` | 0/{RUNS} |"]))
