"""Q44: a sleep-then-check against a real Celery worker fails whenever the task takes longer
than the sleep; a bounded wait on the result passes every time and still has a deadline."""

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

    def round_trip(result, sent: float) -> float:
        """Seconds from sending the task to the worker storing its result (the backend's
        date_done), read after the fact so that measuring adds no load while it runs."""
        result.get(timeout=30)
        return result.date_done.timestamp() - sent

    # The sleep a test author picks on a machine twice as fast as this one, where it passes:
    # half the fastest round trip seen here so far. Every round trip measured below joins the
    # calibration, so the sleep follows this machine's speed as its load changes (a sleep
    # calibrated once, under load, can win every later run once the load drops).
    round_trips = []
    for _ in range(RUNS):
        sent = time.time()
        round_trips.append(round_trip(cleanup_old_files.delay(30), sent))

    def sleep_then_check() -> bool:
        sent = time.time()
        result = cleanup_old_files.delay(30)
        time.sleep(min(round_trips) / 2)
        ok = result.ready()
        round_trips.append(round_trip(result, sent))  # and it finishes before the next run
        return ok

    def bounded_wait() -> bool:
        result = cleanup_old_files.delay(30)
        return wait_for(result.ready, timeout=30)

    slept = [sleep_then_check() for _ in range(RUNS)]
    waited = [bounded_wait() for _ in range(RUNS)]
    assert slept.count(False) >= 1 and waited.count(False) == 0
    write_include("q44-sleep.md", "\n".join([
        f"| Test, run {RUNS} times against a real worker | Failed |", "|---|---|",
        f"| `time.sleep(half the fastest round trip so far)` then check "
        f"({min(round_trips) * 500:.1f} ms at the end) | {slept.count(False)}/{RUNS} |",
        f"| `wait_for(result.ready, timeout=30)` | 0/{RUNS} |"]))
