"""examples/celery/api.py and broker_errors.py when Redis is down, silent, or comes back.

The API runs as a real uvicorn process, pointed at a Redis the test controls:
a port nobody listens on, a socket that accepts and never answers
(support.blackhole), then a real redis-server on that same port. The API is
never restarted: the send after Redis returns must succeed in the same process.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from celery import Celery

from support.blackhole import BlackHole
from support.stack import bind
from support.waiting import wait_until

MAIL = {"to": "fault@example.com", "subject": "Hello", "body": "Queued during a fault."}


def timed_send(http: httpx.Client) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = http.post("/send-email", json=MAIL)
    return response, time.monotonic() - started


@pytest.mark.slow
def test_redis_down_is_a_503_within_2_s_and_the_api_recovers(make_stack):
    stack = make_stack()
    redis = stack.redis
    api = stack.uvicorn("api:app")
    with httpx.Client(base_url=api.url, timeout=30) as http:
        assert http.post("/send-email", json=MAIL).status_code == 202
        redis.kill()  # kill -9: the API's pooled connections now lead nowhere

        # The first send after the crash fails at the broker (task queue unavailable),
        # the next at the result backend (Retry limit exceeded): both are 503s, fast.
        for _ in range(2):
            response, elapsed = timed_send(http)
            print(f"Redis killed: {response.status_code} in {elapsed:.2f} s {response.text}")
            assert response.status_code == 503
            assert "unavailable, try again later" in response.json()["detail"]
            assert elapsed < 2, elapsed

        redis.start()  # same port, same API process, no restart
        response, _ = timed_send(http)
        assert response.status_code == 202, response.text
        # Stock Redis (no AOF) lost the message queued before the crash: one is left.
        # tests/celery/test_load_tasks.py restarts Redis with appendonly, and loses nothing.
        assert redis.client(0).llen("emails") == 1


@pytest.mark.slow
def test_silent_redis_is_a_503_within_5_s_and_health_stays_fast(make_stack):
    hole = BlackHole().__enter__()
    stack = make_stack(redis_port=hole.port)  # Redis will answer later, where the hole is now
    try:
        api = stack.uvicorn("api:app")
        with httpx.Client(base_url=api.url, timeout=30) as http:
            http.get("/health").raise_for_status()
            latencies: list[float] = []
            with ThreadPoolExecutor(3) as pool:
                sends = [pool.submit(timed_send, http) for _ in range(3)]
                while not all(s.done() for s in sends):
                    started = time.monotonic()
                    assert http.get("/health").status_code == 200
                    latencies.append(time.monotonic() - started)
                    time.sleep(0.02)  # pacing the probe, not waiting for anything
            for send in sends:
                response, elapsed = send.result()
                assert response.status_code == 503
                assert "result backend unavailable" in response.json()["detail"]
                assert "Retry limit exceeded" in response.json()["detail"]
                assert elapsed < 5, elapsed
            latencies.sort()
            median = latencies[len(latencies) // 2]
            print(f"silent Redis: 503s in {', '.join(f'{s.result()[1]:.2f}' for s in sends)} s; "
                  f"/health x{len(latencies)} meanwhile, median {median:.4f} s, "
                  f"max {latencies[-1]:.4f} s")
            assert len(latencies) >= 20  # /health was asked all along the hang…
            assert max(latencies) < 0.5, max(latencies)  # …and always answered at once

            hole.__exit__()
            redis = stack.redis  # Redis answers again: same API process, no restart
            response, _ = timed_send(http)
            assert response.status_code == 202, response.text
            assert redis.client(0).llen("emails") == 1  # really queued
    finally:
        hole.__exit__()


@pytest.mark.slow
def test_the_default_retry_policy_holds_a_send_against_a_silent_backend(make_stack, caplog):
    """Without result_backend_transport_options, a send keeps retrying (20 times, 1 s apart)."""
    import celeryconfig

    with BlackHole() as hole:
        stack = make_stack(redis_port=hole.port)  # Redis will answer later, on the same port
        client = bind(Celery("default_policy", config_source=celeryconfig, set_as_current=False),
                      hole.url(0), hole.url(1))
        client.conf.update(result_backend_transport_options={})  # Celery's default policy
        outcome: dict = {}

        def send():
            try:
                outcome["id"] = client.send_task("celery_app.send_email", ["a@b.c", "", ""]).id
            except BaseException as exc:  # reported to the test below
                outcome["error"] = exc

        sender = threading.Thread(target=send)
        started = time.monotonic()
        sender.start()
        retries = wait_until(
            lambda: [r for r in caplog.records if "Retry (2/20)" in r.getMessage()], 10,
            "the result backend's third try",
        )
        assert sender.is_alive() and not outcome  # 4 s and more into the send, still no answer
        print(f"default policy: still sending after {time.monotonic() - started:.1f} s: "
              f"{retries[0].getMessage()}")
        assert "Connection to Redis lost" in retries[0].getMessage()
    try:
        redis = stack.redis  # started: the retries find Redis again, and the send completes
        sender.join(25)
        assert not sender.is_alive()
        assert "id" in outcome, outcome
        assert redis.client(0).llen("emails") == 1
    finally:
        sender.join(25)
        client.close()
