"""Q31: time limits, rate limits and expiry, enforced by a real worker.

Time limits need the prefork pool (the parent watches the clock and signals or kills
the child); the solo and threads pools don't enforce them. Start a worker with:

    celery -A limits worker --concurrency=1 --loglevel=info
"""

import logging
import os
import tempfile
import time

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

log = logging.getLogger(__name__)

# --8<-- [start:app]
app = Celery("limits")
app.config_from_object("celeryconfig")
# A queue of its own: the main worker (celery_app, reading `celery`) never takes these.
app.conf.task_default_queue = "limits"
# --8<-- [end:app]


# --8<-- [start:soft]
@app.task(soft_time_limit=1, time_limit=5)
def export_report(seconds: float) -> str:
    fd, scratch = tempfile.mkstemp(prefix="report-")
    os.close(fd)
    try:
        time.sleep(seconds)  # stands for the slow part: a query, a render
        return "exported"
    except SoftTimeLimitExceeded:
        log.warning("soft time limit: removing %s", scratch)
        raise  # the result becomes FAILURE with SoftTimeLimitExceeded
    finally:
        os.remove(scratch)  # cleanup runs, because the task got an exception, not a SIGKILL
# --8<-- [end:soft]


# --8<-- [start:hard]
@app.task(time_limit=1)
def stuck(seconds: float) -> str:
    try:
        time.sleep(seconds)  # stands for work stuck where no exception reaches it
        return "finished"
    finally:
        # At the hard limit the child gets SIGTERM, which raises SystemExit here, and SIGKILL
        # 0.1 s later. This block may start, but nothing in it is sure to finish.
        log.warning("stuck: cleanup started")
        time.sleep(0.5)  # stands for a cleanup that takes time: a rollback, a network call
        log.warning("stuck: cleanup finished")
# --8<-- [end:hard]


# --8<-- [start:rate]
@app.task(rate_limit="5/s")
def call_partner_api(n: int) -> float:
    # At most 5 starts a second *per worker*: two workers start up to 10 a second.
    return time.time()
# --8<-- [end:rate]


# --8<-- [start:expires]
@app.task
def send_reminder(user_id: int) -> str:
    return f"reminded {user_id}"


def remind_soon(user_id: int):
    # Worth doing within 1 s, or not at all: a worker that gets it later revokes it.
    return send_reminder.apply_async((user_id,), expires=1)
# --8<-- [end:expires]


@app.task
def busy(seconds: float) -> str:
    time.sleep(seconds)
    return "done"
