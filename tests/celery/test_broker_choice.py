"""examples/celery/broker_choice.py (and celery_app.py): the same tasks on Redis and on RabbitMQ.

The module's own stack (own_stack), with its private RabbitMQ node (Stack.rabbitmq, with a
short consumer timeout). Each test runs
once per broker, with the same example code, real workers and Redis as the result
backend in both cases; only CELERY_BROKER_URL differs. What the tests observe is the page's
matrix, docs/_includes/q34-matrix.md: the last test checks the committed file against this
run (timings aside), and `make includes` (UPDATE_INCLUDES=1) rewrites it.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import celery.exceptions
import pytest
from celery import Celery, chord
from kombu import Connection, pools
from kombu.utils.collections import eqhash

from support import docs_pages
from support.celery_procs import Proc
from support.includes import write_include
from support.paths import EXAMPLES
from support.proofs import never
from support.sandbox import Clock, NativeStack
from support.stack import Stack, bind
from support.waiting import wait_until

pytestmark = pytest.mark.slow

BROKERS = ["redis", "rabbitmq"]
QUEUE = "prioritized"  # broker_choice's default queue
VISIBILITY_TIMEOUT = 3  # broker_choice.py's Redis setting, in seconds
CONSUMER_TIMEOUT_MS = 3000  # the private node's rabbitmq.conf: the same 3 s
TICK_MS = 500  # how often the node's channels check it (an advanced setting)
INCLUDES = Path(__file__).parents[2] / "docs" / "_includes"
MATRIX, NODE_NOTE = INCLUDES / "q34-matrix.md", INCLUDES / "q34-node.md"
OBSERVED: dict[str, dict[str, str]] = {}  # behaviour -> broker -> what was seen
NODE: dict[str, object] = {}  # the private node: version, defaults, start time
RABBIT_LIB = Path("/usr/lib/rabbitmq/lib")


def observe(row: str, broker: str, outcome: str) -> None:
    OBSERVED.setdefault(row, {})[broker] = outcome
    print(f"[{broker}] {row}: {outcome}")


class Side:
    """One broker's half of the comparison: its URL, a client app and the workers on it.

    Both sides run on the module's stack: its Redis holds the results (db 1), and the Redis
    side's messages (db 0); each side has a media folder of its own."""

    def __init__(self, broker: str, url: str, stack: Stack, workdir: Path):
        self.broker, self.url, self.stack, self.workdir = broker, url, stack, workdir
        self.results = stack.redis
        self.media = workdir / "media"
        self.media.mkdir(parents=True)
        for sample in (EXAMPLES / "sample_media").iterdir():
            shutil.copy(sample, self.media / sample.name)
        self.env = stack.env(CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=self.results.url(1),
                             MEDIA_DIR=str(self.media))
        # A producer as the API is one: celeryconfig (routes included), pinned to this
        # broker and the results db whatever os.environ says (support.stack.bind).
        self.client = Celery("client", set_as_current=False)
        self.client.config_from_object("celeryconfig")
        bind(self.client, url, self.results.url(1))
        self.procs: dict[str, Proc] = {}

    def worker(self, app: str, *args: str, name: str) -> Proc:
        proc = self.stack.worker(app, *args, name=name, env=self.env, ready=False)
        self.procs[name] = proc
        return proc.ready(r"ready\.")

    def send(self, task, *args, **options):
        """Publish a broker_choice task on this broker through the example app itself, whose
        settings declare its queue (x-max-priority on RabbitMQ); no result is kept."""
        with task.app.connection_for_write(self.url) as conn:
            return task.apply_async(args, connection=conn, ignore_result=True, **options)

    def ready(self, queue: str) -> int:
        """Messages waiting in `queue` (RabbitMQ: a passive declare, which changes nothing)."""
        with Connection(self.url) as conn:
            return conn.default_channel.queue_declare(queue, passive=True).message_count

    def purge(self, queue: str) -> None:
        with Connection(self.url) as conn:
            conn.default_channel.queue_purge(queue)

    def runs(self, tag: str) -> list[dict]:
        return [json.loads(r) for r in self.results.client(1).lrange(f"runs:{tag}", 0, -1)]

    def close(self) -> None:
        self.stack.stop(*self.procs.values())
        self.client.close()


