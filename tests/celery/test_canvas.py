"""examples/celery/canvas.py: chain, group and chord, run by real workers.

The chains and chords run on the session's worker (`celery_app`, solo pool: one task at
a time). The group also runs on a second worker of the session's stack, with four threads,
that reads a queue of its own, so the same group can be timed on one slot and on four.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery.exceptions import ChordError

from support.docs_pages import delegated_blocks, in_container, run_line
from support.includes import write_include
from support.paths import DOCS, EXAMPLES
from support.waiting import wait_until

pytestmark = pytest.mark.slow
INCLUDE = DOCS / "_includes" / "q29-group-timing.md"
PARALLEL_QUEUE = "canvas-parallel"


@pytest.fixture(scope="module")
def canvas(stack):
    """The example module; its tasks are celery_app's, bound to the session's stack."""
    import canvas

    return canvas


@pytest.fixture(scope="module")
def four_threads(stack):
    """`celery -A celery_app worker --pool=threads --concurrency=4`, on its own queue."""
    proc = stack.worker("celery_app", "-Q", PARALLEL_QUEUE, "--pool=threads", "--concurrency=4",
                        name="threads")
    yield proc
    stack.stop(proc)


def test_a_chain_passes_each_result_to_the_next_task(canvas, worker):
    assert canvas.run_chain() == 16  # (2 + 2) = 4, then 4 + 4 = 8, then 8 + 8 = 16


def test_partial_signatures_take_the_previous_result_immutable_ones_do_not(canvas, worker):
    assert canvas.partial_and_immutable() == (12, 10)


def test_a_partial_signature_of_a_task_without_parameters_fails_in_the_worker(canvas, worker):
    from celery import chain

    result = chain(canvas.add.s(1, 1), canvas.ping.s()).apply_async()
    with pytest.raises(TypeError, match=r"ping\(\) takes 0 positional arguments but 1 was given"):
        result.get(timeout=10)
    # The fix: .si() keeps the previous result out.
    assert chain(canvas.add.s(1, 1), canvas.ping.si()).apply_async().get(timeout=10) == "pong"


def test_a_group_runs_side_by_side_only_where_there_are_free_slots(canvas, worker, four_threads):
    from celery import group

    n, seconds = 4, 0.5
    batch = group(canvas.slow_square.s(i, seconds) for i in range(n))
    batch.apply_async().get(timeout=30)  # warm: connections opened, both workers idle

    timings = {}
    for label, options in (("one slot (solo pool)", {}),
                           ("four slots (4 threads)", {"queue": PARALLEL_QUEUE})):
        start = time.monotonic()
        assert batch.apply_async(**options).get(timeout=30) == [i * i for i in range(n)]
        timings[label] = time.monotonic() - start

    solo, threads = timings.values()
    assert solo >= n * seconds  # one after the other
    assert threads < 0.75 * n * seconds  # side by side: well under one after another
    rows = "\n".join(f"| {label} | {t:.2f} s |" for label, t in timings.items())
    write_include(INCLUDE.name,
        "<!-- Written by tests/celery/test_canvas.py::"
        "test_a_group_runs_side_by_side_only_where_there_are_free_slots. Do not edit. -->\n"
        f"A group of {n} tasks that each sleep {seconds} s, measured on this guide's last run:\n\n"
        f"| Worker | The whole group took |\n|---|---|\n{rows}\n")


def test_a_chord_calls_back_with_every_result_once_all_are_done(canvas, worker):
    assert canvas.run_chord() == sum(i * i for i in range(4))


def test_the_demo_prints_each_primitive(stack, worker):
    out = subprocess.run([sys.executable, "-c", "import canvas; canvas.demo()"],
                         cwd=EXAMPLES, env=stack.env(), capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "chain: 16", "group: [0, 1, 4, 9]", "chord: 14", "partial, immutable: (12, 10)"]


def test_a_failing_member_means_the_callback_never_runs_the_errback_does(canvas, worker):
    result = canvas.chord_with_error_callback([1, -1, 2])
    # .get() re-raises the member's own error if it sees the failed header first (it checks
    # the parents before it waits), else the callback's ChordError, which names it...
    with pytest.raises((ValueError, ChordError), match=r"cannot process -1"):
        result.get(timeout=15)
    # ...and the callback's stored state says why it never ran.
    wait_until(lambda: result.state == "FAILURE", 10, "the callback's FAILURE")
    assert isinstance(result.result, ChordError)
    assert re.fullmatch(r"Dependency \S+ raised ValueError\('cannot process -1'\)",
                        str(result.result))
    # The one-parameter errback was queued with the callback's id, not the member's...
    worker.wait_for_log(rf"canvas step failed: {result.id}\n", 15)
    # ...the three-parameter one got the ChordError, which names the member that failed.
    failed_member = result.parent.results[1].id
    worker.wait_for_log(rf"chord {result.id} failed: Dependency {failed_member} raised "
                        r"ValueError\('cannot process -1'\)", 15)
    assert "canvas.total" not in _succeeded_tasks(worker.log, result.id)


def _succeeded_tasks(log: str, task_id: str) -> str:
    return "\n".join(line for line in log.splitlines() if task_id in line and "succeeded" in line)


def test_a_chord_counts_its_members_in_the_result_backend(canvas, worker, stack):
    from celery import chord

    backend = stack.redis.client(1)
    header = [canvas.add.s(1, 1), canvas.slow_square.s(3, 2.0)]
    result = chord(header)(canvas.total.s())
    group_id = result.parent.id
    key = f"celery-taskset-meta-{group_id}"
    # The solo worker runs add first, then sleeps in slow_square: one of two has reported.
    wait_until(lambda: backend.zcard(f"{key}.j") == 1, 10, "the first member in the .j set")
    seen = {"size": int(backend.get(f"{key}.s")), "joined": backend.zcard(f"{key}.j")}
    assert seen == {"size": 2, "joined": 1}
    assert result.state == "PENDING"  # the callback has not even been sent
    assert result.get(timeout=15) == 2 + 9
    assert json.loads(backend.get(f"celery-task-meta-{result.id}"))["result"] == 11


# -- the page's commands, as written ---------------------------------------------------------

PAGE = "celery/q29-canvas.md"
DEMO_LINES = ["chain: 16", "group: [0, 1, 4, 9]", "chord: 14", "partial, immutable: (12, 10)"]


def ran(log: str) -> dict[str, int]:
    """How many times each canvas task succeeded, by the worker's log."""
    names = re.findall(r"Task canvas\.(\w+)\[\S+\] succeeded", log)
    return {name: names.count(name) for name in sorted(set(names))}


