"""examples/celery/blocking_publish.py: an async endpoint's `.delay()` stalls the server; the fix.

A real uvicorn runs the demo API against a black hole: a TCP port that accepts
connections and never answers, as broker and result backend. Every request has
a client-side timeout, and the black hole is closed before uvicorn is stopped,
so nothing here can hang the suite.
"""

import contextlib
import os
import threading
import time

import httpx
import pytest

from support.blackhole import BlackHole
from support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(60)]


class Call(threading.Thread):
    """One request in the background, timed."""

    def __init__(self, client: httpx.Client, method: str, path: str, timeout: float):
        super().__init__(daemon=True)
        self.args = client, method, path, timeout
        self.response = self.error = self.elapsed = None

    def run(self) -> None:
        client, method, path, timeout = self.args
        start = time.monotonic()
        try:
            self.response = client.request(method, path, timeout=timeout)
        except httpx.HTTPError as exc:
            self.error = exc
        self.elapsed = time.monotonic() - start


def timed_get(client: httpx.Client, path: str, timeout: float) -> tuple[object, float]:
    start = time.monotonic()
    try:
        outcome = client.get(path, timeout=timeout).status_code
    except httpx.TimeoutException as exc:
        outcome = type(exc).__name__
    return outcome, time.monotonic() - start


def test_async_delay_stalls_the_server_sync_delay_answers_503(make_stack):
    hole = BlackHole().__enter__()
    clients = contextlib.ExitStack()
    try:
        stack = make_stack(redis_port=hole.port)  # its Redis starts later, where the hole is
        server = stack.uvicorn("blocking_publish:app")
        client = clients.enter_context(httpx.Client(base_url=server.url))
        assert timed_get(client, "/fast", 5)[0] == 200

        # The fix: the publish waits in a threadpool thread, and gives up.
        fixed = Call(client, "POST", "/sync-delay", timeout=20)
        fixed.start()
        wait_until(lambda: hole._conns, 10, "the sync endpoint to connect")
        during = [timed_get(client, "/fast", 5) for _ in range(3)]
        assert fixed.is_alive()  # …still waiting for Redis while /fast answered
        fixed.join(20)
        assert [outcome for outcome, _ in during] == [200, 200, 200]
        assert max(elapsed for _, elapsed in during) < 1
        assert fixed.response.status_code == 503
        assert "unavailable" in fixed.response.json()["detail"]
        assert fixed.elapsed < 10  # bounded by the socket timeouts
        print(f"sync: {fixed.response.status_code} after {fixed.elapsed:.2f} s; /fast meanwhile:",
              [f"{t:.3f} s" for _, t in during], fixed.response.json())

        # The pitfall: the publish waits on the event loop, with no timeout.
        before = len(hole._conns)
        stuck = Call(client, "POST", "/async-delay", timeout=30)
        stuck.start()
        wait_until(lambda: len(hole._conns) > before, 10, "the async endpoint to connect")
        outcome, elapsed = timed_get(client, "/fast", 2)
        assert outcome == "ReadTimeout" and elapsed >= 2  # nobody is served meanwhile
        assert stuck.is_alive()

        # Redis comes back on the same port: the stuck request completes at last.
        hole.__exit__(None, None, None)
        stack.redis  # noqa: B018 (started now, on the hole's port)
        stuck.join(20)
        assert stuck.response.status_code == 202
        assert stuck.elapsed > elapsed  # it waited for as long as Redis was away
        print(f"async: /fast {outcome} after {elapsed:.2f} s; "
              f"async-delay {stuck.response.status_code} after {stuck.elapsed:.2f} s")
        with httpx.Client(base_url=server.url) as fresh:
            assert timed_get(fresh, "/fast", 5)[0] == 200
    finally:
        clients.close()
        hole.__exit__(None, None, None)


THREADPOOL = 40  # anyio's default thread limiter: every `def` endpoint of an app shares it


def threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_forty_stuck_def_endpoints_hold_every_thread_and_health_waits(make_stack):
    """`def` endpoints run in anyio's threadpool, 40 threads for the whole app: with 40 sends
    stuck on a silent Redis (Celery's defaults), `/health`, a `def` too, gets no thread."""
    import anyio
    import anyio.to_thread

    async def tokens() -> float:
        return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert anyio.run(tokens) == THREADPOOL
    hole = BlackHole().__enter__()
    clients = contextlib.ExitStack()
    try:
        stack = make_stack(redis_port=hole.port)  # its Redis starts later, where the hole is
        server = stack.uvicorn("blocking_publish:app")
        limits = httpx.Limits(max_connections=THREADPOOL + 10)
        client = clients.enter_context(httpx.Client(base_url=server.url, limits=limits))
        assert timed_get(client, "/health", 5)[0] == 200  # one worker thread exists now
        base = threads(server.proc.pid)
        stuck = [Call(client, "POST", "/sync-delay-no-timeouts", timeout=50)
                 for _ in range(THREADPOOL)]
        for call in stuck:
            call.start()
        # uvicorn's process has grown to 40 worker threads, each held by a stuck send.
        wait_until(lambda: threads(server.proc.pid) >= base + THREADPOOL - 1, 20,
                   "40 threadpool threads")
        outcome, elapsed = timed_get(client, "/health", 2)
        assert outcome == "ReadTimeout"  # no thread left for it
        assert timed_get(client, "/fast", 2)[0] == 200  # async def: on the event loop, served
        assert all(call.is_alive() for call in stuck)

        # Redis comes back on the same port: the sends end, and threads are free again.
        hole.__exit__(None, None, None)
        stack.redis  # noqa: B018 (started now, on the hole's port)
        for call in stuck:
            call.join(45)
        assert [call.response.status_code for call in stuck] == [202] * THREADPOOL
        assert timed_get(client, "/health", 5)[0] == 200
    finally:
        clients.close()
        hole.__exit__(None, None, None)


def test_the_demo_tasks_themselves_are_trivial():
    """What the endpoints publish doesn't matter; only how they publish it does."""
    import blocking_publish

    assert blocking_publish.ping() == blocking_publish.naive_ping() == "pong"


def test_with_celery_defaults_the_wait_is_bounded_only_by_long_timeouts():
    """What bounds a publish against a silent Redis, with the settings the naive app keeps.

    The result backend subscribes first: each try waits redis_socket_timeout, and a failed
    try is retried 20 times, a second apart, before the send raises. A task that ignores
    its result skips that and publishes at once, on a broker socket with no timeout at all.
    """
    import blocking_publish
    from kombu.transport.redis import Channel

    naive = blocking_publish.naive
    assert naive.backend.connparams["socket_timeout"] == 120.0
    assert naive.backend.retry_policy == {"max_retries": 20, "interval_start": 0,
                                          "interval_step": 1, "interval_max": 1}
    assert naive.conf.broker_transport_options == {}
    assert (Channel.socket_timeout, Channel.socket_connect_timeout) == (None, None)

    guide = blocking_publish.celery  # celeryconfig: 1 s per try, no retries, 2 s on the broker
    assert guide.backend.connparams["socket_timeout"] == 1.0
    assert guide.backend.retry_policy["max_retries"] == 0
    assert guide.conf.broker_transport_options["socket_timeout"] == 2
