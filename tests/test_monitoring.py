"""Q27, Monitoring: `celery inspect` and Flower's HTTP API see the task that is running.

A long build_report runs in a real worker (prefork, one child, -E); the
test asks the worker about it through the real CLI and through a real Flower,
then terminates it, so nothing waits for it to finish.
"""

import httpx
import pytest

from support import celery_procs
from support.proofs import celery_json, own_broker
from support.redis_server import RedisServer
from support.waiting import free_port, wait_until

pytestmark = pytest.mark.slow
LONG = 60  # far longer than the test: the task is terminated, never awaited


@pytest.fixture(scope="module")
def env(example_env, tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("monitoring-redis")).start()
    # Flower's API answers 401 without this (or basic auth).
    with own_broker(example_env, server, FLOWER_UNAUTHENTICATED_API="true") as env:
        yield env
    server.stop()


@pytest.fixture(scope="module")
def monitoring(env):
    import monitoring

    return monitoring


@pytest.fixture(scope="module")
def node(env, tmp_path_factory) -> str:
    """`celery -A monitoring worker -c 1 -E`; returns its node name."""
    log = tmp_path_factory.mktemp("monitoring-logs") / "worker.log"
    proc = celery_procs.worker(env, log, "-c", "1", "-E", app="monitoring", name="reports")
    name = proc.wait_for_log(r"(reports@\S+) ready\.")[1]
    yield name
    proc.stop()


@pytest.fixture(scope="module")
def flower(env, node, tmp_path_factory) -> str:
    """`celery -A monitoring flower` on a free port; returns its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("flower-logs") / "flower.log"
    argv = [celery_procs.CELERY, "-A", "monitoring", "flower",
            "--address=127.0.0.1", f"--port={port}"]
    proc = celery_procs.Proc(argv, env, log).start()
    url = f"http://127.0.0.1:{port}"

    def healthy():
        proc.wait_for_log(r"", timeout=0)  # fails at once if Flower exited
        try:
            return httpx.get(f"{url}/healthcheck", timeout=2).text == "OK"
        except httpx.TransportError:
            return False

    wait_until(healthy, 20, "Flower's /healthcheck")
    yield url
    proc.stop()


def running(monitoring, seconds: float = LONG):
    """Start build_report and wait until the worker reports it STARTED."""
    result = monitoring.build_report.delay(seconds)
    wait_until(lambda: result.state == "STARTED", 20, "build_report STARTED")
    return result


def terminate(monitoring, result) -> None:
    monitoring.app.control.revoke(result.id, terminate=True)
    wait_until(lambda: result.state == "REVOKED", 20, "build_report REVOKED")


def test_inspect_active_and_stats_show_the_running_task(monitoring, env, node):
    result = running(monitoring)
    try:
        active = celery_json(env, "monitoring", "inspect", "active", "-d", node, "-t", "10")
        stats = celery_json(env, "monitoring", "inspect", "stats", "-d", node, "-t", "10")
    finally:
        terminate(monitoring, result)

    [task] = active[node]
    assert (task["id"], task["name"], task["args"]) == (result.id, "monitoring.build_report",
                                                        [LONG])
    assert task["acknowledged"] is False  # acks late: the message is still unacked
    pool = stats[node]["pool"]
    assert pool["max-concurrency"] == 1
    assert pool["processes"] == [task["worker_pid"]]  # the one child, running it
    assert stats[node]["total"]["monitoring.build_report"] >= 1
    assert stats[node]["prefetch_count"] == 1


def test_flower_api_lists_the_running_task(monitoring, flower):
    # A short run first: once Flower lists it, Flower is receiving the events.
    done = monitoring.build_report.delay(0)
    assert done.get(timeout=20) == "report built in 0 s"
    wait_until(lambda: httpx.get(f"{flower}/api/task/info/{done.id}").status_code == 200,
               20, "Flower to see the short task")

    result = running(monitoring)
    try:
        info = wait_until(lambda: httpx.get(f"{flower}/api/tasks?state=STARTED").json(),
                          20, "a STARTED task in Flower")
    finally:
        terminate(monitoring, result)

    assert list(info) == [result.id]
    assert info[result.id]["name"] == "monitoring.build_report"
    assert info[result.id]["state"] == "STARTED"
    assert info[result.id]["args"] == f"({LONG},)"
    assert info[result.id]["worker"].startswith("reports@")
