"""Pitfalls: PENDING means "the backend knows nothing about this id".

The result backend has no record of a task until a worker writes one, and an id
without a record reads as PENDING. So a random uuid is PENDING (forever), and
so is a task that is running right now, unless it reports STARTED:
`track_started=True` on the task, or `task_track_started = True` for all of
them (celeryconfig.py sets it). This demo app turns it off again, Celery's
default, to show both. Shown on docs/celery/pitfalls.md.

    celery -A task_states worker --pool=solo --loglevel=info
"""

import os

import redis
from celery import Celery

app = Celery("task_states")
app.config_from_object("celeryconfig")
app.conf.task_track_started = False  # Celery's default

# Blocking reads wait up to 30 s, so the socket may stay quiet a little longer.
_redis = redis.Redis.from_url(
    os.environ.get("CELERY_RESULT_BACKEND", "redis://localhost:6379/0"), socket_timeout=35
)


def _work_until_released(gate: str) -> str:
    """Stands for a long task: say it has begun, then wait until `gate` is pushed (or 30 s)."""
    _redis.rpush("running", gate)
    _redis.blpop([gate], timeout=30)
    return "done"


# --8<-- [start:tasks]
@app.task
def untracked(gate: str) -> str:
    return _work_until_released(gate)  # PENDING until it finishes


@app.task(track_started=True)
def tracked(gate: str) -> str:
    return _work_until_released(gate)  # STARTED while it runs
# --8<-- [end:tasks]
