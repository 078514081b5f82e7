"""examples/celery/signup_background.py: the API process sends the welcome mail, after the
response."""

import time
import uuid

import httpx
import pytest
import users

from support.broker_watch import NothingPublished


def address() -> str:
    return f"bg-{uuid.uuid4().hex[:8]}@example.com"


def test_signup_creates_the_user_and_mails_without_the_broker(client, stack):
    to = address()
    with NothingPublished(stack.redis.client(0)):
        response = client.post("/q27/background/signup", json={"email": to})
    assert (response.status_code, response.json()) == (201, {"message": "User created"})
    assert users.USERS[to]["email"] == to
    # TestClient runs the background task before it returns, so the mail is already here.
    [mail] = stack.smtp.to(to)
    assert (mail["Subject"], mail.get_content().strip()) == ("Welcome!", "Thanks for signing up.")


@pytest.mark.slow
def test_over_http_the_response_comes_first_and_the_mail_after(stack):
    work = 1.0  # the example's SLOW_WORK_SECONDS, shortened
    server = stack.uvicorn("api:app", settings={"signup_background.SLOW_WORK_SECONDS": work})
    try:
        to = address()
        with NothingPublished(stack.redis.client(0)):
            start = time.monotonic()
            response = httpx.post(f"{server.url}/q27/background/signup", json={"email": to},
                                  timeout=10)
            answered = time.monotonic() - start
            assert response.status_code == 201
            assert stack.smtp.to(to) == []  # the client has its answer; the mail is not sent yet
            stack.smtp.wait_for(to, timeout=10)
            mailed = time.monotonic() - start
    finally:
        stack.stop(server)
    assert mailed - answered >= work - 0.1  # the slow work ran after the response
