"""examples/celery/broker_errors.py: real outages turned into a 503 with a message.

Each failure is real: a Redis port nothing listens on, for the broker, for the
result backend, and for a plain redis-py call.
"""

import time

import pytest
import redis
from broker_errors import publish
from fastapi import HTTPException
from redis.backoff import NoBackoff
from redis.retry import Retry

from celery import Celery
from support.stack import bind
from support.waiting import free_port


@pytest.fixture
def probe():
    """A Celery client whose broker or backend may be dead."""
    apps = []

    def make(broker: str, backend: str) -> Celery:
        app = Celery("probe", set_as_current=False)
        app.config_from_object("celeryconfig")  # the guide's timeouts and retry policy
        apps.append(bind(app, broker, backend))
        return app

    yield make
    for app in apps:
        app.close()


def dead() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"


def refused(send, *args) -> tuple[HTTPException, float]:
    start = time.monotonic()
    with pytest.raises(HTTPException) as error:
        publish(send, *args)
    return error.value, time.monotonic() - start


def test_a_dead_broker_is_a_503(probe, stack):
    app = probe(dead(), stack.redis.url(1))
    error, took = refused(app.send_task, "celery_app.cleanup_old_files")
    assert error.status_code == 503
    assert error.detail.startswith("task queue unavailable, try again later (Error 111 connecting")
    assert took < 5


def test_a_dead_result_backend_is_a_503(probe, stack):
    app = probe(stack.redis.url(0), dead())
    error, took = refused(app.send_task, "celery_app.cleanup_old_files")
    assert error.status_code == 503
    assert error.detail.startswith(
        "result backend unavailable, try again later (\nRetry limit exceeded")
    assert took < 5


def test_a_redis_error_is_a_503():
    client = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))  # fail at once
    error, _ = refused(client.lpush, "celery", "message")
    assert error.status_code == 503
    assert "Error 111 connecting" in error.detail


def test_a_working_broker_passes_the_result_through(worker):
    from celery_app import cleanup_old_files

    result = publish(cleanup_old_files.delay, 36500)
    assert result.get(timeout=10) == 0
