"""examples/celery/killed_worker.py: kill -9 of the whole worker leaves the message in `unacked`.

A private Redis, two real solo workers of the demo app (visibility timeout 3 s):
`a` is killed with its whole process group mid-task, `b` gets the message back
only after the visibility timeout.
"""

import json
import os
import signal
from collections.abc import Callable

import pytest

from support.stack import Stack
from support.waiting import wait_until

pytestmark = pytest.mark.slow

VISIBILITY_TIMEOUT = 3  # visibility_timeout.py's setting


def kill_a_mid_job(stack: Stack, tag: str, before_kill: Callable[[], None] = lambda: None):
    """Worker `a` starts the job `tag`; then its whole process group gets kill -9.

    Returns the job's AsyncResult and a function that reads the job's runs so far.
    """
    results = stack.redis.client(1)

    def runs() -> list[dict]:
        return [json.loads(r) for r in results.lrange(f"runs:{tag}", 0, -1)]

    a = stack.worker("killed_worker", "--pool=solo", name="a")
    job = stack.client().send_task("killed_worker.long_job", [tag, 1.0])
    wait_until(runs, 10, "the job to start on a")
    before_kill()
    os.killpg(a.proc.pid, signal.SIGKILL)  # the whole worker: main process and all
    a.proc.wait(5)
    return job, runs


def test_killed_worker_message_waits_in_unacked_then_runs_elsewhere(make_stack):
    stack = make_stack()
    broker = stack.redis.client(0)
    job, runs = kill_a_mid_job(stack, "job")

    # Nobody acked, nobody requeued: the message is parked, the queue is empty.
    assert broker.hlen("unacked") == 1
    assert broker.llen("celery") == 0
    (tag,) = broker.hkeys("unacked")
    delivered_at = broker.zscore("unacked_index", tag)

    stack.worker("killed_worker", "--pool=solo", name="b")
    wait_until(lambda: len(runs()) == 2, 15, "the job to run again on b")
    first, second = runs()
    assert (first["worker"].split("@")[0], second["worker"].split("@")[0]) == ("a", "b")
    assert second["at"] - delivered_at >= VISIBILITY_TIMEOUT  # not one moment sooner
    print(f"parked: unacked 1, celery 0; ran again on {second['worker']} "
          f"{second['at'] - delivered_at:.2f} s after its first delivery")
    assert job.get(timeout=10) is None and job.state == "SUCCESS"
    wait_until(lambda: broker.hlen("unacked") == 0, 5, "b's ack")  # acked after the result


def test_a_sweep_lock_left_by_a_killed_worker_holds_every_restore_until_it_expires(make_stack):
    from kombu.transport.redis import Channel
    from visibility_timeout import app

    assert Channel.unacked_mutex_expire == 300  # kombu's default: five minutes
    lock_s = app.conf.broker_transport_options["unacked_mutex_expire"]
    assert lock_s == 5
    stack = make_stack()
    broker, locked_at = stack.redis.client(0), []

    def leave_the_lock():
        # What `a` leaves if it dies inside a sweep: kombu's lock (redis-py's SET NX PX),
        # with the expiry the app sets.
        assert broker.set("unacked_mutex", "a's sweep", nx=True, px=lock_s * 1000)
        seconds, micros = broker.time()
        locked_at.append(seconds + micros / 1e6)

    _, runs = kill_a_mid_job(stack, "held", leave_the_lock)
    stack.worker("killed_worker", "--pool=solo", name="b")
    wait_until(lambda: len(runs()) == 2, 30, "the job to run again on b")
    second = runs()[1]
    held = second["at"] - locked_at[0]
    print(f"sweep lock left for {lock_s} s: ran again on {second['worker']} {held:.2f} s "
          f"after it was taken (visibility timeout {VISIBILITY_TIMEOUT} s)")
    assert held >= lock_s > VISIBILITY_TIMEOUT  # the lock, not the timeout, set the wait