@pytest.fixture(scope="module")
def rabbit(own_stack):
    """The module stack's RabbitMQ node: a 3 s consumer timeout, checked every 0.5 s."""
    node = own_stack.rabbitmq(consumer_timeout_ms=CONSUMER_TIMEOUT_MS, tick_ms=TICK_MS)
    print(f"private RabbitMQ node {node.name} accepted AMQP {node.started_in:.1f} s after start")
    NODE["started_in"] = node.started_in
    return node


@pytest.fixture(scope="module")
def sides(own_stack, rabbit, tmp_path_factory):
    made = {
        "redis": Side("redis", own_stack.redis.url(0), own_stack,
                      tmp_path_factory.mktemp("on-redis")),
        "rabbitmq": Side("rabbitmq", rabbit.url(), own_stack,
                         tmp_path_factory.mktemp("on-rabbitmq")),
    }
    yield made
    for side in made.values():
        side.close()


# -- the node's own settings -------------------------------------------------------------------

def test_consumer_timeout_is_checked_on_the_channel_tick(rabbit):
    """RabbitMQ's defaults, from the installed rabbit.app, and what the private node runs."""
    [app_file] = RABBIT_LIB.glob("rabbitmq_server-*/plugins/rabbit-*/ebin/rabbit.app")
    defaults = {key: int(ms) for key, ms in re.findall(
        r"\{(consumer_timeout|channel_tick_interval),\s*(\d+)\}", app_file.read_text())}
    assert defaults == {"consumer_timeout": 1800000, "channel_tick_interval": 60000}
    live = rabbit.ctl("eval", "{application:get_env(rabbit, consumer_timeout), "
                              "application:get_env(rabbit, channel_tick_interval)}.")
    assert live.split() == [f"{{{{ok,{CONSUMER_TIMEOUT_MS}}},{{ok,{TICK_MS}}}}}"]
    version = app_file.parent.parent.name.removeprefix("rabbit-")
    NODE.update(version=version, **defaults)


# -- the same tasks, unchanged --------------------------------------------------------------

@pytest.mark.parametrize("broker", BROKERS)
def test_the_q26_tasks_and_a_chord_run_unchanged(broker, sides, own_stack):
    side = sides[broker]
    old = side.media / "old-upload.jpg"
    old.write_bytes(b"stale")
    forty_days_ago = time.time() - 40 * 86400
    os.utime(old, (forty_days_ago, forty_days_ago))
    worker = side.worker("celery_app", "-Q", "celery,emails,images", "-c", "2", name="q26")
    client = side.client
    to = f"{broker}@example.com"

    mail = client.send_task("celery_app.send_email", [to, f"On {broker}", "Same task."])
    assert mail.get(timeout=30)["status"] == "sent"
    [message] = own_stack.smtp.wait_for(to)
    assert message["Subject"] == f"On {broker}"
    # A chord: both resizes, then the cleanup once both are done (its state is kept in the
    # Redis result backend, whichever broker carried the messages).
    resize = [client.signature("celery_app.process_image", ("sample.jpg", 400)),
              client.signature("celery_app.process_image", ("logo.png", 64))]
    done = chord(resize)(client.signature("celery_app.cleanup_old_files", (30,), immutable=True))
    assert done.get(timeout=30) == 1  # the 40-day-old upload, nothing else
    assert not old.exists() and (side.media / "resized" / "sample.jpg").is_file()
    header = done.parent.get(timeout=10)
    assert header == [{"output": "resized/sample.jpg", "size": [400, 267]},
                      {"output": "resized/logo.png", "size": header[1]["size"]}]
    queues = sorted(set(re.findall(r"\.> (\w+) +exchange=", worker.log)))
    assert queues == ["celery", "emails", "images"]
    observe("same", broker, f"mail sent; chord of 2 resizes + cleanup: SUCCESS "
                            f"(deleted {done.result}); queues {', '.join(queues)}")
    worker.stop()


# -- priorities -----------------------------------------------------------------------------

@pytest.mark.parametrize("broker", BROKERS)
def test_priority_runs_in_opposite_directions(broker, sides):

    side = sides[broker]
    # As the page's Try it does it: 9, 5, 0 and none, in this order; no worker yet.
    queued = subprocess.run([sys.executable, "broker_choice.py"], cwd=EXAMPLES, env=side.env,
                            capture_output=True, text=True, timeout=60)
    assert queued.returncode == 0, queued.stderr
    worker = side.worker("broker_choice", "-c", "1", name="w1")
    order = wait_until(lambda: len(ran := re.findall(r": ran (\w+)", worker.log)) == 4 and ran,
                       30, "the four reports")
    expected = {"redis": ["p0", "none", "p5", "p9"], "rabbitmq": ["p9", "p5", "p0", "none"]}
    assert order == expected[broker]
    observe("priority", broker, "sent 9, 5, 0, none; ran " + ", ".join(order))


