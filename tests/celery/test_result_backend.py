"""Q27, Result backend: the JSON stored in celery-task-meta-<id>, and its TTL."""

import json
import uuid

import pytest

from support.redis_server import RedisServer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def result_backend(own_stack):
    """The example module, and a worker for it, on this module's Redis."""
    own_stack.worker("result_backend", "--pool=solo")
    import result_backend

    own_stack.bind(result_backend.app)
    return result_backend


def stored(redis: RedisServer, task_id: str) -> tuple[dict, float]:
    """The decoded value of celery-task-meta-<id> in the results db, and its TTL in seconds."""
    db = redis.client(1)
    key = f"celery-task-meta-{task_id}"
    return json.loads(db.get(key)), db.pttl(key) / 1000


def test_success_is_stored_as_json_for_result_expires(result_backend, own_stack):
    result = result_backend.invoice_total.delay([19.99, 5.01])
    assert result.get(timeout=20) == {"total": 25.0, "lines": 2}

    meta, ttl = stored(own_stack.redis, result.id)
    assert set(meta) == {"status", "result", "traceback", "children", "date_done", "task_id"}
    assert meta["status"] == "SUCCESS"
    assert meta["result"] == {"total": 25.0, "lines": 2}
    assert (meta["traceback"], meta["children"], meta["task_id"]) == (None, [], result.id)
    expires = result_backend.app.conf.result_expires
    assert expires == 3600  # celeryconfig's value, in seconds
    assert expires - 10 < ttl <= expires  # a SETEX with result_expires, read just after


def test_failure_is_stored_with_the_exception(result_backend, own_stack):
    result = result_backend.invoice_total.delay(["12.50"])  # a str: sum() raises TypeError
    with pytest.raises(TypeError):
        result.get(timeout=20)

    meta, ttl = stored(own_stack.redis, result.id)
    assert meta["status"] == "FAILURE"
    assert meta["result"] == {"exc_type": "TypeError", "exc_module": "builtins",
                              "exc_message": ["unsupported operand type(s) for +: 'int' and 'str'"]}
    assert meta["traceback"].startswith("Traceback (most recent call last)")
    assert 3590 < ttl <= 3600


def test_a_ready_result_is_cached_a_pending_one_is_read_again(result_backend, own_stack):
    """AsyncResult keeps the meta once the state is ready; before that, each read is a GET."""
    task_id = str(uuid.uuid4())
    watched = result_backend.app.AsyncResult(task_id)
    assert watched.state == "PENDING"  # one read: nothing stored yet, so nothing cached

    sent = result_backend.invoice_total.apply_async(([1, 2],), task_id=task_id)
    assert sent.get(timeout=20) == {"total": 3, "lines": 2}
    # The same object, read again: a second GET, and now another answer. This is the race
    # of `.state` followed by `.ready()` (or `.failed()` then `.ready()`): read state once.
    assert watched.ready()

    own_stack.redis.client(1).delete(f"celery-task-meta-{task_id}")
    assert (watched.state, watched.result) == ("SUCCESS", {"total": 3, "lines": 2})  # cached
    assert result_backend.app.AsyncResult(task_id).state == "PENDING"  # a fresh object reads
