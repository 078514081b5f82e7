"""examples/celery/visibility_timeout.py: a countdown longer than the visibility timeout runs twice.

A private Redis and a real solo worker of the demo app (visibility_timeout = 3 s).
The countdowns keep at least a second from every boundary, so a loaded machine
still sees exactly one redelivery: the copy can't come before 3 s and arrives by
about 3.25 s; a third copy can't come before 6 s, long after the 4.5 s ETA.
"""

import json
import re
import time

import pytest

from support.waiting import wait_until

pytestmark = pytest.mark.slow


def test_countdown_longer_than_the_visibility_timeout_runs_twice(make_stack):
    stack = make_stack()
    worker = stack.worker("visibility_timeout", "--pool=solo")
    results = stack.redis.client(1)
    broker = stack.redis.client(0)
    client = stack.client()

    def runs(tag):
        return [json.loads(r) for r in results.lrange(f"runs:{tag}", 0, -1)]

    sent = time.time()
    late = client.send_task("visibility_timeout.remind", ["late"], countdown=4.5)
    soon = client.send_task("visibility_timeout.remind", ["soon"], countdown=1)

    def settled():
        # Every delivery logged as received has run, and nothing is parked or queued.
        log = worker.log
        received = len(re.findall(r"remind\[[\w-]+\] received", log))
        done = len(re.findall(r"remind\[[\w-]+\] succeeded", log))
        return (len(runs("late")) >= 1 and received == done and not broker.hlen("unacked")
                and not broker.llen("celery"))

    wait_until(settled, 15, "both reminders to run and the queue to settle")
    assert worker.log.count(f"remind[{late.id}] received") == 2  # delivered twice
    assert len(runs("late")) == 2  # and run twice, both at the ETA
    assert all(4.5 <= run["at"] - sent < 6 for run in runs("late"))
    assert worker.log.count(f"remind[{soon.id}] received") == 1  # countdown 1 < 3 s
    assert len(runs("soon")) == 1