# -- kill -9 of the worker running an acks-late task ---------------------------------------------

@pytest.mark.parametrize("broker", BROKERS)
def test_kill_9_of_the_worker_mid_task(broker, sides):
    import broker_choice

    side = sides[broker]
    w1 = side.procs["w1"]
    tag = f"job-{broker}"
    side.send(broker_choice.long_job, tag, 1.0)
    wait_until(lambda: side.runs(tag), 15, "the job to start on w1")
    os.killpg(w1.proc.pid, signal.SIGKILL)  # the whole worker: main process and children
    w1.proc.wait(5)
    killed_at = time.monotonic()
    if broker == "redis":
        db = side.results.client(0)
        parked = lambda: db.hlen("unacked") == 1 and db.llen(QUEUE) == 0  # noqa: E731
        assert parked()
        # Nobody is left to restore it: it stays parked for as long as no worker runs.
        never(lambda: not parked(), 1, "the message leaving `unacked` with no worker")
        where = "parked in `unacked`, queue empty, with no worker"
    else:
        # The connection dropped with the process: the broker requeues at once.
        wait_until(lambda: side.ready(QUEUE) == 1, 10, "the message back in the queue")
        where = f"back in the queue {time.monotonic() - killed_at:.1f} s after the kill"
    side.worker("broker_choice", "-c", "1", name="w2")
    wait_until(lambda: len(side.runs(tag)) == 2, 45, "the job to run again on w2")
    first, second = side.runs(tag)
    assert first["worker"].startswith("w1@") and second["worker"].startswith("w2@")
    assert (first["redelivered"], second["redelivered"]) == (False, True)
    after = second["at"] - first["at"]
    if broker == "redis":
        assert after >= VISIBILITY_TIMEOUT  # not one moment before the visibility timeout
        where += f"; ran again on a new worker {after:.1f} s after the first run"
    else:
        where += "; ran again as soon as a new worker consumed"
    observe("kill", broker, f"{where} (redelivered={second['redelivered']})")


# -- redelivery of a message held unacked: a long countdown ---------------------------------------

@pytest.mark.parametrize("broker", BROKERS)
def test_a_countdown_longer_than_the_timeout(broker, sides):
    import broker_choice

    side = sides[broker]
    worker = side.procs["w2"]
    tag = f"late-{broker}"
    sent = time.time()
    late = side.send(broker_choice.remind, tag, countdown=4.5)
    received = f"remind[{late.id}] received"
    if broker == "redis":
        wait_until(lambda: len(side.runs(tag)) == 2, 45, "both copies of the reminder to run")
        assert worker.log.count(received) == 2  # delivered again after 3 s, held again
        assert all(run["at"] - sent >= 4.5 for run in side.runs(tag))  # neither before the ETA
        observe("countdown", broker, "received twice, ran twice at the ETA")
        return
    # RabbitMQ closes the channel of a consumer that holds a delivery unacked for longer
    # than consumer_timeout, and this Celery stops the worker on that error.
    code = wait_until(lambda: worker.proc.poll() is not None and (worker.proc.returncode,),
                      30, "the worker to stop")
    error = re.search(r"Unrecoverable error: (PreconditionFailed)\(406, 'PRECONDITION_FAILED - "
                      r"delivery acknowledgement on channel \d+ timed out", worker.log)
    assert error, worker.log[-3000:]
    assert worker.log.count(received) == 1 and side.runs(tag) == []  # held, never run
    wait_until(lambda: side.ready(QUEUE) == 1, 10, "the message back in the queue")
    side.purge(QUEUE)  # or the next worker on this queue meets the same fate
    observe("countdown", broker, f"received once, never ran: channel closed at the timeout, "
                                 f"worker stopped ({error[1]}, exit {code[0]}); "
                                 f"message back in the queue")


# -- the page's Try it, against this node -------------------------------------------------------

PAGE = "celery/q34-redis-or-rabbitmq.md"
SHOWN_URL = "amqp://guest:guest@localhost:5672//"  # a reader's RabbitMQ, never this machine's


