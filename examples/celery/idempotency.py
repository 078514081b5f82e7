"""Pitfalls: idempotent tasks under redelivery (shown on docs/celery/pitfalls.md).

With acks late and reject-on-worker-lost (celeryconfig.py), a crash means
"run the message again"; a visibility timeout shorter than an ETA does the
same, and so does a client that sends twice. An idempotency key, claimed
atomically in Redis, turns the second run of the same logical operation into
a no-op. `once()` is the reusable part; `charge` shows it in a task.

    celery -A idempotency worker --loglevel=info
"""

import os
from functools import cache

import redis
from celery_app import app  # `-A idempotency` finds this app and registers the tasks below

DAY = 24 * 3600


# --8<-- [start:once]
@cache
def _redis() -> redis.Redis:
    url = os.environ.get("CELERY_RESULT_BACKEND", "redis://localhost:6379/0")
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)


def once(key: str, ttl: int = DAY) -> bool:
    """Claim `key`: True for the first caller, False for every later one.

    SET NX is atomic, so two runs racing on two workers cannot both win.
    The claim lives `ttl` seconds: longer than any redelivery can take.
    """
    return bool(_redis().set(f"once:{key}", os.getpid(), nx=True, ex=ttl))


def forget(key: str) -> None:
    """Drop a claim, so the work can be done again (e.g. it failed before its effect)."""
    _redis().delete(f"once:{key}")
# --8<-- [end:once]


# --8<-- [start:charge]
@app.task
def charge(order_id: int, cents: int) -> str:
    # Key on the logical operation (this order), not on the message or task id:
    # a redelivered message has the same task id, a client's resend has a new one.
    if not once(f"charge:{order_id}"):
        return "already charged: skipped"
    _redis().rpush(f"ledger:{order_id}", cents)  # the side effect (stands for a payment)
    return "charged"


@app.task
def charge_naive(order_id: int, cents: int) -> str:
    _redis().rpush(f"ledger:{order_id}", cents)  # runs again on every redelivery
    return "charged"
# --8<-- [end:charge]
