"""examples/celery/mistake_failure_result.py: the usual status endpoint loses a failed task's
error."""

import smtplib

import pytest
from fastapi.testclient import TestClient
from pydantic_core import PydanticSerializationError


@pytest.fixture(scope="module")
def failed(worker):
    """A real failure: the worker cannot find the image."""
    from celery_app import process_image

    result = process_image.delay("no-such-image.png")
    with pytest.raises(FileNotFoundError):
        result.get(timeout=10)
    return result.id


@pytest.fixture
def mistake(stack):
    import mistake_failure_result

    with TestClient(mistake_failure_result.app, raise_server_exceptions=False) as client:
        yield client


def test_the_error_becomes_an_empty_object(mistake, failed):
    response = mistake.get(f"/task/{failed}")
    assert response.status_code == 200
    assert response.json() == {"task_id": failed, "status": "FAILURE", "result": {}}


def test_with_a_dict_return_type_it_is_a_500(mistake, failed):
    response = mistake.get(f"/typed/task/{failed}")
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    # What the server log shows:
    import mistake_failure_result

    with TestClient(mistake_failure_result.app) as raising, pytest.raises(
            PydanticSerializationError, match="unknown type: <class 'FileNotFoundError'>"):
        raising.get(f"/typed/task/{failed}")


def test_a_success_looks_fine_which_is_why_nobody_notices(mistake, worker):
    from celery_app import cleanup_old_files

    result = cleanup_old_files.delay(36500)
    result.get(timeout=10)
    assert mistake.get(f"/task/{result.id}").json()["result"] == 0
    assert mistake.get(f"/typed/task/{result.id}").json()["status"] == "SUCCESS"


def test_the_fixed_endpoint_says_what_happened(client, failed):
    status = client.get(f"/task/{failed}").json()
    assert (status["status"], status["error"]) == (
        "FAILURE", "FileNotFoundError: [Errno 2] No such file or directory")


def test_an_error_with_attributes_becomes_those_attributes(mistake, worker, stack):
    """The encoder falls back to vars(exc): SMTPDataError keeps its code and text, never
    its type, and an exception without attributes is the `{}` above."""
    from celery_app import send_email

    with stack.smtp.refusing():
        result = send_email.delay("refused@example.com", "Hi", "refused")
        with pytest.raises(smtplib.SMTPDataError):
            result.get(timeout=30)
    response = mistake.get(f"/task/{result.id}")
    assert response.status_code == 200
    assert response.json() == {"task_id": result.id, "status": "FAILURE",
                               "result": {"smtp_code": 451, "smtp_error": "4.3.0 try again later"}}
