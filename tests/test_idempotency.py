"""examples/idempotency.py: an idempotency key makes a redelivered task a no-op.

The redelivery is real: acks late + reject-on-worker-lost (celeryconfig.py), and
`kill -9` of the pool child right after the side effect, before the ack.
"""

import os
import signal

import pytest

from support.demo_stack import DemoStack
from support.waiting import wait_until

pytestmark = pytest.mark.slow

PAUSE = 3  # seconds the task lingers after its effect: the window the test crashes it in


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = DemoStack(tmp_path_factory.mktemp("idempotency"))
    try:
        stack.worker("idempotency", "--pool=prefork", "-c", "1", CHARGE_PAUSE=str(PAUSE))
        yield stack
    finally:
        stack.close()


@pytest.fixture
def idem(stack, monkeypatch):
    """The module in this process, pointed at the stack's Redis."""
    import idempotency

    monkeypatch.setenv("CELERY_RESULT_BACKEND", stack.redis.url(1))
    idempotency._redis.cache_clear()
    yield idempotency
    idempotency._redis.cache_clear()


def test_once_claims_a_key_exactly_once(idem, stack):
    assert idem.once("demo", ttl=60) is True
    assert idem.once("demo", ttl=60) is False
    assert 0 < stack.redis.client(1).ttl("once:demo") <= 60
    idem.forget("demo")
    assert idem.once("demo", ttl=60) is True


def crash_after_effect(stack, task: str, order_id: int) -> tuple[str, list[bytes]]:
    """Send one charge, kill -9 the pool child once the effect is done, return the final result."""
    (worker,) = stack.procs
    r = stack.redis.client(1)
    result = stack.client.send_task(f"idempotency.{task}", args=[order_id, 500])
    wait_until(lambda: r.llen(f"ledger:{order_id}") == 1, 10, "the first run's effect")
    (child,) = worker.children()
    os.kill(child, signal.SIGKILL)  # the pool child dies before the ack
    value = result.get(timeout=PAUSE + 10)
    worker.wait_for_log(r"exited with 'signal 9 \(SIGKILL\)'")
    return value, r.lrange(f"ledger:{order_id}", 0, -1)


def test_redelivered_charge_is_a_no_op(stack):
    value, ledger = crash_after_effect(stack, "charge", 1)
    assert value == "already charged: skipped"  # it ran a second time…
    assert ledger == [b"500"]  # …and charged once


def test_without_the_key_the_redelivery_charges_twice(stack):
    value, ledger = crash_after_effect(stack, "charge_naive", 2)
    assert value == "charged"
    assert ledger == [b"500", b"500"]
