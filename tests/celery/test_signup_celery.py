"""examples/celery/signup_celery.py: the welcome mail becomes a task, and the worker sends it."""

import uuid

import users

from support.broker_watch import lpush_calls


def test_signup_queues_the_mail_and_the_worker_sends_it(client, stack, worker):
    from signup_celery import send_welcome_email

    to = f"celery-{uuid.uuid4().hex[:8]}@example.com"
    published = lpush_calls(stack.redis.client(0))
    response = client.post("/q27/celery/signup", json={"email": to})
    assert response.status_code == 201
    body = response.json()
    assert body["message"] == "User created"
    assert lpush_calls(stack.redis.client(0)) == published + 1  # one message, to the broker
    assert users.USERS[to]["email"] == to
    message_id = send_welcome_email.AsyncResult(body["task_id"]).get(timeout=30)
    [mail] = stack.smtp.wait_for(to)
    assert mail["Message-ID"] == message_id  # sent by the worker's run of this task
    assert mail["Subject"] == "Welcome!"
    worker.wait_for_log(rf"signup_celery\.send_welcome_email\[{body['task_id']}\] succeeded")
