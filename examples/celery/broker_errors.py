"""Turning "Redis is unreachable" into a 503 the client can act on, and saying so in OpenAPI."""

from collections.abc import Callable
from typing import Any

from celery.backends.base import Backend
from celery.result import AsyncResult
from fastapi import HTTPException
from kombu.exceptions import OperationalError
from pydantic import BaseModel
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


# --8<-- [start:read_meta]
def read_meta(backend: Backend, task_id: str) -> dict:
    """One read of a task's state and result, mapping a dead or silent backend to 503."""
    try:
        return backend.get_task_meta(task_id)
    except (OperationalError, RedisError, OSError) as exc:
        # redis_socket_timeout bounds a silent Redis; without the except, a 500.
        raise HTTPException(503, f"result backend unavailable, try again later ({exc})") from exc
# --8<-- [end:read_meta]


# --8<-- [start:answers]
class ErrorMessage(BaseModel):
    """The body of every 4xx and 503 these apps answer: FastAPI's HTTPException shape."""

    detail: str


WHY = {
    400: "The body could not be read (for example, bytes that are not UTF-8)",
    404: "No such file in the media folder",
    413: "The request body, or the image it names, is too large",
    415: "The file is not an image Pillow can open",
    503: "Redis (broker or result backend) is down or not answering: retry later",
}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: each error status it can answer, with its JSON shape."""
    return {status: {"model": ErrorMessage, "description": WHY[status]} for status in statuses}
# --8<-- [end:answers]
