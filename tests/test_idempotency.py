"""examples/idempotency.py: an idempotency key makes a redelivered task a no-op.

The redelivery is real: acks late + reject-on-worker-lost (celeryconfig.py), and
`kill -9` of the pool child right after the side effect, before the ack.
"""

import os
import signal

import pytest

from support.demo_stack import DemoStack
from support.redis_server import RedisServer
from support.waiting import wait_until

PAUSE = 1.5  # seconds the task lingers after its effect: the window the test crashes it in


def test_once_claims_a_key_exactly_once(tmp_path, monkeypatch):
    import idempotency

    redis = RedisServer(tmp_path).start()
    monkeypatch.setenv("CELERY_RESULT_BACKEND", redis.url(1))
    idempotency._redis.cache_clear()
    try:
        assert idempotency.once("demo", ttl=60) is True
        assert idempotency.once("demo", ttl=60) is False
        assert 0 < redis.client(1).ttl("once:demo") <= 60
        idempotency.forget("demo")
        assert idempotency.once("demo", ttl=60) is True
    finally:
        idempotency._redis.cache_clear()
        redis.stop()


def crash_after_effect(stack, task: str, order_id: int) -> tuple[str, list[bytes], int]:
    """Send one charge, kill -9 the pool child once the effect is done.

    Returns the final result, the ledger, and how many times the message was received.
    """
    (worker,) = stack.procs
    r = stack.redis.client(1)
    result = stack.client.send_task(f"idempotency.{task}", args=[order_id, 500])
    wait_until(lambda: r.llen(f"ledger:{order_id}") == 1, 10, "the first run's effect")
    (child,) = worker.children()
    os.kill(child, signal.SIGKILL)  # the pool child dies before the ack
    value = result.get(timeout=PAUSE + 10)
    return value, r.lrange(f"ledger:{order_id}", 0, -1), worker.log.count(f"[{result.id}] received")


@pytest.mark.slow
def test_redelivered_charge_is_a_no_op(tmp_path):
    stack = DemoStack(tmp_path)
    try:
        stack.worker("idempotency", "--pool=prefork", "-c", "1", CHARGE_PAUSE=str(PAUSE))

        value, ledger, received = crash_after_effect(stack, "charge", 1)
        assert received == 2  # delivered again after the crash…
        assert value == "already charged: skipped"  # …ran again…
        assert ledger == [b"500"]  # …and charged once

        value, ledger, received = crash_after_effect(stack, "charge_naive", 2)
        assert received == 2
        assert value == "charged"
        assert ledger == [b"500", b"500"]  # without the key: charged twice
    finally:
        stack.close()
