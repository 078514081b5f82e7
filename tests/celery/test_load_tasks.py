"""examples/celery/load_tasks.py: idempotent jobs through a worker crash, a Redis restart and
10,000 sends.

Each test gets its own redis-server, worker(s) and, where the API matters, a real
uvicorn. Effects are counted in Redis: `runs` counts every execution of a key,
`effects` counts the effect, which idempotency.once must keep at exactly 1.
"""

import http.client
import json
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from support.celery_procs import Proc
from support.stack import Stack
from support.untraced import coverage_paused
from support.waiting import wait_until

pytestmark = pytest.mark.slow


def settings(pause: float) -> dict:
    """The crash demos' worker: a 2 s visibility timeout instead of the app's hour, and each
    job lingering `pause` seconds after its effect, so that crashes find work in flight."""
    return {"load_tasks.celery.conf.broker_transport_options.visibility_timeout": 2,
            "pause_after_run": {"load_tasks.record": pause}}


def counts(stack: Stack, name: str) -> dict[str, int]:
    return {k.decode(): int(v) for k, v in stack.redis.client(1).hgetall(name).items()}


def results(stack: Stack, task_ids: list[str]) -> list[dict | None]:
    metas = stack.redis.client(1).mget([f"celery-task-meta-{t}" for t in task_ids])
    return [json.loads(m) if m else None for m in metas]


def all_done(stack: Stack, keys: list[str]) -> bool:
    return set(counts(stack, "effects")) == set(keys)


def kill_outside_the_claim_window(stack: Stack, worker: Proc) -> None:
    """`kill -9` the worker's whole process group, never between a claim and its effect.

    A kill there (record: once(), then HINCRBY effects) loses that effect: the at-most-once
    case the page describes. Two children run side by side, so a kill timed on the effects
    count alone can land in it (a key claimed, its effect never made). So: freeze the
    group, read Redis, and kill only if every claimed key has its effect; else thaw it.
    """
    store = stack.redis.client(1)

    def frozen_outside_the_window() -> bool:
        os.killpg(worker.proc.pid, signal.SIGSTOP)
        claimed = {k.decode().removeprefix("once:record:") for k in store.keys("once:record:*")}
        if claimed <= set(counts(stack, "effects")):
            return True
        os.killpg(worker.proc.pid, signal.SIGCONT)
        return False

    wait_until(frozen_outside_the_window, 10, "no key claimed without its effect")
    os.killpg(worker.proc.pid, signal.SIGKILL)


def test_a_worker_killed_mid_batch_loses_nothing_and_nothing_happens_twice(make_stack):
    stack = make_stack()
    first = stack.worker("load_tasks", "--pool=prefork", "-c", "2", settings=settings(0.2))
    keys = [f"batch:{i}" for i in range(20)]
    client = stack.client()
    task_ids = [client.send_task("load_tasks.record", [key]).id for key in keys]

    wait_until(lambda: len(counts(stack, "effects")) >= 5, 30, "a quarter of the batch")
    kill_outside_the_claim_window(stack, first)  # the whole worker, children included
    first.stop()
    in_flight = stack.redis.client(0).hlen("unacked")
    assert in_flight >= 1  # delivered, not acknowledged: they wait out the visibility timeout

    stack.worker("load_tasks", "--pool=prefork", "-c", "2", name="w2", settings=settings(0.2))
    wait_until(lambda: all_done(stack, keys), 120, "every key of the batch to take effect")
    wait_until(lambda: all(r and r["status"] == "SUCCESS" for r in results(stack, task_ids)),
               10, "every result")
    assert counts(stack, "effects") == dict.fromkeys(keys, 1)  # each took effect once…
    runs = counts(stack, "runs")
    assert set(runs) == set(keys)
    twice = {k: n for k, n in runs.items() if n > 1}
    print(f"worker killed: {in_flight} message(s) left unacked, ran again: {twice}")
    assert twice  # …though some ran twice


