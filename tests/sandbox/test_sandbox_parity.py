"""Parity: docker-compose.yml's Python services, started natively from their own commands.

`support.sandbox.NativeStack` reads each service's `command`, `environment` and
`healthcheck` from `docker compose config` and runs them from examples/, mapping only
what Docker would provide (hostnames, volumes, published ports: see its docstring).
Readiness is each service's own compose healthcheck, run natively. Then the test walks the
sandbox tour of docs/sandbox.md. Every event is printed with its time: run with `-s`.
"""

import os
import re
import time

import httpx
import pytest

from support.sandbox import ENV_EXAMPLE, Clock, native_stack
from support.task_api import poll_status
from support.waiting import wait_until

# No example code runs in this process.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("untraced_module")]


def env_file(path) -> dict[str, str]:
    """KEY=value lines, as Compose reads an env_file (comments and blanks skipped)."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("sandbox-parity")
    clock = Clock("parity: the compose file's services, run natively")
    # Beat's interval is shortened the way a reader does it: through the environment
    # that the compose file interpolates, never by editing a command.
    with native_stack(workdir, clock, CLEANUP_EVERY_SECONDS="1") as native:
        yield native


def test_compose_services_run_natively_and_walk_the_tour(stack):
    clock = stack.clock
    services = stack.python_services()
    assert sorted(services) == ["api", "beat", "flower", "worker"]
    beat_env = stack.services["beat"]["environment"]
    assert beat_env["CLEANUP_EVERY_SECONDS"] == "1", "compose must pass the variable through"

    media = stack.volumes[stack.services["api"]["environment"]["MEDIA_DIR"]]
    old = media / "old-upload.jpg"
    old.write_bytes(b"stale")
    forty_days_ago = time.time() - 40 * 86400
    os.utime(old, (forty_days_ago, forty_days_ago))

    # The exact compose commands: word for word, but for a port or a volume path.
    for name in services:
        declared, native = stack.services[name]["command"], stack.argv(name)
        assert len(declared) == len(native)
        changed = [(a, b) for a, b in zip(declared, native, strict=True) if a != b]
        for declared_word, native_word in changed:
            port = str(stack.container_port(name))
            assert (declared_word in (port, f"--port={port}")
                    and native_word.endswith(str(stack.native_port(name)))) or any(
                declared_word.startswith(target + "/") for target in stack.volumes)
        clock(f"{name}: the compose command, rewritten only at {changed or 'no word'}")
    stack.start(*services)
    health = stack.wait_all_healthy(*services)

    # 1. The worker answers ping, on the node name its healthcheck builds from $HOSTNAME.
    ping = health["worker"]
    assert f"celery@{stack.hostname}: OK" in ping.stdout and "pong" in ping.stdout
    worker_log = stack.procs["worker"].log
    for queue in ("celery", "emails", "images"):
        assert re.search(rf"\.> {queue} +exchange=", worker_log), f"no {queue!r} in the banner"
    clock("step passed: the worker answers ping and consumes celery, emails, images")

    # 2. Beat sends the cleanup, the worker runs it, and the old file is gone.
    stack.procs["beat"].wait_for_log(
        r"Sending due task cleanup-every-night \(celery_app\.cleanup_old_files\)")
    stack.procs["worker"].wait_for_log(
        r"Task celery_app\.cleanup_old_files\[[-0-9a-f]+\] succeeded")
    wait_until(lambda: not old.exists(), 15, "the cleanup to delete the 40-day-old file")
    assert (media / "sample.jpg").exists(), "a fresh sample must survive the cleanup"
    assert f"celerybeat@{stack.hostname}: OK" in health["beat"].stdout
    clock("step passed: beat sent cleanup_old_files, the worker deleted the 40-day-old file")

    with httpx.Client(timeout=10) as http, httpx.Client(base_url=stack.url("api"),
                                                           timeout=10) as api:
        # 3. The API answers /health.
        health = api.get("/health")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        clock("step passed: api GET /health -> 200 {'status': 'ok'}")

        # Flower hears task events over Redis pub/sub, only from when its event thread has
        # subscribed, which can be after /healthcheck answers. Beat sends a cleanup every
        # second: once Flower lists one, the mail's events below can't be missed.
        user, _, password = env_file(ENV_EXAMPLE)["FLOWER_BASIC_AUTH"].partition(":")
        auth = httpx.BasicAuth(user, password)
        wait_until(lambda: any(
            t["name"] == "celery_app.cleanup_old_files" for t in http.get(
                stack.url("flower", "/api/tasks"), auth=auth).json().values()),
            20, "flower to list a cleanup (it hears the events)")

        # 4. POST /send-email: the worker delivers the mail over SMTP.
        mail = {"to": "reader@example.com", "subject": "Parity", "body": "Sent natively."}
        queued = api.post("/send-email", json=mail)
        assert queued.status_code == 202, queued.text
        task_id = queued.json()["task_id"]
        [message] = stack.smtp.wait_for("reader@example.com", timeout=20)
        assert message["Subject"] == "Parity"
        assert message.get_content().strip() == "Sent natively."
        status = poll_status(api, queued.json()["status_url"], "SUCCESS", "FAILURE")
        assert (status["status"], status["result"]["status"]) == ("SUCCESS", "sent")
        clock(f"step passed: POST /send-email -> 202, the mail arrived, task {task_id} SUCCESS")

        # 5. POST /process-image on a sample the media volume starts with.
        queued = api.post("/process-image", json={"name": "sample.jpg", "width": 400})
        assert queued.status_code == 202, queued.text
        status = poll_status(api, queued.json()["status_url"], "SUCCESS", "FAILURE")
        assert status["status"] == "SUCCESS", status
        assert status["result"] == {"output": "resized/sample.jpg", "size": [400, 267]}
        assert (media / "resized" / "sample.jpg").is_file()
        clock("step passed: POST /process-image -> resized/sample.jpg, 400x267")

        # 6. Flower: /healthcheck is open, the API needs the login from .env.example.
        check = http.get(stack.url("flower", "/healthcheck"))
        assert (check.status_code, check.text) == (200, "OK")
        assert http.get(stack.url("flower", "/api/workers")).status_code == 401
        assert stack.services["flower"]["environment"]["FLOWER_BASIC_AUTH"] == f"{user}:{password}"
        workers = wait_until(
            lambda: f"celery@{stack.hostname}" in (r := http.get(
                stack.url("flower", "/api/workers?refresh=1"), auth=auth)).json() and r.json(),
            20, "flower to list the worker")
        assert "emails" in {q["name"] for q in workers[f"celery@{stack.hostname}"]["active_queues"]}
        tasks = wait_until(
            lambda: task_id in (r := http.get(stack.url("flower", "/api/tasks"), auth=auth)
                                ).json() and r.json(),
            20, "flower to have seen the send_email task (worker -E)")
        assert tasks[task_id]["name"] == "celery_app.send_email"
        clock(f"step passed: flower /healthcheck OK, 401 without login, lists celery@"
              f"{stack.hostname} and task {task_id}")