def test_the_pages_rabbitmq_commands_run_as_written(sides, rabbit):
    """The page's Try it lines on RabbitMQ, each block in order, with only the address
    changed to this node (tests/site/test_page_commands.py never runs them: it would reach the
    machine's own RabbitMQ). A worker line runs until its block ends."""
    side = sides["rabbitmq"]
    blocks = [[line for line in fence.body.splitlines() if SHOWN_URL in line]
              for fence in docs_pages.fences(docs_pages.expanded(PAGE), PAGE)
              if fence.lang == "bash"]
    blocks = [block for block in blocks if block]
    assert [len(block) for block in blocks] == [2, 2]
    # A reader's shell with the virtualenv active: its `celery` and `python` first on PATH.
    venv_bin = Path(sys.executable).parent
    env = {**side.env, "CELERY_RESULT_BACKEND": side.results.url(1),
           "PATH": f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    for n, block in enumerate(blocks):
        running = []
        try:
            for i, line in enumerate(block):
                command = line.replace(SHOWN_URL, rabbit.url() + "/")
                if " worker " in command:
                    proc = side.stack.line(command, f"page-{n}-{i}.log", env)
                    running.append(proc.ready(r"ready\."))
                else:
                    out = subprocess.run(["bash", "-c", command], cwd=EXAMPLES, env=env,
                                         capture_output=True, text=True, timeout=60)
                    assert out.returncode == 0, f"{line}\n{out.stdout}{out.stderr}"
            if n == 0:  # the worker runs the cleanup that `celery call` sent
                running[0].wait_for_log(r"cleanup_old_files\[[-0-9a-f]+\] succeeded", 30)
            else:  # the four reports, queued before the worker started: 9 first
                ran = wait_until(lambda w=running[0]: len(r := re.findall(r": ran (\w+)", w.log))
                                 == 4 and r, 30, "the four reports")
                assert ran == ["p9", "p5", "p0", "none"]
        finally:
            for proc in running:
                proc.stop()


# -- durability: what a broker restart keeps ----------------------------------------------------

def take_ids(url: str, queue: str) -> list[str]:
    """Take every message from `queue` (no worker involved): their task ids, oldest first."""
    with Connection(url) as conn:
        channel, ids = conn.default_channel, []
        while (message := channel.basic_get(queue=queue, no_ack=True)) is not None:
            ids.append(message.headers["id"])
        return ids


def drop_pooled(url: str) -> None:
    """Close and forget the connections kombu keeps pooled in this process for `url`.

    kombu's pools are global, keyed by broker address and transport options: every app
    here configured from celeryconfig (a Side's client, the sandbox test's client) shares
    one. A broker restart leaves them dead, and with the guide's publish retry policy
    (max_retries 0) the next publish through one fails: the next client opens new ones.
    """
    app = Celery("pool-key", set_as_current=False)
    app.config_from_object("celeryconfig")
    key = eqhash(bind(app, url, "disabled://").connection_for_write())
    for group in (pools.producers, pools.connections):
        stale = group.pop(key, None)
        if stale is not None:
            with contextlib.suppress(Exception):
                stale.force_close_all()
    app.close()


# redis-server's own default snapshot policy (no config file): after 3600 s if one key changed,
# 300 s if 100 did, 60 s if 10,000 did. The module's servers start with none (`--save ""`).
STOCK_SAVE = "3600 1 300 100 60 10000"
RESTARTS = [("redis", "kill"), ("redis", "clean"), ("redis-aof", "kill"),
            ("rabbitmq", "kill"), ("rabbitmq", "clean")]


@pytest.mark.parametrize(("broker", "stop"), RESTARTS, ids=["-".join(r) for r in RESTARTS])
def test_what_a_broker_restart_keeps(broker, stop, sides, rabbit, make_stack):
    """Both brokers on equal terms: `kill -9` of the server, or a clean stop, then a start on
    the same data. Redis runs with its stock snapshot policy (or with AOF); nothing has
    reached a snapshot's threshold when it stops."""
    import broker_choice

    redis = None
    if broker.startswith("redis"):  # a Redis of the test's own, with AOF or without
        redis = make_stack(appendonly=broker == "redis-aof").redis
        redis.client().config_set("save", STOCK_SAVE)
        url = redis.url(0)
    else:
        url = rabbit.url()
    with broker_choice.app.connection_for_write(url) as conn:
        persistent = [broker_choice.report.apply_async(
            (f"p{i}",), queue="parked", connection=conn, ignore_result=True).id
            for i in range(3)]
        # Celery's default is delivery_mode 2 (persistent); 1 asks for a transient one.
        transient = broker_choice.report.apply_async(
            ("t",), queue="parked", connection=conn, ignore_result=True, delivery_mode=1).id
    if redis:
        if stop == "kill":
            redis.kill()  # SIGKILL: no save, no goodbye
        else:
            redis.kill(signal.SIGTERM)  # a clean shutdown: Redis writes a snapshot on its way
        redis.start()  # the same port and folder
    else:
        # Celery declared the queue durable (its default), and all four are in it.
        assert rabbit.queues("durable", "messages_ready")["parked"] == {
            "durable": "true", "messages_ready": "4"}
        if stop == "kill":
            os.killpg(rabbit.proc.pid, signal.SIGKILL)  # the node's whole process group
            rabbit.proc.wait(10)
        rabbit.restart()  # after a kill, only its epmd is left to stop; then the same data
        drop_pooled(url)
    kept = take_ids(url, "parked")
    expected = {("redis", "kill"): [], ("redis", "clean"): [*persistent, transient],
                ("redis-aof", "kill"): [*persistent, transient],
                ("rabbitmq", "kill"): persistent, ("rabbitmq", "clean"): persistent}
    assert sorted(kept) == sorted(expected[broker, stop])
    observe(f"restart-{stop}", broker, f"{len(set(kept) & set(persistent))} of 3 persistent, "
                                       f"{int(transient in kept)} of 1 transient")


# -- moving queued messages from one broker to the other -----------------------------------------

def test_celery_migrate_moves_queued_messages_between_brokers(rabbit, make_stack):
    """`celery migrate <from> <to>`: queued tasks move from a Redis to RabbitMQ, in the
    same queue, ids kept; acked at the source, so Redis is left empty."""
    import broker_choice

    redis = make_stack().redis
    with broker_choice.app.connection_for_write(redis.url(0)) as conn:
        ids = [broker_choice.report.apply_async((f"m{i}",), queue="moving", connection=conn,
                                                ignore_result=True).id for i in range(3)]
    assert redis.client(0).llen("moving") == 3
    out = subprocess.run(
        [sys.executable, "-m", "celery", "migrate", redis.url(0), rabbit.url(), "-Q", "moving",
         "--ack-messages", "-t", "2"],
        cwd=EXAMPLES, capture_output=True, text=True, timeout=90)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("Migrating task") == 3
    assert redis.client(0).llen("moving") == 0
    assert take_ids(rabbit.url(), "moving") == ids


# -- rpc://: results for the sender only -------------------------------------------------------

def test_rpc_results_reach_only_the_client_that_sent_the_task(sides, rabbit):
    side = sides["rabbitmq"]
    side.env = {**side.env, "CELERY_RESULT_BACKEND": "rpc://"}
    side.worker("broker_choice", "-c", "1", name="rpc")

    def client(name: str) -> Celery:
        app = Celery(name)
        app.conf.update(broker_url=rabbit.url(), broker_read_url=rabbit.url(),
                        broker_write_url=rabbit.url(), task_default_queue=QUEUE,
                        task_queue_max_priority=9)
        app.backend_cls = "rpc://"
        return app

    sender, other = client("sender"), client("other")
    try:
        result = sender.send_task("broker_choice.report", ["via rpc"])
        assert result.get(timeout=20) == "via rpc"
        # Another process that knows the id: the reply went to the sender's queue.
        elsewhere = other.AsyncResult(result.id)
        assert elsewhere.state == "PENDING"
        with pytest.raises(celery.exceptions.TimeoutError):
            elsewhere.get(timeout=2)
    finally:
        for app in (sender, other):
            with contextlib.suppress(Exception):  # its reply consumer's own connection
                app.backend.result_consumer.stop()
            app.close()


# -- the sandbox's profile, natively ----------------------------------------------------------

def test_the_sandbox_rabbitmq_worker_runs_natively(rabbit, own_stack, tmp_path):
    """docker-compose.yml's `worker-rabbitmq` (profile rabbitmq): its own command, environment
    and healthcheck, run by support.sandbox.NativeStack, with this node standing for the
    `rabbitmq` service as the private Redis and SMTP server stand for `redis` and `mailpit`."""
    clock = Clock("the rabbitmq profile's worker, run natively")
    smtp = own_stack.smtp
    stack = NativeStack(tmp_path, own_stack.redis.port, smtp.port, clock,
                        COMPOSE_PROFILES="rabbitmq")
    stack.endpoints["rabbitmq"] = {5672: rabbit.port}
    assert "worker-rabbitmq" in stack.python_services()
    env = stack.env("worker-rabbitmq")
    assert env["CELERY_BROKER_URL"] == f"amqp://guest:guest@127.0.0.1:{rabbit.port}//"
    try:
        stack.start("worker-rabbitmq")
        ping = stack.wait_healthy("worker-rabbitmq")  # celery inspect ping, over AMQP
        assert f"celery@{stack.hostname}: OK" in ping.stdout
        client = Celery("sandbox-client")
        client.config_from_object("celeryconfig")
        client.conf.update(broker_url=rabbit.url(), broker_read_url=rabbit.url(),
                           broker_write_url=rabbit.url())
        client.backend_cls = env["CELERY_RESULT_BACKEND"]
        try:
            sent = client.send_task("celery_app.send_email",
                                    ["sandbox@example.com", "Via RabbitMQ", "Hi"])
            assert sent.get(timeout=30)["status"] == "sent"
        finally:
            client.close()
        [mail] = smtp.wait_for("sandbox@example.com")
        assert mail["Subject"] == "Via RabbitMQ"
        clock("step passed: worker-rabbitmq answered ping and sent a mail queued on RabbitMQ")
    finally:
        stack.stop()


def test_kombu_brings_py_amqp_with_it():
    """`pip install "celery[redis]"` is enough for RabbitMQ too: kombu requires py-amqp."""
    from importlib import metadata

    from packaging.requirements import Requirement

    requires = {Requirement(r).name for r in metadata.requires("kombu") or []
                if "extra ==" not in r}
    assert "amqp" in requires
    assert "kombu" in {Requirement(r).name for r in metadata.requires("celery")
                       if "extra ==" not in r}


ROWS = {
    "same": "Q26 tasks + a chord, unchanged",
    "priority": "Priority 9, 5, 0, none queued, then one worker",
    "kill": "`kill -9` of the worker mid-task (acks late)",
    "countdown": "Countdown 4.5 s, timeout 3 s",
    "restart-kill": "3 persistent + 1 transient message queued, broker `kill -9`ed, started",
    "restart-clean": "The same, broker stopped cleanly, started",
}


def generated() -> dict[Path, str]:
    """The page's two includes, from what this module's tests observed."""
    lines = ["| Behaviour | Redis | RabbitMQ |", "|---|---|---|"]
    for row, title in ROWS.items():
        seen = OBSERVED[row]
        redis = seen["redis"] + (f"; with AOF: {seen['redis-aof']}" if "redis-aof" in seen else "")
        lines.append(f"| {title} | {redis} | {seen['rabbitmq']} |")
    note = (f"RabbitMQ {NODE['version']}: `consumer_timeout` defaults to "
            f"{NODE['consumer_timeout'] // 60000} minutes, and each channel checks it every "
            f"`channel_tick_interval`, {NODE['channel_tick_interval'] // 1000} s by default "
            f"(both read from the installed `rabbit.app`). The tests' node runs with "
            f"{CONSUMER_TIMEOUT_MS / 1000:g} s and {TICK_MS / 1000:g} s; it accepted AMQP "
            f"{NODE['started_in']:.1f} s after it was started, on the run that wrote this.\n")
    return {MATRIX: "\n".join(lines) + "\n", NODE_NOTE: note}


def masked(text: str) -> str:
    """Timings vary from run to run; everything else must not."""
    return re.sub(r"\d+\.\d+", "N.N", text)


def test_the_page_shows_what_these_tests_saw():
    """Runs last: the committed includes say what this run saw, timings aside.
    `make includes` (UPDATE_INCLUDES=1) writes this run's figures into them instead."""
    if not (all(set(BROKERS) <= set(OBSERVED.get(row, ())) for row in ROWS) and "version" in NODE):
        pytest.skip("needs the whole module: run tests/celery/test_broker_choice.py alone")
    for path, text in generated().items():
        write_include(path.name, text, same=masked)
