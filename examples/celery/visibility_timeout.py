"""Pitfalls: on Redis, a countdown longer than the visibility timeout runs the task again.

kombu parks every delivered message in the `unacked` hash until the worker acks
it. A task waiting for its ETA is not acked, so once `visibility_timeout`
seconds pass, kombu's restore sweep pushes it back on the queue, a worker
receives it a second time, and both copies run when the ETA comes.
This demo app shrinks the timeout to 3 s; shown on docs/celery/pitfalls.md.

    celery -A visibility_timeout worker --pool=solo --loglevel=info
"""

import json
import os
import time

import redis
from celery import Celery

app = Celery("visibility_timeout")
app.config_from_object("celeryconfig")

# --8<-- [start:config]
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": 3,  # seconds; the Redis transport's default is 3600
    # kombu 5.7 looks for overdue messages every interval x throttle seconds
    # (10 x 10 by default); look every 0.25 s so the demo takes seconds.
    "unacked_restore_interval": 0.25,
    "unacked_restore_throttle": 1,
    # Each sweep holds a lock in Redis. A worker killed mid-sweep leaves it behind, and
    # until it expires (300 s by default) no other worker sweeps.
    "unacked_mutex_expire": 5,
}
# --8<-- [end:config]

_runs = redis.Redis.from_url(
    os.environ.get("CELERY_RESULT_BACKEND", "redis://localhost:6379/0"), socket_timeout=5
)


def record_run(tag: str, hostname: str) -> None:
    """Append one line per run to the Redis list `runs:<tag>`: who ran it, and when."""
    _runs.rpush(f"runs:{tag}", json.dumps({"worker": hostname, "at": time.time()}))


# --8<-- [start:remind]
@app.task(bind=True)
def remind(self, tag: str) -> None:
    record_run(tag, self.request.hostname)


# Sent with a countdown longer than the visibility timeout:
#     remind.apply_async(["invoice-42"], countdown=4.5)
# --8<-- [end:remind]
