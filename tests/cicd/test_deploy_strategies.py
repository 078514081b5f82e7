"""Q53: what each deploy strategy does to live traffic, counted. Two releases of the app
(uvicorn) behind a private HAProxy, steered through its runtime API while a bounded loopback
load writes customers; every request that did not answer 201 is a failed one."""

import socket
import threading

import pytest
from deploy_strategies import (
    RuntimeAPI,
    blue_green_switch,
    drain,
    guard_canary,
    rolling_update,
    start_canary,
)

from support.includes import write_observed
from support.load import run_load
from support.waiting import free_port, wait_until

from .conftest import migrate

pytestmark = pytest.mark.slow
OBSERVED: dict[str, str] = {}
ROWS = ["blue_green", "canary", "bad_canary", "naive", "rolling"]
WRITE = "/customers?name=load&email=load@example.com"


@pytest.fixture(scope="module")
def expanded(database_url, monkeypatch_module):
    """The database both releases can use: Q39's revisions up to the expand (0002)."""
    migrate(database_url, "0002", monkeypatch_module)
    return database_url


def served(api: RuntimeAPI) -> dict[str, int]:
    return {name: int(row["stot"]) for name, row in api.stats().items()}


def record(key: str, what: str, seen: str) -> None:
    OBSERVED[key] = f"| {what} | {seen} |"
    write_observed("q53-observed.md", ROWS, OBSERVED)


def test_blue_green_switch_over_and_back_fails_no_request(expanded, releases, balancer):
    blue, green = releases("1", expanded), releases("2", expanded)
    lb = balancer([blue.port, green.port])
    api = RuntimeAPI(str(lb.socket_path))
    api.set("s2", "state maint")  # green is deployed, and receives nothing yet
    result = run_load(lb.url + WRITE, requests=300, concurrency=4, method="POST", deadline=60,
                      at={100: lambda: blue_green_switch(api, "s1", "s2"),
                          200: lambda: blue_green_switch(api, "s2", "s1")})
    sent = served(api)
    assert (result.sent, result.failed) == (300, 0), result
    assert sent["s2"] >= 50 and sent["s1"] >= 150  # green really served between the switches
    record("blue_green", "Blue-green: switch to green after 100 requests, back after 200",
           f"{result.failed} failed of {result.sent}; green served {sent['s2']}")


def test_a_10_percent_canary_gets_about_10_percent(expanded, releases, balancer):
    stable, canary = releases("1", expanded), releases("2", expanded)
    lb = balancer([stable.port, canary.port])
    api = RuntimeAPI(str(lb.socket_path))
    start_canary(api, "s1", "s2", percent=10)
    result = run_load(lb.url + WRITE, requests=300, concurrency=4, method="POST", deadline=60)
    sent = served(api)
    share = sent["s2"] / (sent["s1"] + sent["s2"])
    assert result.failed == 0, result
    assert 0.07 <= share <= 0.13, sent
    record("canary", "Canary at weight 10 of 100, 300 requests",
           f"release 2 answered {sent['s2']} ({share:.0%}), release 1 {sent['s1']}")


def test_a_failing_canary_is_rolled_back_after_its_error_budget(
        expanded, postgres, releases, balancer, monkeypatch):
    # Release 2 on a database without the expand: each of its writes fails (no email column).
    behind = postgres.create_database("q53_not_expanded")
    migrate(behind, "0001", monkeypatch)
    stable, canary = releases("1", expanded), releases("2", behind)
    lb = balancer([stable.port, canary.port])
    api = RuntimeAPI(str(lb.socket_path))
    start_canary(api, "s1", "s2", percent=10)
    verdict = {}
    guard = threading.Thread(target=lambda: verdict.update(
        rolled_back=guard_canary(api, "s2", max_errors=3, watch_for=60)))
    guard.start()
    result = run_load(lb.url + WRITE, requests=400, concurrency=4, method="POST", deadline=60)
    guard.join(70)
    assert verdict == {"rolled_back": True}
    assert api.stats()["s2"]["status"] == "MAINT"
    assert set(result.statuses) == {201, 503}
    assert 3 <= result.failed <= 3 + 4, result  # the budget, plus at most one per connection
    record("bad_canary", "Canary of a release that fails every write, budget 3 errors, "
           "400 requests", f"users saw {result.failed} errors (503), then none: "
           f"{result.statuses[201]} succeeded")


def replace_naively(releases, old: dict, expanded):
    def replace(server: str) -> None:
        port = old[server].port
        old[server].kill()
        releases("2", expanded, port=port)
    return replace


def update_under_load(how: str, releases, balancer, expanded):
    """Two servers of release 1 replaced by release 2 while 600 writes run."""
    old = {"s1": releases("1", expanded), "s2": releases("1", expanded)}
    lb = balancer([old["s1"].port, old["s2"].port])
    api = RuntimeAPI(str(lb.socket_path))
    replace = replace_naively(releases, old, expanded)

    def naive() -> None:  # in turn, as soon as the previous one answers again
        for server in ("s1", "s2"):
            replace(server)
            lb.wait_for(server, "UP")

    update = naive if how == "naive" else lambda: rolling_update(api, ["s1", "s2"], replace)
    try:
        return run_load(lb.url + WRITE, requests=600, concurrency=4, method="POST",
                        deadline=90, at={50: update})
    finally:
        lb.stop()


def test_kill_and_restart_fails_requests_rolling_with_draining_does_not(
        expanded, releases, balancer):
    naive = update_under_load("naive", releases, balancer, expanded)
    rolling = update_under_load("rolling", releases, balancer, expanded)
    assert naive.failed > 0 and rolling.failed == 0, (naive, rolling)
    record("naive", "Kill and restart each of 2 servers in turn (no draining), 600 requests",
           f"{naive.failed} failed")
    record("rolling", "Rolling: drain, replace, put back, one server at a time, 600 requests",
           f"{rolling.failed} failed")


def test_the_runtime_api_refuses_an_unknown_server_and_the_guard_can_pass(balancer):
    lb = balancer([free_port()])  # nothing listens there: a server that is DOWN
    api = RuntimeAPI(str(lb.socket_path))
    with pytest.raises(RuntimeError, match="HAProxy refused 'state ready' for s9"):
        api.set("s9", "state ready")
    assert guard_canary(api, "s1", max_errors=1, watch_for=0.3) is False  # no 5xx seen


def test_a_drain_or_a_replacement_that_never_ends_times_out(balancer):
    with socket.socket() as silent:  # accepts, never answers: a request stays in flight
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        lb = balancer([silent.getsockname()[1]], check=None)
        api = RuntimeAPI(str(lb.socket_path))
        hanging = threading.Thread(target=lambda: run_load(lb.url, requests=1, timeout=3))
        hanging.start()
        wait_until(lambda: api.stats()["s1"]["scur"] == "1", 10, "a request in flight")
        with pytest.raises(TimeoutError, match="still has requests in flight"):
            drain(api, "s1", timeout=0.3)
        hanging.join(10)
    down = balancer([free_port()])
    wait_until(lambda: down.states()["s1"] == "DOWN", 10, "the empty port marked DOWN")
    with pytest.raises(TimeoutError, match="is not UP"):
        rolling_update(RuntimeAPI(str(down.socket_path)), ["s1"], lambda s: None, timeout=0.5)