def test_the_pages_commands_run_as_written(make_stack, tmp_path):
    """Try it on a stack of its own (the session's worker reads the same queues), then the
    sandbox's line against the compose file's worker, run natively (support.sandbox)."""
    from support.sandbox import Clock, NativeStack

    [[worker_line], [demo_line], [sandbox_line]] = delegated_blocks(PAGE, __file__)
    own = make_stack()
    own.redis  # noqa: B018 (started: env() only names its port)
    env = own.env(PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    page_worker = own.line(worker_line, "page-worker.log", env)
    try:
        page_worker.ready(r"ready\.")
        out = run_line(demo_line, env)
        assert (out.returncode, out.stdout.splitlines()) == (0, DEMO_LINES), out.stderr[-1500:]
        # The page's worker ran every one: 7 adds (chain 3, partial 2, immutable 2), 8
        # squares (the group's 4, the chord's 4) and the chord's callback.
        wait_until(lambda: ran(page_worker.log) == {"add": 7, "slow_square": 8, "total": 1},
                   15, "every task of the demo logged as succeeded")
    finally:
        page_worker.stop()

    native = NativeStack(tmp_path / "sandbox", own.redis.port, own.smtp.port,
                         Clock("the sandbox's worker, run natively"))
    try:
        native.start("worker")
        native.procs["worker"].wait_for_log(r"ready\.")
        out = run_line(in_container(sandbox_line), native.env("worker"))
        assert (out.returncode, out.stdout.splitlines()) == (0, DEMO_LINES), out.stderr[-1500:]
        wait_until(lambda: ran(native.procs["worker"].log) == {
            "add": 7, "slow_square": 8, "total": 1}, 15, "the sandbox worker running the demo")
    finally:
        native.stop()


def test_on_redis_a_chord_still_joins_members_that_ignore_their_results(canvas, worker, stack):
    """Celery's docs say chord members must keep their results. The Redis backend joins them
    through the chord's own keys, so here the callback still gets every result; the
    members' own results are nowhere."""
    from celery import chord

    header = [canvas.add.s(i, 0).set(ignore_result=True) for i in range(3)]
    result = chord(header)(canvas.total.s())
    assert result.get(timeout=15) == 0 + 1 + 2
    backend = stack.redis.client(1)
    assert [backend.exists(f"celery-task-meta-{m.id}") for m in result.parent.results] == [0] * 3
