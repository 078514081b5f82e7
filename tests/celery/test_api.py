"""examples/celery/api.py through TestClient, against the real worker, Redis and SMTP server.

Bad input (422, 413, 4xx for paths and images) has its own file: test_api_bad_input.py.
"""

import uuid

import pytest
from PIL import Image

from support.task_api import poll_status


def address() -> str:
    return f"api-{uuid.uuid4().hex[:8]}@example.com"


def test_health(client):
    response = client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_send_email_is_queued_and_succeeds(client, stack):
    to = address()
    response = client.post("/send-email", json={"to": to, "subject": "Hello", "body": "Hi!"})
    assert response.status_code == 202
    queued = response.json()
    assert queued["status_url"] == f"/task/{queued['task_id']}"
    status = poll_status(client, queued["status_url"], "SUCCESS")
    [mail] = stack.smtp.wait_for(to)
    assert status == {
        "task_id": queued["task_id"],
        "status": "SUCCESS",
        "result": {"status": "sent", "to": to, "message_id": mail["Message-ID"]},
        "error": None,
        "note": None,
    }
    assert (mail["Subject"], mail.get_content().strip()) == ("Hello", "Hi!")


def test_a_failed_task_shows_its_error_not_an_empty_object(client, stack):
    to = address()
    with stack.smtp.refusing() as refused:
        task_id = client.post("/send-email", json={"to": to, "subject": "s", "body": "b"}
                              ).json()["task_id"]
        status = poll_status(client, f"/task/{task_id}", "FAILURE")
    assert refused() == 4  # the task's own retries ran first
    assert status["error"] == "SMTPDataError: (451, b'4.3.0 try again later')"
    assert status["result"] is None


def test_an_unknown_id_is_pending_and_says_what_that_means(client):
    task_id = str(uuid.uuid4())
    status = client.get(f"/task/{task_id}").json()
    assert status["status"] == "PENDING"
    assert status["note"].startswith("PENDING means unknown to the backend")
    assert (status["result"], status["error"]) == (None, None)


def test_process_image_is_queued_and_resized(client, stack):
    name = f"api-{uuid.uuid4().hex[:8]}.png"
    Image.new("RGB", (1000, 500), "teal").save(stack.media / name)
    response = client.post("/process-image", json={"name": name, "width": 200})
    assert response.status_code == 202
    status = poll_status(client, response.json()["status_url"], "SUCCESS")
    assert status["result"] == {"output": f"resized/{name}", "size": [200, 100]}
    with Image.open(stack.media / "resized" / name) as img:
        assert img.size == (200, 100)


def test_an_invalid_email_is_a_422(client):
    response = client.post("/send-email", json={"to": "not-an-address", "subject": "s",
                                                "body": "b"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "to"]
    assert "not a valid email address" in error["msg"]


def test_path_traversal_is_refused(client):
    response = client.post("/process-image", json={"name": "../../etc/passwd"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["loc"], error["type"]) == (["body", "name"], "string_pattern_mismatch")


@pytest.fixture(scope="module")
def slow_retry(stack, own_stack):
    """A second worker, with send_email's own 60 s between retries, so RETRY can be read.

    Its broker is private (no other worker takes its messages); its results go to
    the session's backend, which the API reads.
    """
    own_stack.worker("celery_app", "-Q", "emails", "--pool=solo",
                     env={"CELERY_RESULT_BACKEND": stack.redis.url(1)})
    return own_stack.client()


@pytest.mark.slow
def test_a_retrying_task_shows_the_last_error(client, stack, slow_retry):
    import celery_app

    assert celery_app.send_email.default_retry_delay == 60
    to = address()
    with stack.smtp.refusing(1) as refused:
        sent = slow_retry.send_task("celery_app.send_email", (to, "s", "b"), queue="emails")
        status = poll_status(client, f"/task/{sent.id}", "RETRY")
    assert refused() == 1
    assert status["error"] == "SMTPDataError: (451, b'4.3.0 try again later')"
    assert status["result"] is None
    assert stack.smtp.to(to) == []  # the next run is 60 s away
