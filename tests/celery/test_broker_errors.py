"""examples/celery/broker_errors.py: real outages turned into a 503 with a message.

Each failure is real: a Redis port nothing listens on, for the broker, for the
result backend, and for a plain redis-py call.
"""

import time

import pytest
import redis
from broker_errors import publish, read_meta
from celery import Celery
from fastapi import HTTPException
from kombu.exceptions import OperationalError
from redis.backoff import NoBackoff
from redis.retry import Retry

from support.celery_procs import QUICK
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
    assert isinstance(error.__cause__, OperationalError)  # kombu's, on the first try
    assert took < 5


def test_a_dead_result_backend_is_a_503(probe, stack):
    app = probe(stack.redis.url(0), dead())
    error, took = refused(app.send_task, "celery_app.cleanup_old_files")
    assert error.status_code == 503
    assert error.detail.startswith(
        "result backend unavailable, try again later (\nRetry limit exceeded")
    assert type(error.__cause__) is RuntimeError  # the backend's subscribe, not kombu's error
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


def test_reading_a_dead_result_backend_is_a_503(probe, stack):
    app = probe(stack.redis.url(0), dead())
    start = time.monotonic()
    with pytest.raises(HTTPException) as error:
        read_meta(app.backend, "00000000-0000-0000-0000-000000000000")
    assert error.value.status_code == 503
    assert error.value.detail.startswith(
        "result backend unavailable, try again later (Error 111 connecting")
    assert time.monotonic() - start < 5


def test_reading_a_live_result_backend_passes_the_meta_through(probe, stack):
    app = probe(stack.redis.url(0), stack.redis.url(1))
    assert read_meta(app.backend, "00000000-0000-0000-0000-000000000000")["status"] == "PENDING"


@pytest.mark.slow
def test_a_worker_started_before_redis_retries_a_bounded_number_of_times(make_stack):
    """broker_connection_retry_on_startup: the worker waits for Redis, counting its attempts
    against broker_connection_max_retries (100 by default), and starts once Redis answers."""
    early = make_stack()  # its Redis is named in its environment, not started yet
    # stack.worker would start that Redis first: the same command line, started bare.
    worker = early.start("celery", ["-A", "celery_app", "worker", "--pool=solo",
                                    "-n", "early@%h", "--loglevel=info", *QUICK], "early.log")
    # kombu's back-off: 2 s, then 2 s more each time (up to 30 s), 100 tries in all.
    worker.wait_for_log(r"Cannot connect to redis://\S*127\.0\.0\.1:\d+/0: Error 111")
    worker.wait_for_log(r"Trying again in 2\.00 seconds\.\.\. \(1/100\)")
    worker.wait_for_log(r"Trying again in 4\.00 seconds\.\.\. \(2/100\)")
    early.redis  # noqa: B018 (started now, on the port the worker keeps trying)
    worker.wait_for_log(r"ready\.")
