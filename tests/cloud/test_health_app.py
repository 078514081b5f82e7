"""Q51: readiness behind a real HAProxy (an instance leaves the rotation while PostgreSQL is
down and comes back, never restarted), and SIGTERM against SIGKILL with requests in flight."""

import os
import signal
import threading
import time

import pytest

from support.haproxy import HAProxy
from support.includes import write_observed
from support.load import request
from support.postgres import halt, resume
from support.waiting import wait_until

IN_FLIGHT, REPORT_SECONDS = 8, 2
OBSERVED: dict[str, str] = {}
ROWS = ["rotation", "SIGTERM", "SIGKILL"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    write_observed("q51-observed.md", ROWS, OBSERVED)


def test_readiness_takes_instances_out_and_back_without_a_restart(instances, own_postgres):
    url = own_postgres.url(driver="postgresql")
    a = instances("health_app:app", DATABASE_URL=url)
    b = instances("health_app:app", DATABASE_URL=url)
    pids = (a.proc.pid, b.proc.pid)
    with HAProxy([a.port, b.port], check="/readyz", inter=0.2, fall=2, rise=2) as lb:
        lb.wait_for("s1", "UP")
        lb.wait_for("s2", "UP")
        assert request(f"{lb.url}/livez")[0] == 200
        halt(own_postgres)
        try:
            lb.wait_for("s1", "DOWN")
            lb.wait_for("s2", "DOWN")
            t0 = time.monotonic()
            status, _ = request(f"{lb.url}/livez")
            refused_in = time.monotonic() - t0
            # Out of rotation, not dead: each still answers its liveness probe directly.
            alive = [request(f"{p.url}/livez")[0] for p in (a, b)]
        finally:
            resume(own_postgres)
        lb.wait_for("s1", "UP")
        lb.wait_for("s2", "UP")
        back = request(f"{lb.url}/livez")[0]
    assert status == 503 and refused_in < 2, (status, refused_in)
    assert alive == [200, 200]
    assert back == 200
    assert (a.proc.pid, b.proc.pid) == pids and a.proc.poll() is None and b.proc.poll() is None
    OBSERVED["rotation"] = (
        "| PostgreSQL stopped, HAProxy checking `/readyz` of two instances | both DOWN; "
        f"HAProxy answered {status} in under 2 s; `/livez` of each: {alive}; PostgreSQL back: "
        f"both UP, answer {back}, same PIDs, 0 restarts |")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_requests_in_flight_when_the_instance_is_stopped(sig, instances, own_postgres):
    app = instances("health_app:app", DATABASE_URL=own_postgres.url(driver="postgresql"))
    results: list[object] = []
    lock = threading.Lock()

    def one():
        try:
            outcome = request(f"{app.url}/report?seconds={REPORT_SECONDS}", timeout=30)[0]
        except OSError as exc:
            outcome = type(exc).__name__
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=one) for _ in range(IN_FLIGHT)]
    for t in threads:
        t.start()
    wait_until(lambda: app.log.count("report started") == IN_FLIGHT, 20, "reports in flight")
    os.killpg(app.proc.pid, sig)
    for t in threads:
        t.join(60)
    app.proc.wait(30)
    completed = results.count(200)
    if sig == signal.SIGTERM:
        assert completed == IN_FLIGHT, results
    else:
        assert completed == 0 and len(results) == IN_FLIGHT, results
    OBSERVED[sig.name] = (f"| {IN_FLIGHT} requests of {REPORT_SECONDS} s in flight, then "
                          f"{sig.name} to uvicorn | {completed} completed, "
                          f"{IN_FLIGHT - completed} lost |")


def test_a_report_answers_once_its_work_is_done():
    import health_app
    from fastapi.testclient import TestClient

    with TestClient(health_app.app) as client:
        answer = client.get("/report", params={"seconds": 0.01})
    assert (answer.status_code, answer.json()) == (200, {"status": "done"})
