"""Q27, Persistence: stops and kill -9 during the work, for BackgroundTasks and for Celery.

Each demo kills the process that runs the welcome mail during its stand-in for
slow work (SLOW_WORK_SECONDS, shortened to DELAY for the module's worker and
uvicorn), then watches, for longer than that, whether the mail still arrives.
The kill is timed on the run's own log line, never on a fixed sleep.
"""

import contextlib
import json
import os
import re
import signal
import smtplib
import uuid
from pathlib import Path

import httpx
import pytest
from billiard.exceptions import WorkerLostError

from support.celery_procs import Proc
from support.proofs import never
from support.redis_server import RedisServer
from support.stack import Stack
from support.waiting import wait_until

pytestmark = pytest.mark.slow
DELAY = 1.0  # long enough to kill during it, short enough to keep the suite fast
WATCH = DELAY + 0.5  # "never arrives" is watched for longer than the work takes
# Each process gets only its own module's setting: a key makes support.launch import its module.
WORKER_SETTINGS = {"crash_safety.SLOW_WORK_SECONDS": DELAY}
API_SETTINGS = {"signup_background.SLOW_WORK_SECONDS": DELAY}


def new_address() -> str:
    return f"{uuid.uuid4().hex[:8]}@example.com"


@pytest.fixture(scope="module")
def crash(own_stack):
    """The example module, its app (the client side) bound to this module's Redis."""
    import crash_safety

    own_stack.bind(crash_safety.app)
    return crash_safety


@pytest.fixture(scope="module")
def crash_worker(crash, own_stack):
    """`celery -A crash_safety worker -c 1`: one prefork child, the one we kill."""
    return own_stack.worker("crash_safety", "-c", "1", settings=WORKER_SETTINGS)


def runs(worker: Proc, email: str) -> list[tuple[int, bool]]:
    """(pid, redelivered) of every run of the welcome mail to `email`, from the worker log."""
    found = re.findall(rf"welcome {re.escape(email)}: pid=(\d+) redelivered=(\w+)", worker.log)
    return [(int(pid), flag == "True") for pid, flag in found]


def dead(pid: int) -> bool:
    """The process has exited (a zombie, or already reaped)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except FileNotFoundError:
        return True


def kill_first_run(worker: Proc, email: str) -> int:
    """Wait for the run to start, then kill -9 the pool child running it."""
    return kill_run(worker, email, 1)


def kill_run(worker: Proc, email: str, n: int) -> int:
    """Wait for the `n`th run to start, then kill -9 the pool child running it."""
    wait_until(lambda: len(runs(worker, email)) >= n, 30, f"run {n} of the mail to {email}")
    pid, _ = runs(worker, email)[n - 1]
    # The worker's main process is paused while its child dies, so it finds the child
    # already dead. Otherwise it can race the death, miss it, and notice it only at its
    # next pool check, up to 5 s later. The outcome is the same either way.
    os.kill(worker.proc.pid, signal.SIGSTOP)
    try:
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: dead(pid), 5, f"pool child {pid} to die")
    finally:
        os.kill(worker.proc.pid, signal.SIGCONT)
    return pid


def queue_is_empty(redis: RedisServer) -> bool:
    """Nothing waiting in `celery`, nothing reserved in kombu's `unacked` hash."""
    db = redis.client(0)
    return db.llen("celery") == 0 and db.hlen("unacked") == 0


# --- BackgroundTasks: the work lives only in the uvicorn process --------------

@contextlib.contextmanager
def background_signup(stack: Stack):
    """A real uvicorn, and one signup through BackgroundTasks that got its 201:
    yields (api, email, response); the server is stopped on the way out."""
    # Untraced: its lines run traced in test_signup_background, and a kill -9 loses the data.
    api = stack.uvicorn("api:app", settings=API_SETTINGS, traced=False)
    try:
        email = new_address()
        response = httpx.post(f"{api.url}/q27/background/signup", json={"email": email})
        assert response.status_code == 201
        yield api, email, response
    finally:
        stack.stop(api)


def test_background_task_runs_after_the_response(own_stack):
    """The positive control: no crash, the welcome mail arrives after the 201."""
    with background_signup(own_stack) as (_, email, response):
        assert response.elapsed.total_seconds() < DELAY  # the response does not wait
        assert len(own_stack.smtp.wait_for(email, timeout=DELAY + 10)) == 1


def test_background_task_still_runs_when_uvicorn_is_stopped_gracefully(own_stack):
    """SIGTERM (a deploy's stop): uvicorn waits for the background task before it exits."""
    with background_signup(own_stack) as (api, email, _):
        api.proc.send_signal(signal.SIGTERM)  # just after the response arrived
        assert len(own_stack.smtp.wait_for(email, timeout=DELAY + 10)) == 1
        api.proc.wait(DELAY + 10)  # uvicorn re-raises the SIGTERM once it has shut down
        assert "Waiting for background tasks to complete" in api.log
        assert "Finished server process" in api.log


def test_background_task_is_lost_when_uvicorn_is_killed(own_stack):
    with background_signup(own_stack) as (api, email, _):
        os.kill(api.proc.pid, signal.SIGKILL)  # just after the response arrived
        api.proc.wait(5)
        never(lambda: own_stack.smtp.to(email), WATCH, f"a welcome mail to {email}")


