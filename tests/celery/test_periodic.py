"""Q27, Scheduling: Beat sends send_digest at its interval, and a worker runs it."""

import re
from datetime import datetime

import pytest

from support.proofs import together
from support.waiting import wait_until

pytestmark = pytest.mark.slow
EVERY = 1.0  # the demo's interval, for Beat (the example's is 60 s)
EVERY_SETTING = {"periodic.app.conf.beat_schedule.digest.schedule": EVERY}
SENDS = 3
SENT = re.compile(r"\[(\S+ \S+): INFO/MainProcess\] Scheduler: Sending due task digest "
                  r"\(periodic\.send_digest\)")


def test_beat_sends_the_task_at_its_interval(own_stack):
    import periodic

    assert periodic.app.conf.beat_schedule["digest"]["schedule"] == 60.0
    worker, beat = together(
        lambda: own_stack.worker("periodic", "--pool=solo"),
        lambda: own_stack.beat("periodic", settings=EVERY_SETTING),
    )
    try:
        # Bounded: three intervals plus room for a loaded machine.
        worker.wait_for_log(rf"(?s)(periodic\.send_digest\[\S+\] succeeded.*){{{SENDS}}}",
                            timeout=SENDS * EVERY + 15)
    finally:
        own_stack.stop(beat, worker)

    sent = [datetime.strptime(t, "%Y-%m-%d %H:%M:%S,%f") for t in SENT.findall(beat.log)]
    gaps = [(b - a).total_seconds() for a, b in zip(sent, sent[1:], strict=False)]
    assert len(sent) >= SENDS
    # Never early, and never a missed beat: late only by Beat's wake-up, which grows
    # when the rest of the suite loads the machine.
    assert all(EVERY - 0.05 <= gap < 2 * EVERY for gap in gaps), gaps
    assert worker.log.count("succeeded in") >= SENDS
    assert "'digest sent'" in worker.log


def test_two_beats_send_every_task_twice(own_stack):
    """Each Beat keeps its own schedule, so a second Beat doubles every send."""
    queue = own_stack.redis.client(0)
    queue.delete("celery")  # no worker here: every message sent stays in the list
    beats = together(*[lambda: own_stack.beat("periodic", settings=EVERY_SETTING)] * 2)

    def two_sends_each_all_queued():
        # Read while both run: between two ticks, the list holds one message per send logged.
        sends = [len(SENT.findall(beat.log)) for beat in beats]
        return min(sends) >= 2 and queue.llen("celery") == sum(sends) and sends

    try:
        sends = wait_until(two_sends_each_all_queued, 2 * EVERY + 15, "two sends from each Beat")
    finally:
        own_stack.stop(*beats)
    print(f"two Beats: {sends} sends, {sum(sends)} messages")
