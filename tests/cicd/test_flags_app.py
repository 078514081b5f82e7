"""Q56: a real Unleash server and two instances of the API (uvicorn), each with its own
Unleash client polling every second. Deploying is not releasing: the code of both releases
is already running; the flag decides who gets which."""

import os
import sys
import time

import httpx
import pytest

from support.celery_procs import Proc
from support.includes import write_observed
from support.unleash import CLIENT_TOKEN
from support.waiting import free_port, wait_until

from .conftest import EXAMPLES

pytestmark = pytest.mark.slow
FLAG = "new-checkout"
FEATURE = f"/projects/default/features/{FLAG}/environments/development"
REFRESH_S = 1
OBSERVED: dict[str, str] = {}
ROWS = ["flip", "rollout", "sticky", "down"]


def record(key: str, what: str, seen: str) -> None:
    OBSERVED[key] = f"| {what} | {seen} |"
    write_observed("q56-observed.md", ROWS, OBSERVED)


@pytest.fixture(scope="module")
def flag(unleash):
    """The flag, off, with one gradual-rollout strategy (its id, to change the percentage)."""
    unleash.admin("POST", "/projects/default/features", {"name": FLAG, "type": "release"})
    strategy = unleash.admin("POST", f"{FEATURE}/strategies", {
        "name": "flexibleRollout",
        "parameters": {"rollout": "100", "stickiness": "userId", "groupId": FLAG}}).json()
    return strategy["id"]


def set_flag(unleash, strategy_id: str, on: bool, percent: int = 100) -> None:
    unleash.admin("PUT", f"{FEATURE}/strategies/{strategy_id}", {
        "name": "flexibleRollout",
        "parameters": {"rollout": str(percent), "stickiness": "userId", "groupId": FLAG}})
    unleash.admin("POST", f"{FEATURE}/{'on' if on else 'off'}")


@pytest.fixture(scope="module")
def instances(unleash, flag, tmp_path_factory):
    """Two API instances on their own ports, each polling the server every REFRESH_S."""
    logs = tmp_path_factory.mktemp("flags")
    started = []
    for i in range(2):
        port = free_port()
        env = {**os.environ, "UNLEASH_URL": unleash.url, "UNLEASH_API_TOKEN": CLIENT_TOKEN,
               "UNLEASH_REFRESH_INTERVAL": str(REFRESH_S)}
        proc = Proc([sys.executable, "-m", "uvicorn", "flags_app:app", "--port", str(port)],
                    env, logs / f"api-{i}.log", cwd=EXAMPLES, stop_signal=2).start()
        started.append((proc, f"http://127.0.0.1:{port}"))
        proc.ready("Application startup complete")
    yield started
    for proc, _ in started:
        proc.stop()
    HTTP.close()


HTTP = httpx.Client(timeout=5)  # one connection pool: hundreds of small requests


def answer(base: str, user: str) -> str:
    return HTTP.get(f"{base}/checkout", params={"user_id": user}).json()["checkout"]


def everywhere(instances, user: str) -> set[str]:
    return {answer(base, user) for _, base in instances}


def test_a_flag_flipped_on_the_server_reaches_both_instances_without_a_restart(
        unleash, flag, instances):
    set_flag(unleash, flag, on=False)
    wait_until(lambda: everywhere(instances, "ada") == {"old"}, 10, "the flag off everywhere")
    pids = [proc.proc.pid for proc, _ in instances]
    flipped = time.monotonic()
    set_flag(unleash, flag, on=True)
    wait_until(lambda: everywhere(instances, "ada") == {"new"}, 10, "the flag on everywhere")
    took = time.monotonic() - flipped
    assert [proc.proc.pid for proc, _ in instances] == pids  # the same processes
    assert took <= REFRESH_S + 2  # one poll interval, plus a loaded machine's margin
    record("flip", f"Flag turned on through the admin API, 2 instances polling every "
           f"{REFRESH_S} s", f"both serve the new checkout {took:.1f} s later, same processes")


def test_a_percentage_rollout_lands_near_its_share_and_sticks_to_each_user(
        unleash, flag, instances):
    set_flag(unleash, flag, on=True, percent=30)
    users = [f"user-{n}" for n in range(300)]
    (_, first), (_, second) = instances

    def settled():  # both instances have fetched the 30 % strategy
        return all(sum(answer(base, u) == "new" for u in users[:40]) < 40
                   for _, base in instances)

    wait_until(settled, 10, "the 30 % rollout on both instances")
    on_first = {u: answer(first, u) for u in users}
    share = sum(v == "new" for v in on_first.values()) / len(users)
    assert 0.25 <= share <= 0.35, share
    on_second = {u: answer(second, u) for u in users}
    again = {u: answer(first, u) for u in users}
    assert on_first == on_second == again
    record("rollout", f"Gradual rollout at 30 %, {len(users)} users",
           f"{share:.1%} get the new checkout")
    record("sticky", "The same users asked again, and on the other instance",
           f"{len(users)} of {len(users)} get the same answer")


def test_with_the_flag_server_down_the_instances_serve_their_last_flags(
        unleash, flag, instances):
    set_flag(unleash, flag, on=True)
    wait_until(lambda: everywhere(instances, "ada") == {"new"}, 10, "the flag on everywhere")
    unleash.stop()
    try:
        time.sleep(REFRESH_S * 3)  # several failed polls
        answers = [answer(base, "ada") for _, base in instances for _ in range(20)]
        assert answers == ["new"] * 40
    finally:
        unleash.start()
    record("down", f"Unleash stopped for {REFRESH_S * 3} s (three polling intervals), "
           "then 40 requests",
           "40 of 40 answered 200, on the last flags fetched (new checkout)")
