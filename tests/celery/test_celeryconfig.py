"""examples/celery/celeryconfig.py: every setting is live in the real worker, and does what it
says."""

import socket
import types

import pytest

from support.waiting import wait_until


@pytest.fixture(scope="module")
def config(stack):
    """The module as the worker reads it: imported once the environment is set."""
    import celeryconfig

    return celeryconfig


def test_the_worker_runs_with_every_setting_of_the_module(stack, worker, config):
    from celery_app import app

    name = f"w1@{socket.gethostname()}"
    live = app.control.inspect(destination=[name], timeout=5, limit=1).conf(
        with_defaults=False)[name]
    settings = {key: value for key, value in vars(config).items()
                if not key.startswith("_") and not isinstance(value, types.ModuleType)}
    assert len(settings) >= 17
    for key, value in settings.items():
        if key != "broker_url":  # shown with a masked password
            assert live[key] == value, key
    assert live["broker_url"].endswith(f"@127.0.0.1:{stack.redis.port}/0")


def test_results_expire_after_an_hour(worker, stack, config):
    from celery_app import cleanup_old_files

    result = cleanup_old_files.delay(36500)
    assert result.get(timeout=10) == 0
    ttl = stack.redis.client(1).ttl(f"celery-task-meta-{result.id}")
    assert 3590 < ttl <= config.result_expires == 3600  # default: 1 day


def test_the_worker_refuses_a_pickled_message(worker, stack):
    from celery_app import cleanup_old_files

    result = cleanup_old_files.apply_async((36500,), serializer="pickle")
    worker.wait_for_log(r"Refusing to deserialize untrusted content of type pickle")
    broker = stack.redis.client(0)
    wait_until(lambda: broker.hlen("unacked") == 0, 5, "the message to be dropped")
    assert broker.llen("celery") == 0  # dropped, not requeued
    assert result.state == "PENDING"  # never ran
    assert f"cleanup_old_files[{result.id}] received" not in worker.log


def test_routes_put_each_task_in_its_queue(own_stack):
    """On a Redis no worker reads, the messages stay where the routes put them."""
    from celery_app import app, cleanup_old_files, process_image, send_email

    idle_broker = own_stack.redis
    with app.connection_for_write(idle_broker.url(0)) as conn:
        send_email.apply_async(("a@example.com", "s", "b"), connection=conn)
        process_image.apply_async(("photo.png",), connection=conn)
        process_image.apply_async(("other.png",), connection=conn)
        cleanup_old_files.apply_async(connection=conn)
    lists = idle_broker.client(0)
    assert [lists.llen(q) for q in ("emails", "images", "celery")] == [1, 2, 1]
