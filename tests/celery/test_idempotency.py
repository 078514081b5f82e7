"""examples/celery/idempotency.py: an idempotency key makes a redelivered task a no-op.

The redelivery is real: acks late + reject-on-worker-lost (celeryconfig.py), and
`kill -9` of the pool child right after the side effect, before the ack. The worker's
tasks linger PAUSE seconds after their body (support.launch's pause_after_run), which
gives the test that window; the example itself has no pause.
"""

import os
import signal

import pytest

from support.waiting import wait_until

PAUSE = 2  # seconds a task lingers after its effect: the window the test crashes it in
SETTINGS = {"pause_after_run": {"idempotency.charge": PAUSE, "idempotency.charge_naive": PAUSE}}


def test_once_claims_a_key_exactly_once(make_stack, monkeypatch):
    import idempotency

    redis = make_stack().redis
    monkeypatch.setenv("CELERY_RESULT_BACKEND", redis.url(1))
    idempotency._redis.cache_clear()
    try:
        assert idempotency.once("demo", ttl=60) is True
        assert idempotency.once("demo", ttl=60) is False
        assert 0 < redis.client(1).ttl("once:demo") <= 60
        idempotency.forget("demo")
        assert idempotency.once("demo", ttl=60) is True
        # The task body, called directly: a resend of the same order is skipped.
        assert idempotency.charge(3, 500) == "charged"
        assert idempotency.charge(3, 500) == "already charged: skipped"
        assert redis.client(1).lrange("ledger:3", 0, -1) == [b"500"]
    finally:
        idempotency._redis.cache_clear()


@pytest.mark.slow
def test_redelivered_charge_is_a_no_op(make_stack):
    """Both tasks run side by side; both pool children are killed after the effect."""
    stack = make_stack()
    worker = stack.worker("idempotency", "--pool=prefork", "-c", "2", settings=SETTINGS)
    client, ledger = stack.client(), stack.redis.client(1)
    keyed = client.send_task("idempotency.charge", [1, 500])
    naive = client.send_task("idempotency.charge_naive", [2, 500])
    wait_until(lambda: ledger.llen("ledger:1") == ledger.llen("ledger:2") == 1, 10,
               "both first runs' effects")
    children = worker.children()
    assert len(children) == 2
    for child in children:
        os.kill(child, signal.SIGKILL)  # each pool child dies before its ack

    assert keyed.get(timeout=PAUSE + 10) == "already charged: skipped"  # ran again…
    assert ledger.lrange("ledger:1", 0, -1) == [b"500"]  # …and charged once
    assert naive.get(timeout=PAUSE + 10) == "charged"
    assert ledger.lrange("ledger:2", 0, -1) == [b"500", b"500"]  # without the key: twice
    for result in (keyed, naive):
        assert worker.log.count(f"[{result.id}] received") == 2  # delivered again


@pytest.mark.slow
def test_the_same_order_resent_under_a_new_task_id_is_charged_once(make_stack):
    """A client's resend: the same order in two messages, two task ids, run by a real worker.
    The key is the order, so the second run is skipped; a key on the task id would not be."""
    stack = make_stack()
    stack.worker("idempotency", "--pool=solo")
    client, ledger = stack.client(), stack.redis.client(1)
    first = client.send_task("idempotency.charge", [7, 900])
    assert first.get(timeout=15) == "charged"
    resent = client.send_task("idempotency.charge", [7, 900])
    assert resent.id != first.id
    assert resent.get(timeout=15) == "already charged: skipped"
    assert ledger.lrange("ledger:7", 0, -1) == [b"900"]