# --- Celery: the work is a message, and the ack decides its fate --------------

def test_acks_late_task_runs_again_after_its_child_is_killed(crash, crash_worker, own_stack):
    email = new_address()
    result = crash.welcome_acks_late.delay(email)
    killed = kill_first_run(crash_worker, email)

    assert result.get(timeout=30).endswith("@interview-guide>")  # a Message-ID
    assert result.state == "SUCCESS"
    (first, first_flag), (second, second_flag) = runs(crash_worker, email)
    assert (first, first_flag) == (killed, False)
    assert second != killed and second_flag is True  # a new child, a redelivered message
    assert len(own_stack.smtp.to(email)) == 1  # the killed run never got to send
    wait_until(lambda: queue_is_empty(own_stack.redis), 10, "the message acked")
    assert len(runs(crash_worker, email)) == 2


@pytest.mark.parametrize("variant", ["welcome_no_requeue", "welcome_early_ack"])
def test_without_requeue_a_killed_task_fails_and_is_lost(crash, crash_worker, own_stack, variant):
    email = new_address()
    result = getattr(crash, variant).delay(email)
    kill_first_run(crash_worker, email)

    with pytest.raises(WorkerLostError):
        result.get(timeout=30)
    assert result.state == "FAILURE"
    never(lambda: own_stack.smtp.to(email) or len(runs(crash_worker, email)) > 1, WATCH,
          f"a second run or a mail to {email}")
    assert queue_is_empty(own_stack.redis)


def test_a_child_that_dies_every_time_requeues_the_message_every_time(crash, crash_worker,
                                                                      own_stack):
    """A poison message: each death of the child that runs it (here, three kill -9s in a
    row) requeues it again, with nothing to count the deaths or stop the loop."""
    email = new_address()
    result = crash.welcome_acks_late.delay(email)
    killed = [kill_run(crash_worker, email, n) for n in (1, 2, 3)]
    assert result.get(timeout=30).endswith("@interview-guide>")  # the fourth run, unkilled
    seen = runs(crash_worker, email)
    assert [pid for pid, _ in seen[:3]] == killed and len(set(killed)) == 3
    assert [flag for _, flag in seen] == [False, True, True, True]
    assert len(own_stack.smtp.to(email)) == 1


def test_acks_late_does_not_run_a_task_that_raised_again(crash, crash_worker, own_stack):
    """Only a lost worker requeues: an exception is a result, and the message is acked."""
    email = new_address()
    with own_stack.smtp.refusing() as refused:
        result = crash.welcome_acks_late.delay(email)
        with pytest.raises(smtplib.SMTPDataError):
            result.get(timeout=30)
    assert result.state == "FAILURE"
    wait_until(lambda: queue_is_empty(own_stack.redis), 10, "the message acked")
    never(lambda: len(runs(crash_worker, email)) > 1, WATCH, f"a second run for {email}")
    assert refused() == 1


def test_without_a_crash_every_variant_sends_once(crash, crash_worker, own_stack):
    """The positive control. It comes after the kills (pytest keeps file order in each
    xdist process), so its child survives and coverage keeps the task lines it ran."""
    tasks = [crash.welcome_acks_late, crash.welcome_no_requeue, crash.welcome_early_ack]
    sent = {new_address(): task.delay for task in tasks}
    results = [delay(email) for email, delay in sent.items()]
    for result in results:
        result.get(timeout=30)
    for email in sent:
        assert len(own_stack.smtp.to(email)) == 1
        assert [flag for _, flag in runs(crash_worker, email)] == [False]


# --- The broker itself: what a kill -9 of Redis keeps depends on its persistence -----

# redis-server's own default (Redis 7, no config file): an RDB snapshot after 3600 s if one
# key changed, after 300 s if 100 did, after 60 s if 10,000 did. No append-only file.
STOCK_SAVE = "3600 1 300 100 60 10000"


@pytest.mark.parametrize(("persistence", "kept"),
                         [("none", "nothing"), ("stock-rdb", "the snapshot"),
                          ("aof-everysec", "everything")])
def test_a_redis_kill_keeps_only_what_its_persistence_wrote(crash, make_stack, persistence, kept):
    """Three messages, a snapshot where the policy takes one, two more messages, kill -9."""
    server = make_stack(appendonly=persistence == "aof-everysec").redis
    db = server.client()
    if persistence == "stock-rdb":
        db.config_set("save", STOCK_SAVE)
    if persistence == "aof-everysec":
        db.config_set("appendfsync", "everysec")  # the usual choice; a kill -9 loses nothing

    def queue(count: int) -> list[str]:
        with crash.app.connection_for_write(server.url(0)) as conn:
            return [crash.welcome_acks_late.apply_async(
                (new_address(),), connection=conn, ignore_result=True).id
                for _ in range(count)]

    before = queue(3)
    if persistence == "stock-rdb":
        db.save()  # stands for the policy's next timed snapshot (1 h after one change)
    after = queue(2)
    assert db.llen("celery") == 5  # queued, no worker
    server.restart()  # kill -9, then start again on the same port and directory
    queued = {json.loads(m)["headers"]["id"] for m in server.client().lrange("celery", 0, -1)}
    expected = {"nothing": set(), "the snapshot": set(before),
                "everything": set(before + after)}[kept]
    assert queued == expected
