"""examples/celery/quorum_reminders.py: a countdown on a quorum queue waits in RabbitMQ.

The module's own stack (its Redis keeps the results) and its private RabbitMQ node
(Stack.rabbitmq(), the Debian package's version); one real worker of the example app.
"""

import re
from datetime import datetime

import pytest
from kombu import Connection

from support.waiting import wait_until

pytestmark = pytest.mark.slow
COUNTDOWN = 6.0


@pytest.fixture(scope="module")
def rabbit(own_stack):
    return own_stack.rabbitmq()


@pytest.fixture(scope="module")
def reminders(own_stack, rabbit):
    """The example app, the client side bound to this node and the module's Redis."""
    import quorum_reminders

    from support.stack import bind

    bind(quorum_reminders.app, rabbit.url(), own_stack.redis.url(1))
    return quorum_reminders


@pytest.fixture(scope="module")
def worker(own_stack, rabbit, reminders):
    env = {"CELERY_BROKER_URL": rabbit.url(), "CELERY_RESULT_BACKEND": own_stack.redis.url(1)}
    proc = own_stack.worker("quorum_reminders", name="quorum", env=env)
    yield proc
    own_stack.stop(proc)


def delayed(url: str) -> dict[str, int]:
    """The messages waiting in each of the 28 `celery_delayed_<n>` queues, where not none
    (passive declares: quick, and they change nothing)."""
    with Connection(url) as conn:
        counts = {f"celery_delayed_{n}": conn.default_channel.queue_declare(
            f"celery_delayed_{n}", passive=True).message_count for n in range(28)}
    return {name: count for name, count in counts.items() if count}


def test_a_countdown_waits_in_the_broker_not_in_the_worker(reminders, worker, rabbit):
    assert rabbit.queues("arguments")["reminders"]["arguments"].count("quorum") == 1
    sent = datetime.now()
    result = reminders.remind.apply_async((7,), countdown=COUNTDOWN)
    # While it waits, one of the celery_delayed_<n> queues holds it (a TTL, then a
    # dead-letter to the next level down), not the worker. The publish is not confirmed,
    # so the queue may show it a moment after apply_async returns.
    waiting = wait_until(lambda: delayed(rabbit.url()), timeout=COUNTDOWN / 2,
                         what="a delayed queue holding the reminder")
    assert list(waiting.values()) == [1], waiting
    assert result.get(timeout=COUNTDOWN + 30) == "reminded 7"
    # The worker received it once, when it was due: not at once, to hold it until then.
    [stamp] = re.findall(rf"\[([-\d: ,]+): INFO/MainProcess\] Task "
                         rf"quorum_reminders\.remind\[{result.id}\] received", worker.log)
    received = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
    assert (received - sent).total_seconds() >= COUNTDOWN - 1  # whole seconds of TTL
