"""Q47: two instances of one app behind a real HAProxy (round-robin): sessions kept in process
memory against sessions kept in Redis, and one instance SIGKILLed under a bounded load, with
and without the balancer's health check and redispatch."""

import http.client
import json
import os
import signal
from urllib.parse import urlsplit

import pytest

from support.haproxy import HAProxy
from support.includes import write_observed
from support.load import request, run_load

LOOKUPS = 20  # GET /me after one login
LOAD, KILL_AFTER, CONCURRENCY = 300, 60, 4
CUT = {"IncompleteRead"}  # a 200 whose body stopped when the instance died
OBSERVED: dict[str, str] = {}
ROWS = ["memory", "redis", "kill-plain", "kill-checked"]


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    write_observed("q47-observed.md", ROWS, OBSERVED)


def login_then_lookups(lb: HAProxy) -> list[tuple[int, str]]:
    parts = urlsplit(lb.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("POST", "/login?user=alice", headers={"Connection": "close"})
    response = conn.getresponse()
    assert response.status == 200
    sid = response.headers["set-cookie"].split(";")[0]
    response.read()
    conn.close()
    answers = []
    for _ in range(LOOKUPS):
        status, body = request(f"{lb.url}/me", headers={"Cookie": sid})
        answers.append((status, json.loads(body)["instance"]))
    return answers


@pytest.mark.slow
@pytest.mark.parametrize("store", ["memory", "redis"])
def test_sessions_behind_round_robin(store, instances, own_stack):
    env = {"SESSION_STORE": store, "REDIS_URL": own_stack.redis.url(3)}
    a = instances("sessions_app:app", INSTANCE="a", **env)
    b = instances("sessions_app:app", INSTANCE="b", **env)
    with HAProxy([a.port, b.port]) as lb:
        answers = login_then_lookups(lb)
    lost = sum(1 for status, _ in answers if status == 401)
    served_by = {instance for _, instance in answers}
    assert served_by == {"a", "b"}  # round-robin used both instances
    if store == "memory":
        # Every lookup that reached the other instance was refused, and only those.
        kept = {instance for status, instance in answers if status == 200}
        refused = {instance for status, instance in answers if status == 401}
        assert lost == LOOKUPS // 2 and len(kept) == len(refused) == 1 and kept != refused
    else:
        assert lost == 0
    OBSERVED[store] = (f"| Sessions in {'process memory' if store == 'memory' else 'Redis'}: "
                       f"1 login, then {LOOKUPS} `GET /me` through HAProxy | "
                       f"{lost} of {LOOKUPS} answered 401 (session lost) |")


@pytest.mark.slow
@pytest.mark.parametrize("checked", [False, True], ids=["plain", "checked"])
def test_sigkill_one_instance_under_load(checked, instances, own_stack):
    env = {"SESSION_STORE": "redis", "REDIS_URL": own_stack.redis.url(3)}
    a = instances("sessions_app:app", INSTANCE="a", **env)
    b = instances("sessions_app:app", INSTANCE="b", **env)
    options = {"check": "/healthz", "inter": 0.2, "fall": 2, "redispatch": True,
               "retries": 2} if checked else {}
    with HAProxy([a.port, b.port], **options) as lb:
        if checked:
            lb.wait_for("s2", "UP")

        def kill_b():
            os.killpg(b.proc.pid, signal.SIGKILL)
            b.proc.wait()

        result = run_load(f"{lb.url}/healthz", requests=LOAD, concurrency=CONCURRENCY,
                          deadline=60, at={KILL_AFTER: kill_b})
        if checked:  # two failed probes, 0.2 s apart: the load may have finished first
            lb.wait_for("s2", "DOWN", timeout=10)
    assert result.unsent == 0 and result.sent == LOAD
    if checked:
        # Only the requests b was serving when it died can fail: 502 where its answer had
        # not begun, a body cut short (IncompleteRead) where it had; every later one went to
        # a, retried or after the check took b out.
        assert result.failed <= CONCURRENCY, result
        assert set(result.statuses) - {200} <= {502} and set(result.errors) <= CUT, result
    else:
        # Round-robin keeps sending every other request to the dead instance: about half of
        # what came after the kill fails: 503 where HAProxy could not connect, 502 for the
        # requests the instance was serving when it died.
        after = LOAD - KILL_AFTER
        assert after // 2 - 2 * CONCURRENCY <= result.failed <= after // 2 + CONCURRENCY, result
        assert set(result.statuses) <= {200, 502, 503} and set(result.errors) <= CUT, result
    label = ("with `option httpchk` and `option redispatch`" if checked
             else "without health check or redispatch")
    OBSERVED[f"kill-{'checked' if checked else 'plain'}"] = (
        f"| {LOAD} requests, {CONCURRENCY} at a time; instance b SIGKILLed after {KILL_AFTER}, "
        f"{label} | {result.failed} failed ({dict(result.statuses) | dict(result.errors)}) |")


def test_an_unreachable_session_store_is_a_503_not_a_500(monkeypatch):
    import sessions_app
    from fastapi.testclient import TestClient

    from support.waiting import free_port

    monkeypatch.setattr(sessions_app, "store",
                        sessions_app.RedisStore(f"redis://127.0.0.1:{free_port()}/0"))
    with TestClient(sessions_app.app) as client:
        answer = client.post("/login", params={"user": "alice"})
    assert (answer.status_code, answer.json()) == (503, {"detail": "session store unavailable"})
