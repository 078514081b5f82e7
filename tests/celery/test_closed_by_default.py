"""Closed by default: Flower asks for a password, and the worker reads JSON only.

Both settings live in the examples (celeryconfig.py's serialization section,
the Flower command on the pages); these tests attack them with real processes.
"""

import inspect
import pathlib
import uuid

import httpx
import pytest
from kombu.exceptions import ContentDisallowed
from kombu.serialization import dumps, loads

from support.proofs import never
from support.waiting import free_port


@pytest.fixture
def flower(stack):
    port = free_port()
    proc = stack.start("celery", ["-A", "celery_app", "flower", "--address=127.0.0.1",
                                  f"--port={port}", "--basic-auth=admin:s3cret"], "flower.log",
                       traced=False)  # Flower runs no example code of its own
    try:
        proc.wait_for_log(r"Visit me at http", timeout=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        stack.stop(proc)


@pytest.mark.slow
def test_flower_answers_401_without_the_password(flower):
    with httpx.Client(base_url=flower, timeout=10) as http:
        for path in ("/", "/tasks", "/api/workers", "/api/tasks"):
            assert http.get(path).status_code == 401, path
        assert http.get("/").headers["www-authenticate"] == 'Basic realm="flower"'
        assert http.get("/", auth=("admin", "wrong")).status_code == 401
        assert http.get("/", auth=("admin", "s3cret")).status_code == 200
        assert http.get("/api/workers", auth=("admin", "s3cret")).status_code == 200
        # Not everything is behind the password: the health check and the Prometheus
        # metrics (worker and task names, counts) answer anyone who can reach the port.
        assert http.get("/healthcheck").status_code == 200
        assert http.get("/metrics").status_code == 200


class Payload:
    """Unpickling this calls Path.touch(marker): code run by whoever decodes the message."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (self.marker,)


def test_the_worker_refuses_a_pickled_message(worker, stack, tmp_path):
    from celery_app import app as celery

    marker = tmp_path / "pickle-ran"
    to = f"pickle-{uuid.uuid4().hex[:8]}@example.com"
    # A producer that is not ours: same broker, same task name, pickle on the wire.
    task_id = celery.send_task("celery_app.send_email", args=[to, Payload(marker), "body"],
                               serializer="pickle").id
    # The log names no task id (the worker never read the body), but dumps the raw
    # body: the pickle bytes, with our recipient's address in clear.
    worker.wait_for_log(
        r"Received invalid task message: Refusing to deserialize untrusted content of type "
        r"pickle \(application/x-python-serialize\)\nThe message has been ignored and "
        rf"discarded\.[^\[]*{to}",
    )
    never(lambda: marker.exists() or stack.smtp.to(to), 1.0, "the pickled task running")
    assert celery.backend.get_task_meta(task_id)["status"] == "PENDING"  # never ran, no result


def test_accepting_pickle_would_run_the_payload(tmp_path):
    """What the worker refused: the same body, decoded by kombu as the worker decodes it."""
    marker = tmp_path / "pickle-ran"
    content_type, encoding, body = dumps([["x", Payload(marker), "b"], {}, {}], "pickle")
    with pytest.raises(ContentDisallowed):
        loads(body, content_type, encoding, accept=["application/json"])  # accept_content
    assert not marker.exists()
    loads(body, content_type, encoding, accept=[content_type])  # accept_content=["pickle"]
    assert marker.exists()  # decoding alone ran the payload's code


def test_what_listens_where_by_default():
    """uvicorn binds 127.0.0.1 unless told otherwise; Flower binds every interface."""
    import uvicorn
    from flower.options import options

    assert inspect.signature(uvicorn.Config).parameters["host"].default == "127.0.0.1"
    assert options.address == ""  # "" is every interface: give Flower --address=127.0.0.1
    assert options.port == 5555