def test_redis_restarted_mid_run_api_and_worker_recover_and_lose_nothing(make_stack):
    stack = make_stack(appendonly=True)
    worker = stack.worker("load_tasks", "--pool=solo", settings=settings(0.1))
    api = stack.uvicorn("load_tasks:api")
    keys = [f"run:{i}" for i in range(40)]
    with httpx.Client(base_url=api.url, timeout=30) as http:

        def send(key: str) -> httpx.Response:
            return http.post("/jobs", json={"key": key})

        task_ids = [send(key).json()["task_id"] for key in keys[:30]]
        wait_until(lambda: len(counts(stack, "effects")) >= 5, 30, "the worker to be busy")
        stack.redis.kill()  # kill -9, with 20-odd messages still queued

        started = time.monotonic()
        assert send("refused").status_code == 503
        assert time.monotonic() - started < 2

        # Redis stays down until the worker has seen it go, as in a real outage: a task
        # finishing in the gap cannot be acked, and comes back.
        wait_until(lambda: "Connection to broker lost" in worker.log, 10,
                   "the worker to notice Redis is gone")
        stack.redis.start()  # same port, same files: the AOF brings the queue back
        for key in keys[30:]:
            response = send(key)
            assert response.status_code == 202, response.text  # the API never restarted
            task_ids.append(response.json()["task_id"])

    wait_until(lambda: all_done(stack, keys), 120, "every key to take effect")
    wait_until(lambda: all(r and r["status"] == "SUCCESS" for r in results(stack, task_ids)),
               10, "every result")
    assert counts(stack, "effects") == dict.fromkeys(keys, 1)
    twice = {k: n for k, n in counts(stack, "runs").items() if n > 1}
    print(f"Redis restarted: {len(keys)} jobs took effect once each; ran again: {twice}")
    assert worker.proc.poll() is None and api.proc.poll() is None  # neither was restarted
    assert "Connection to broker lost" in worker.log


def submit_all(port: int, keys: list[str], bound: int) -> list[str]:
    """POST /jobs for every key, `bound` requests in flight at most (a connection each)."""
    local, conns = threading.local(), []

    def post(key: str) -> str:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conns.append(local.conn)
        local.conn.request("POST", "/jobs", json.dumps({"key": key}),
                           {"Content-Type": "application/json"})
        response = local.conn.getresponse()
        body = response.read()
        assert response.status == 202, body
        return json.loads(body)["task_id"]

    try:
        with ThreadPoolExecutor(bound) as pool:
            return list(pool.map(post, keys))
    finally:
        for conn in conns:
            conn.close()


@pytest.mark.timeout(600)  # a bound for a slow machine, not an expectation
def test_ten_thousand_jobs_through_the_api(make_stack, capsys):
    n, bound = 10_000, 8
    # Throughput is measured untraced, the client included: coverage would slow the API,
    # the workers and this process 2x (the other tests here cover every line of load_tasks.py).
    stack = make_stack(traced=False)
    # Two single-process workers, each reserving up to 16 messages: no hand-off to pool
    # children, and on a busy machine two processes get twice the CPU share of one, so the
    # workers keep up with the API. At WARNING a worker writes no line per task: at INFO,
    # "received" and "succeeded" cost a good part of its CPU. (The later --loglevel wins.)
    # Not waiting for "ready." (an INFO line) costs nothing: jobs queue until they are.
    workers = [stack.worker("load_tasks", "--pool=solo", "--prefetch-multiplier=16",
                            "--loglevel=warning", name=name, ready=False)
               for name in ("w1", "w2")]
    api = stack.uvicorn("load_tasks:api", "--no-access-log")  # one line per request otherwise
    keys = [f"load:{i}" for i in range(n)]

    def all_effects() -> bool:
        exited = [w.argv for w in workers if w.proc.poll() is not None]
        assert not exited, f"a worker exited:\n{workers[0].log}\n{workers[1].log}"
        return stack.redis.client(1).hlen("effects") == n

    with coverage_paused():
        started = time.monotonic()
        task_ids = submit_all(api.port, keys, bound)
        submitted = time.monotonic() - started
        wait_until(all_effects, 300, "10,000 effects")
        finished = time.monotonic() - started
        stored = results(stack, task_ids)

    assert sum(1 for r in stored if r and r["status"] == "SUCCESS") == n  # all present
    assert set(stack.redis.client(1).hvals("effects")) == {b"1"}  # none twice
    assert set(stack.redis.client(1).hvals("runs")) == {b"1"}  # and no redelivery at all
    with capsys.disabled():
        print(f"\n{n} jobs, {bound} in flight: submitted in {submitted:.1f} s "
              f"({n / submitted:.0f}/s), all done in {finished:.1f} s")
