"""Pitfalls: `.delay()` in an `async def` endpoint stalls every request when Redis hangs.

`.delay()` is blocking network I/O. Inside `async def` it runs on the event
loop itself, so while it waits for Redis nothing else is served. With kombu's
default `socket_timeout=None`, a broker that accepts connections but never
answers (a half-open connection, a stuck failover) makes it wait forever.
The fix is a plain `def` endpoint, which FastAPI runs in its threadpool, plus
socket timeouts (celeryconfig.py) and a 503 (broker_errors.py): the threadpool
has 40 threads for the whole app, and without timeouts, 40 stuck calls hold them all.
Shown on docs/celery/pitfalls.md.

    uvicorn blocking_publish:app
"""

import os

from broker_errors import answers, publish
from celery import Celery
from celery_app import app as celery  # celeryconfig.py: socket timeouts on every connection
from fastapi import FastAPI

app = FastAPI(title="Pitfalls: blocking publish")

# As the source text sets it up: a broker, a result backend, no socket timeouts at all.
naive = Celery(
    "naive",
    broker=os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"),
    backend=os.environ.get("CELERY_RESULT_BACKEND", "redis://localhost:6379/0"),
)


@naive.task
def naive_ping() -> str:
    return "pong"


@celery.task
def ping() -> str:
    return "pong"


@app.get("/fast")
async def fast() -> dict:
    return {"ok": True}


# --8<-- [start:blocking]
@app.post("/async-delay", status_code=202)
async def async_delay() -> dict:
    return {"task_id": naive_ping.delay().id}  # the event loop, and every request, waits
# --8<-- [end:blocking]


# --8<-- [start:fixed]
@app.post("/sync-delay", status_code=202, responses=answers(503))
def sync_delay() -> dict:
    # A threadpool thread waits instead of the event loop; the socket timeouts
    # bound the wait, and publish() turns the failure into a 503.
    return {"task_id": publish(ping.delay).id}
# --8<-- [end:fixed]


# --8<-- [start:threadpool]
@app.post("/sync-delay-no-timeouts", status_code=202)
def sync_delay_no_timeouts() -> dict:
    # Off the event loop, but with Celery's defaults: each call stuck on a silent Redis
    # holds one of the threadpool's 40 threads, and once all 40 are held, every `def`
    # endpoint of the app waits for one, /health included.
    return {"task_id": naive_ping.delay().id}


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}
# --8<-- [end:threadpool]
