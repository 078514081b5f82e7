"""Turning "the broker is unreachable" into a 503 the client can act on."""

from collections.abc import Callable
from typing import Any

from celery.result import AsyncResult
from fastapi import HTTPException
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError


# --8<-- [start:publish]
def publish(send: Callable[..., AsyncResult], *args: Any, **kwargs: Any) -> AsyncResult:
    """Call `task.delay`-like `send`, mapping broker and backend outages to 503."""
    try:
        return send(*args, **kwargs)
    except (OperationalError, RedisError, OSError) as exc:
        raise HTTPException(503, f"task queue unavailable, try again later ({exc})") from exc
    except RuntimeError as exc:
        # Celery's Redis result backend gives up subscribing with
        # "Retry limit exceeded while trying to reconnect…".
        raise HTTPException(503, f"result backend unavailable, try again later ({exc})") from exc
# --8<-- [end:publish]
