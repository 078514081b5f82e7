"""examples/celery/pools.py: threads and prefork side by side, and a leaking child replaced.

Three workers of the `pools` app on the module's own Redis (`own_stack`), each on a queue
of its own so that a test chooses the pool by choosing the queue:

- `--pool=threads --concurrency=4` reads `threads`;
- `--pool=prefork --concurrency=4` reads `prefork`;
- `--concurrency=1 --max-memory-per-child=150000` (prefork) reads `recycle`.
"""

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
from celery import group

from support.docs_pages import delegated_blocks, in_container, run_line
from support.includes import write_include
from support.paths import DOCS
from support.proofs import together

pytestmark = pytest.mark.slow
INCLUDE = DOCS / "_includes" / "q30-pools.md"
SLOTS = 4
LIMIT_KB = 150_000


@pytest.fixture(scope="module")
def workers(own_stack):
    def start(queue, *args):
        return own_stack.worker("pools", "-Q", queue, *args, name=queue)

    procs = together(
        lambda: start("threads", "--pool=threads", f"--concurrency={SLOTS}"),
        lambda: start("prefork", "--pool=prefork", f"--concurrency={SLOTS}"),
        lambda: start("recycle", "--concurrency=1", f"--max-memory-per-child={LIMIT_KB}"))
    yield dict(zip(["threads", "prefork", "recycle"], procs, strict=True))
    own_stack.stop(*procs)


@pytest.fixture(scope="module")
def pools(own_stack):
    """The example module, its app (the client side) bound to this module's Redis."""
    import pools

    own_stack.bind(pools.app)
    return pools


def batch(signature, queue: str, n: int) -> tuple[float, list]:
    """Wall seconds for `n` copies sent at once, and their results."""
    start = time.monotonic()
    results = group(signature for _ in range(n)).apply_async(queue=queue).get(timeout=60)
    return time.monotonic() - start, results


def test_io_overlaps_on_both_pools_cpu_on_threads_stays_under_one_core(pools, workers):
    for queue in ("threads", "prefork"):  # warm: connections open, children forked
        batch(pools.child_pid.s(), queue, SLOTS)
    io, cpu = pools.wait_for_io.s(0.5), pools.crunch.s(1_500_000)
    figures = {}
    for pool in ("threads", "prefork"):
        figures["I/O-bound", pool] = batch(io, pool, SLOTS)[0], None
        wall, cpu_seconds = batch(cpu, pool, SLOTS)
        # CPU seconds used per wall second: how many cores' worth ran at once.
        figures["CPU-bound", pool] = wall, sum(cpu_seconds) / wall
    # Waiting overlaps on either pool: well under the 2 s of four waits one after another.
    assert figures["I/O-bound", "threads"][0] < 0.75 * SLOTS * 0.5
    assert figures["I/O-bound", "prefork"][0] < 0.75 * SLOTS * 0.5
    # With the GIL, four threads never use more than one core between them...
    assert figures["CPU-bound", "threads"][1] <= 1.05
    # Four processes have a GIL each: what they get depends on the machine's free cores,
    # which a shared test machine doesn't promise, so that figure is reported, not asserted.
    rows = "\n".join(
        f"| {kind} | {pool} | {wall:.2f} s | {'-' if cores is None else f'{cores:.2f}'} |"
        for (kind, pool), (wall, cores) in figures.items())
    write_include(INCLUDE.name,
        "<!-- Written by tests/celery/test_pools.py::"
        "test_io_overlaps_on_both_pools_cpu_on_threads_stays_under_one_core. Do not edit. -->\n"
        f"{SLOTS} tasks sent at once to a worker with `--concurrency={SLOTS}`, measured on this "
        f"guide's last run, on a machine with {_cores()} CPU cores that other programs shared. "
        "Each I/O-bound task waits 0.5 s. *Cores used* is the CPU time the CPU-bound tasks "
        "report, divided by the wall time of the batch.\n\n"
        f"| Tasks | Pool | The {SLOTS} took | Cores used |\n|---|---|---|---|\n{rows}\n")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


def test_a_leaking_child_is_replaced_after_the_task_that_crossed_the_limit(pools, workers):
    recycle = workers["recycle"]

    def run(signature):
        return signature.apply_async(queue="recycle").get(timeout=30)

    before = run(pools.child_pid.s())
    assert run(pools.leaky_import.s(200)) == before  # the leak happens in that child
    # The child checks its memory after each task: above the limit, it exits and the
    # pool forks a fresh one, with the leak gone.
    after = run(pools.child_pid.s())
    assert after != before
    assert recycle.children() == [after]


# -- the page's commands, as written ---------------------------------------------------------

PAGE = "celery/q30-pools.md"
TASK_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_the_pages_commands_run_as_written(make_stack, tmp_path):
    """Each worker of Try it in turn, with the three calls sent to it, on a stack of its own
    (the module's workers don't read `pools`, but `inspect` would hear them); then the
    sandbox's line against the compose file's worker, run natively (support.sandbox)."""
    from support.sandbox import Clock, NativeStack

    [worker_lines, call_lines, [sandbox_line]] = delegated_blocks(PAGE, __file__)
    assert len(worker_lines) == 2 and len(call_lines) == 3
    own = make_stack()
    own.redis  # noqa: B018 (started: env() only names its port)
    client = own.client()
    env = own.env(PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    pids = {}
    for n, worker_line in enumerate(worker_lines):
        proc = own.line(worker_line, f"page-worker-{n}.log", env)
        try:
            proc.ready(r"ready\.")
            ids = [run_line(line, env).stdout.strip() for line in call_lines]
            assert all(re.fullmatch(TASK_ID, task_id) for task_id in ids), ids
            pids[n] = [client.AsyncResult(task_id).get(timeout=30) for task_id in ids]
            for task_id, pid in zip(ids, pids[n], strict=True):
                proc.wait_for_log(rf"pools\.\w+\[{task_id}\] succeeded in \S+: {pid}\b", 15)
            main, children = proc.proc.pid, proc.children()
        finally:
            proc.stop()
        if n == 0:  # threads: every task runs in the worker's own process, leak and all
            assert pids[0] == [main] * 3
        else:  # prefork, one child: the leak crosses the limit, and a new child takes over
            before, leaked, after = pids[1]
            assert leaked == before and after != before and children == [after]

    native = NativeStack(tmp_path / "sandbox", own.redis.port, own.smtp.port,
                         Clock("the sandbox's worker, run natively"))
    try:
        native.start("worker")
        worker = native.procs["worker"]
        worker.wait_for_log(r"ready\.")
        out = run_line(in_container(sandbox_line), native.env("worker"))
        text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout)
        assert re.match(r"->\s+celery@\S+: OK\n", text), text
        stats = json.loads(text[text.index("{"):text.rindex("}") + 1])
        pool = stats["pool"]
        assert pool["implementation"] == "celery.concurrency.prefork:TaskPool"
        assert (pool["max-concurrency"], sorted(pool["processes"])) == (
            2, sorted(worker.children()))
    finally:
        native.stop()
