"""examples/celery/choosing.py: an audit line through BackgroundTasks, an order mail through
Celery."""

import logging
import re
import uuid

from support.broker_watch import NothingPublished


def test_action_logs_in_the_background(client, stack, caplog):
    with caplog.at_level(logging.INFO, logger="audit"), NothingPublished(stack.redis.client(0)):
        response = client.post("/q27/choosing/action")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert [(r.name, r.getMessage()) for r in caplog.records] == [("audit", "action: user_action")]


def test_order_confirmation_arrives_through_the_worker(client, stack):
    to = f"order-{uuid.uuid4().hex[:8]}@example.com"
    response = client.post("/q27/choosing/order", json={"id": 7, "email": to})
    assert (response.status_code, response.json()) == (202, {"order_id": 7})
    [mail] = stack.smtp.wait_for(to)
    assert (mail["Subject"], mail.get_content().strip()) == ("Order 7 confirmed",
                                                             "Thank you for your order.")


def test_order_confirmation_is_retried_by_autoretry_for(client, stack, worker):
    to = f"order-{uuid.uuid4().hex[:8]}@example.com"
    start = len(worker.log)
    with stack.smtp.refusing(1) as refused:
        assert client.post("/q27/choosing/order", json={"id": 8, "email": to}).status_code == 202
        [mail] = stack.smtp.wait_for(to)  # retry_backoff: the first retry is 0 to 1 s away
    assert refused() == 1
    assert mail["Subject"] == "Order 8 confirmed"
    # No try/except in the task: autoretry_for caught the SMTP error and retried.
    assert re.search(r"choosing\.send_order_confirmation\[[\w-]+\] retry: Retry in \d+s: "
                     r"SMTPDataError\(451", worker.log[start:])
