"""Q27, Priority: routes fill their own queues; on Redis, priority 0 runs first.

(test_celeryconfig.py shows the same routes through celery_app's own tasks.)
"""

import json
import re

import pytest

from support.redis_server import RedisServer
from support.waiting import wait_until

pytestmark = pytest.mark.slow
SEP = "\x06\x16"  # kombu's separator: "celery\x06\x163" is the list for priorities 3-5


def queued(redis: RedisServer, db: int, queue: str) -> list[str]:
    """Task names in a Redis list, oldest first."""
    raw = redis.client(db).lrange(queue, 0, -1)
    return [json.loads(m)["headers"]["task"] for m in reversed(raw)]


@pytest.fixture(scope="module")
def priorities(own_stack):
    """The example module, its app bound to this module's Redis."""
    import priorities

    own_stack.bind(priorities.app)
    return priorities


def test_routes_put_each_task_in_its_own_queue(priorities, own_stack):
    # priorities' config is celeryconfig, task_routes included.
    module_redis = own_stack.redis
    # Broker db 2: no worker of this module ever reads it.
    with priorities.app.connection_for_write(module_redis.url(2)) as conn:
        for name, args in [("celery_app.send_email", ["a@example.com", "Hi", "Hello"]),
                           ("celery_app.process_image", ["photo.jpg", 400]),
                           ("celery_app.cleanup_old_files", [])]:
            priorities.app.send_task(name, args, connection=conn, ignore_result=True)

    assert queued(module_redis, 2, "emails") == ["celery_app.send_email"]
    assert queued(module_redis, 2, "images") == ["celery_app.process_image"]
    # No route: the default queue.
    assert queued(module_redis, 2, "celery") == ["celery_app.cleanup_old_files"]


def test_priority_zero_runs_first_on_redis(priorities, own_stack):
    module_redis = own_stack.redis
    sent = {9: "p9", 5: "p5", 0: "p0", None: "none"}  # queued in this order, no worker yet
    for priority, label in sent.items():
        priorities.report.apply_async((label,), priority=priority)
    db = module_redis.client()
    lists = {key.decode(): db.llen(key) for key in db.keys("celery*")}
    assert lists == {"celery": 2, f"celery{SEP}3": 1, f"celery{SEP}9": 1}

    worker = own_stack.worker("priorities", "-c", "1")
    try:
        order = wait_until(lambda: len(ran := re.findall(r": ran (\w+)", worker.log)) == 4 and ran,
                           30, "the four reports")
    finally:
        own_stack.stop(worker)
    assert order == ["p0", "none", "p5", "p9"]
