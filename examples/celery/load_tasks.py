"""Failing well: a batch of idempotent tasks that survives crashes, restarts and load.

Shown on docs/celery/failing-well.md. The client names each job with a key; the
task claims that key once (idempotency.once) before its effect, so a message run
twice (a worker or Redis crashed before the ack) or a job sent twice (a client
retrying after a 503) still takes effect once. Run it from examples/:

    celery -A load_tasks worker --loglevel=info
    uvicorn load_tasks:api
"""

from broker_errors import answers, publish
from celery import Celery
from fastapi import FastAPI
from idempotency import once
from pydantic import BaseModel, ConfigDict, Field

# --8<-- [start:app]
celery = Celery("load_tasks")
celery.config_from_object("celeryconfig")  # JSON only, acks late, the fail-fast timeouts
# A crashed worker's messages wait in Redis's `unacked` hash for the visibility
# timeout before another worker takes them. Sweep for overdue ones every second,
# so that the wait is the timeout itself, not the timeout plus kombu's slow sweep.
celery.conf.broker_transport_options = {
    **celery.conf.broker_transport_options,
    "visibility_timeout": 3600,  # an hour, kombu's default: longer than any job here
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
    # Each sweep holds a lock in Redis. A worker killed mid-sweep leaves it behind, and
    # until it expires (300 s by default) no other worker sweeps.
    "unacked_mutex_expire": 5,
}
# Many short jobs: no STARTED state, which costs a SETEX and a PUBLISH per task.
celery.conf.task_track_started = False
# --8<-- [end:app]


# --8<-- [start:record]
@celery.task
def record(key: str) -> dict:
    store = celery.backend.client  # the result backend's Redis
    store.hincrby("runs", key, 1)  # every run counts, a redelivered one too
    first = once(f"record:{key}")  # claimed by the first run only
    if first:
        store.hincrby("effects", key, 1)  # the effect: once per key
    return {"key": key, "first": first}
# --8<-- [end:record]


# --8<-- [start:api]
api = FastAPI(title="Failing well: idempotent jobs")


class Job(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # Spelled out in ASCII: \w means one set of characters to Pydantic's regex engine,
    # another to Python's and another to a JSON Schema validator reading the document.
    key: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_:.-]+$")


@api.post("/jobs", status_code=202, responses=answers(400, 503))
def submit(job: Job) -> dict:
    # Sending the same key again is safe: a 503 can simply be retried.
    task = publish(record.delay, job.key)
    return {"task_id": task.id}
# --8<-- [end:api]


@api.get("/health")
def health() -> dict:
    # Answers without Redis: a probe that tells "the API is up" from "Redis is down".
    return {"status": "ok"}
