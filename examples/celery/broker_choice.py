"""Q34: one app, two brokers. Where Redis and RabbitMQ differ, with the same tasks on both.

The broker is only a URL (CELERY_BROKER_URL): `redis://…` or `amqp://…`. The
tasks below run unchanged on either; what changes is what the broker does with
priorities, with a message nobody acknowledges, and with a crash. Shown on
docs/celery/q34-redis-or-rabbitmq.md. Results go to Redis in both cases.

    python broker_choice.py      # queues four reports with priorities 9, 5, 0, none
    celery -A broker_choice worker -c 1 --loglevel=info

with CELERY_BROKER_URL=amqp://guest:guest@localhost:5672// for RabbitMQ.
"""

import functools
import json
import os
import time

import redis
from celery import Celery
from celery.utils.log import get_task_logger

# --8<-- [start:app]
app = Celery("broker_choice")
app.config_from_object("celeryconfig")  # acks late, prefetch 1, JSON, Redis results
# RabbitMQ: declare queues with x-max-priority, so that a message's priority
# (0-9, 9 highest) decides its place. The Redis transport ignores this and
# keeps one list per step of priority_steps instead, 0 highest.
app.conf.task_queue_max_priority = 9
# A queue's arguments are fixed when it is first declared: RabbitMQ refuses to
# declare an existing plain `celery` queue again with x-max-priority
# (PRECONDITION_FAILED). A queue of its own starts right.
app.conf.task_default_queue = "prioritized"
# Redis: a delivered message nobody has acked is put back on its queue after
# visibility_timeout seconds (3600 by default; 3 in this demo app). RabbitMQ has
# no such timer on the client side: its consumer_timeout lives in rabbitmq.conf.
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": 3,
    "unacked_restore_interval": 0.25,  # look for overdue messages every 0.25 s
    "unacked_restore_throttle": 1,
    # A worker killed in the middle of a sweep leaves the sweep's lock behind; no
    # other worker restores anything until it expires (300 s by default).
    "unacked_mutex_expire": 5,
}
# --8<-- [end:app]

logger = get_task_logger(__name__)


@functools.cache
def _runs() -> redis.Redis:
    """The Redis the demo keeps its run log in: the result backend's (read on first use)."""
    url = os.environ.get("CELERY_RESULT_BACKEND", "redis://localhost:6379/0")
    return redis.Redis.from_url(url, socket_timeout=5)


def record_run(task, tag: str) -> None:
    """Append one line per run to the Redis list `runs:<tag>`: who, when, redelivered or not."""
    redelivered = bool(task.request.delivery_info.get("redelivered"))
    _runs().rpush(f"runs:{tag}", json.dumps(
        {"worker": task.request.hostname, "at": time.time(), "redelivered": redelivered}))


# --8<-- [start:tasks]
@app.task
def report(label: str) -> str:
    logger.info("ran %s", label)
    return label


def queue_reports(connection=None) -> None:
    """Queue four reports, highest RabbitMQ priority first, for one worker to run later."""
    for priority, label in [(9, "p9"), (5, "p5"), (0, "p0"), (None, "none")]:
        report.apply_async((label,), priority=priority, connection=connection,
                           ignore_result=True)


@app.task(bind=True)
def remind(self, tag: str) -> None:
    """Sent with a countdown: the worker holds the message, unacked, until then."""
    record_run(self, tag)


@app.task(bind=True)
def long_job(self, tag: str, seconds: float) -> None:
    """Acked late (celeryconfig): the message stays unacked while this runs."""
    record_run(self, tag)
    time.sleep(seconds)  # stands for real work
# --8<-- [end:tasks]


if __name__ == "__main__":
    queue_reports()
