"""examples/celery/task_states.py: PENDING for unknown ids and for running, untracked tasks.

A private Redis and a real solo worker of the demo app (task_track_started off,
one task with track_started=True). The tasks run until the test releases them.
"""

import socket
import uuid

import pytest

from support.waiting import wait_until

pytestmark = pytest.mark.slow


def test_pending_means_unknown_started_needs_tracking(make_stack):
    stack = make_stack()
    stack.worker("task_states", "--pool=solo")
    client, results = stack.client(), stack.redis.client(1)

    # An id nobody ever sent: PENDING, not an error.
    assert client.AsyncResult(str(uuid.uuid4())).state == "PENDING"

    states = {}
    for task in ("untracked", "tracked"):
        gate = f"gate-{task}"
        result = client.send_task(f"task_states.{task}", [gate])
        wait_until(lambda g=gate: g.encode() in results.lrange("running", 0, -1), 10,
                   f"{task} to be running")
        states[task] = result.state, result.info  # read while the task runs
        results.rpush(gate, "go")
        assert result.get(timeout=10) == "done"
        assert result.state == "SUCCESS"

    print(states)
    assert states["untracked"] == ("PENDING", None)  # running, yet PENDING
    state, info = states["tracked"]
    assert state == "STARTED"
    assert info["hostname"] == f"w1@{socket.gethostname()}" and info["pid"] > 0
