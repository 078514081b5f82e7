"""examples/celery/limits.py: time limits, rate limits and expiry, on real workers.

The module has its own Redis (`own_stack`) and a prefork worker with one child,
`celery -A limits worker --concurrency=1`; the rate-limit test adds a second worker.
"""

import os
import re
import sys
from pathlib import Path

import pytest
from celery.exceptions import SoftTimeLimitExceeded, TaskRevokedError, TimeLimitExceeded

from support.docs_pages import delegated_blocks, in_container, run_line
from support.includes import write_include
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
    # SIGTERM came first: it raised SystemExit in the task, so its finally started; the
    # SIGKILL 0.1 s later cut the cleanup off before its end.
    log = first.log
    assert log.count("stuck: cleanup started") == 1
    assert log.index("Hard time limit") < log.index("stuck: cleanup started")
    assert "stuck: cleanup finished" not in log
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
    write_include(INCLUDE.name,
        "<!-- Written by tests/celery/test_limits.py::"
        "test_rate_limit_is_per_worker_two_workers_run_twice_the_rate. Do not edit. -->\n"
        "`rate_limit=\"5/s\"`, tasks that return at once, measured on this guide's last run:\n\n"
        "| Workers | Tasks started per second |\n|---|---|\n"
        f"| one | {one:.1f} |\n| two | {two:.1f} |\n")


# -- the page's commands, as written ---------------------------------------------------------

PAGE = "celery/q31-time-limits.md"
TASK_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
RATE_TASK = re.compile(r"limits\.call_partner_api\[\S+\] succeeded in \S+: ([0-9.]+)")


def check_limits(worker, client, soft_id: str, hard_id: str) -> None:
    """What the worker's log and the results show for export_report(3) and stuck(5)."""
    assert re.fullmatch(TASK_ID, soft_id) and re.fullmatch(TASK_ID, hard_id)
    with pytest.raises(SoftTimeLimitExceeded):
        client.AsyncResult(soft_id).get(timeout=30)
    with pytest.raises(TimeLimitExceeded):
        client.AsyncResult(hard_id).get(timeout=30)
    worker.wait_for_log(
        rf"Soft time limit \(1s?\) exceeded for limits\.export_report\[{soft_id}\]", 10)
    worker.wait_for_log(r"soft time limit: removing \S+", 10)
    worker.wait_for_log(rf"Hard time limit \(1s?\) exceeded for limits\.stuck\[{hard_id}\]", 10)
    worker.wait_for_log(r"exited with 'signal 9 \(SIGKILL\)'", 10)


def test_the_pages_commands_run_as_written(make_stack, tmp_path):
    """Try it on a stack of its own (the module's worker reads the same `limits` queue), then
    the sandbox's lines in the compose file's worker environment (support.sandbox)."""
    from support.sandbox import Clock, NativeStack
    from support.stack import pinned_client

    [[worker_line], calls, [sandbox_worker], sandbox_calls] = delegated_blocks(PAGE, __file__)
    assert len(calls) == 3 and len(sandbox_calls) == 2
    own = make_stack()
    own.redis  # noqa: B018 (started: env() only names its port)
    client = own.client()
    env = own.env(PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    worker = own.line(worker_line, "page-worker.log", env)
    try:
        worker.ready(r"ready\.")
        soft_id, hard_id, batch = (run_line(line, env).stdout.strip() for line in calls)
        assert batch == ""  # the python line prints nothing: the worker's log shows the rate
        check_limits(worker, client, soft_id, hard_id)
        started = wait_until(lambda: len(s := RATE_TASK.findall(worker.log)) == 20 and s, 30,
                             "the 20 rate-limited tasks")
        started = sorted(float(t) for t in started)
        assert 19 / (started[-1] - started[0]) <= 5.5  # 5 a second, at most
    finally:
        worker.stop()

    native = NativeStack(tmp_path / "sandbox", own.redis.port, own.smtp.port,
                         Clock("the sandbox's worker environment, run natively"))
    sandbox_env = native.env("worker")
    # The sandbox keeps its results in db 0 (docker-compose.yml): a client of those URLs.
    sandbox_client = pinned_client(sandbox_env["CELERY_BROKER_URL"],
                                   sandbox_env["CELERY_RESULT_BACKEND"], "sandbox-client")
    worker = own.line(in_container(sandbox_worker), "sandbox-worker.log", sandbox_env)
    try:
        worker.ready(r"ready\.")
        soft_id, hard_id = (run_line(in_container(line), sandbox_env).stdout.strip()
                            for line in sandbox_calls)
        check_limits(worker, sandbox_client, soft_id, hard_id)
    finally:
        worker.stop()
        sandbox_client.backend.result_consumer.subscribed_to.clear()
        sandbox_client.close()


def test_the_threads_and_solo_pools_ignore_time_limits_and_solo_answers_no_one_meanwhile(
        make_stack):
    """Only prefork enforces time limits: a threads or solo worker lets `stuck` (time_limit=1)
    run its 10 s to the end. And a solo worker runs the task in its only thread, so while it
    runs, remote control (`celery inspect ping`) gets no answer."""
    other = make_stack()
    client = other.client()
    workers = {pool: other.worker("limits", f"--pool={pool}", "--concurrency=1", name=pool,
                                  ready=False) for pool in ("threads", "solo")}
    for proc in workers.values():
        proc.wait_for_log(r"ready\.")
    host = re.search(r"(solo@\S+) ready\.", workers["solo"].log)[1]
    assert other.celery("-A", "limits", "inspect", "ping", "-d", host, "-t", "5").count(
        "pong") == 1  # idle: it answers
    # 10 s: the ping below is a fresh `celery` process with a 2 s wait, and it must be over
    # before the tasks are, even on a loaded machine (with 6 s, one such run saw a task end
    # first).
    runs = [client.send_task("limits.stuck", (10,), queue="limits") for _ in range(2)]
    wait_until(lambda: all(re.search(r"limits\.stuck\[\S+\] received", p.log)
                           for p in workers.values()), 15, "each worker running one")
    with pytest.raises(AssertionError, match="No nodes replied"):
        other.celery("-A", "limits", "inspect", "ping", "-d", host, "-t", "2")
    assert all(not r.ready() for r in runs)  # asked while both still ran
    assert [r.get(timeout=30) for r in runs] == ["finished", "finished"]
    for proc in workers.values():
        assert "Hard time limit" not in proc.log and "SIGKILL" not in proc.log
