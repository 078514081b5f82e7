"""Q27, Monitoring: `celery inspect` and Flower's HTTP API see the task that is running.

A long build_report runs in a real worker (prefork, -E); the test asks the
worker about it through the real CLI and through a real Flower, then
terminates it, so nothing waits for it to finish.
"""

import httpx
import pytest

from support.proofs import together
from support.waiting import free_port, wait_until

pytestmark = pytest.mark.slow
LONG = 60  # far longer than the test: the task is terminated, never awaited


@pytest.fixture(scope="module")
def started(own_stack):
    """`celery -A monitoring worker -c 2 -E` and `celery -A monitoring flower`, side by side.

    Two children: one runs the long task and is terminated, the other runs the
    short ones and survives (so coverage keeps what it ran).
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    flower = own_stack.start("celery", ["-A", "monitoring", "flower", "--address=127.0.0.1",
                                        f"--port={port}"], "flower.log",
                             env={"FLOWER_UNAUTHENTICATED_API": "true"},  # else 401s
                             traced=False)  # Flower runs no example code of its own

    def healthy():
        flower.wait_for_log(r"", timeout=0)  # fails at once if Flower exited
        try:
            return httpx.get(f"{url}/healthcheck", timeout=2).text == "OK"
        except httpx.TransportError:
            return False

    worker, _ = together(
        lambda: own_stack.worker("monitoring", "-c", "2", "-E", name="reports"),
        lambda: wait_until(healthy, 20, "Flower's /healthcheck"),
    )
    node = worker.wait_for_log(r"(reports@\S+) ready\.")[1]
    yield node, url
    own_stack.stop(worker, flower)


def test_inspect_and_flower_list_the_running_task(started, own_stack):
    import monitoring

    own_stack.bind(monitoring.app)
    node, flower = started
    # Short runs first: once Flower lists one, it is receiving the worker's events. On Redis
    # events travel by pub/sub, so those sent before Flower subscribed are gone for good, and
    # /healthcheck answers before it has, so a single short run may never show up.
    shorts = []

    def flower_lists_a_short_run() -> bool:
        shorts.append(monitoring.build_report.delay(0))
        assert shorts[-1].get(timeout=20) == "report built in 0 s"
        return any(httpx.get(f"{flower}/api/task/info/{r.id}").status_code == 200
                   for r in shorts)

    wait_until(flower_lists_a_short_run, 20, "Flower to list a short run")
    print(f"\nFlower listed a short run after {len(shorts)} sent")

    result = monitoring.build_report.delay(LONG)
    try:
        wait_until(lambda: result.state == "STARTED", 20, "build_report STARTED")
        def inspect(what: str):
            return own_stack.celery_json("-A", "monitoring", "inspect", what, "-d", node,
                                         "-t", "10")

        active, stats = together(lambda: inspect("active"), lambda: inspect("stats"))
        in_flower = wait_until(lambda: httpx.get(f"{flower}/api/tasks?state=STARTED").json(),
                               20, "a STARTED task in Flower")
    finally:
        monitoring.app.control.revoke(result.id, terminate=True)
        wait_until(lambda: result.state == "REVOKED", 20, "build_report REVOKED")

    # celery inspect active: exactly this task, in one of the two children.
    [task] = active[node]
    assert (task["id"], task["name"], task["args"]) == (result.id, "monitoring.build_report",
                                                        [LONG])
    assert task["acknowledged"] is False  # acks late: the message is still unacked
    pool = stats[node]["pool"]
    assert pool["max-concurrency"] == 2
    assert task["worker_pid"] in pool["processes"]
    assert stats[node]["total"] == {"monitoring.build_report": len(shorts) + 1}  # and this one
    # Flower's API: the same task, STARTED, on the same node.
    assert list(in_flower) == [result.id]
    assert in_flower[result.id]["name"] == "monitoring.build_report"
    assert in_flower[result.id]["state"] == "STARTED"
    assert in_flower[result.id]["args"] == f"({LONG},)"
    assert in_flower[result.id]["worker"] == node
    # The other child is still there: the worker goes on after a terminate.
    assert monitoring.build_report.delay(0).get(timeout=20) == "report built in 0 s"
