"""examples/celery/limits.py: time limits, rate limits and expiry, on real workers.

The module has its own Redis (`own_stack`) and a prefork worker with one child,
`celery -A limits worker --concurrency=1`; the rate-limit test adds a second worker.
"""

from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TaskRevokedError, TimeLimitExceeded

from support.paths import DOCS
from support.waiting import wait_until

pytestmark = pytest.mark.slow
INCLUDE = DOCS / "_includes" / "q31-rate-limit.md"


def start(stack, name):
    """`celery -A limits worker -n <name>@%h --concurrency=1` (prefork), ready."""
    return stack.worker("limits", "--concurrency=1", name=name)


@pytest.fixture(scope="module")
def limits(own_stack):
    """The example module, its app (the client side) bound to this module's Redis."""
    import limits

    own_stack.bind(limits.app)
    return limits


@pytest.fixture(scope="module")
def first(limits, own_stack):
    proc = start(own_stack, "first")
    yield proc
    own_stack.stop(proc)


# First: the child it kills ran nothing else (a SIGKILLed child keeps no coverage data).
def test_the_hard_limit_kills_the_child_process(limits, first, own_stack):
    before = first.children()
    result = limits.stuck.delay(5)
    with pytest.raises(TimeLimitExceeded):
        result.get(timeout=15)
    assert result.state == "FAILURE"
    first.wait_for_log(rf"Hard time limit \(1s?\) exceeded for limits\.stuck\[{result.id}\]", 10)
    first.wait_for_log(r"exited with 'signal 9 \(SIGKILL\)'", 10)
    # The pool replaces the killed child with a new process.
    after = wait_until(lambda: (c := first.children()) and c != before and c, 15, "a new child")
    assert len(after) == 1 and after != before
    # Failed and acknowledged, even with acks_late: nothing waits to be delivered again.
    broker = own_stack.redis.client(0)
    assert (broker.llen("limits"), broker.hlen("unacked")) == (0, 0)
    assert first.log.count(f"limits.stuck[{result.id}] received") == 1
    assert limits.stuck.delay(0).get(timeout=15) == "finished"  # under the limit: it returns


def test_the_soft_limit_raises_inside_the_task_so_cleanup_runs(limits, first):
    result = limits.export_report.delay(3)
    with pytest.raises(SoftTimeLimitExceeded):
        result.get(timeout=15)
    scratch = first.wait_for_log(r"soft time limit: removing (\S+)", 10)[1]
    assert not Path(scratch).exists()  # the finally block ran
    assert limits.export_report.delay(0).get(timeout=15) == "exported"  # under the limit
    first.wait_for_log(
        rf"Soft time limit \(1s?\) exceeded for limits\.export_report\[{result.id}\]", 10)


def test_an_expired_task_is_revoked_not_run(limits, first):
    blocker = limits.busy.delay(2)  # the only child is busy for 2 s
    late = limits.remind_soon(7)
    assert blocker.get(timeout=15) == "done"
    with pytest.raises(TaskRevokedError):
        late.get(timeout=15)
    assert late.state == "REVOKED"
    assert limits.remind_soon(8).get(timeout=15) == "reminded 8"  # in time: it runs
    assert f"Discarding revoked task: limits.send_reminder[{late.id}]" in first.log
    assert f"limits.send_reminder[{late.id}] succeeded" not in first.log


def rate(limits, n: int) -> float:
    """Tasks started per second over a batch of `n`, from the times the tasks report."""
    results = [limits.call_partner_api.delay(i) for i in range(n)]
    started = sorted(r.get(timeout=30) for r in results)
    return (n - 1) / (started[-1] - started[0])


def test_rate_limit_is_per_worker_two_workers_run_twice_the_rate(limits, first, own_stack):
    n = 11
    one = rate(limits, n)
    second = start(own_stack, "second")
    try:
        two = rate(limits, 2 * n)
    finally:
        own_stack.stop(second)
    assert 3.5 < one <= 5.5  # 5/s on one worker, less what the machine loses
    assert two > 1.5 * one and two <= 11  # both workers apply their own 5/s
    INCLUDE.write_text(
        "<!-- Written by tests/celery/test_limits.py::"
        "test_rate_limit_is_per_worker_two_workers_run_twice_the_rate. Do not edit. -->\n"
        "`rate_limit=\"5/s\"`, tasks that return at once, measured on this guide's last run:\n\n"
        "| Workers | Tasks started per second |\n|---|---|\n"
        f"| one | {one:.1f} |\n| two | {two:.1f} |\n")
