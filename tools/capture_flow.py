"""Q28: one task's trip through Redis, recorded command by command.

With a worker running (the sandbox's, or
`celery -A celery_app worker -Q celery,emails,images` in examples/celery), run from the
project root:

    python tools/capture_flow.py

It calls `send_welcome_email.delay(...)`, waits for the result, and records
- every command Redis runs meanwhile, through MONITOR (its own connection, in a thread);
- the keys themselves: the `unacked` hash and index while the task runs, the
  stored result and its TTL afterwards.
Ids, times and hostnames are normalised, so two runs print the same thing up to
their order. The output is docs/_includes/q28-capture.md, on the Q28 page.
MONITOR sees one Redis server: the broker and the result backend must share it.
"""

import base64
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis

# The Celery section's application root: the app and the task this script sends.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "celery"))

from celery_app import app  # noqa: E402
from signup_celery import send_welcome_email  # noqa: E402

# Connection names, so that CLIENT LIST tells us who sent each command.
CLIENT, SPY = "capture-client", "capture-spy"
# Connection set-up and MONITOR's own stop signal are not part of the story.
SETUP = {"PING", "HELLO", "SELECT", "CLIENT", "ECHO"}


def wait_for(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} after {timeout} s")
        time.sleep(0.005)
    return value


# --8<-- [start:monitor]
class Monitor(threading.Thread):
    """Keep every command MONITOR reports, until it sees ECHO <stop token>."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.conn = redis.Redis.from_url(url, client_name=SPY)
        self.events: list[dict] = []
        self.token = uuid.uuid4().hex
        self.listening = threading.Event()

    def run(self) -> None:
        with self.conn.monitor() as monitor:  # a dedicated connection, blocked in MONITOR
            self.listening.set()
            for event in monitor.listen():
                if event["command"] == f"ECHO {self.token}":
                    return
                self.events.append(event)

    def stop(self, spy: redis.Redis) -> None:
        spy.echo(self.token)
        self.join(10)
# --8<-- [end:monitor]


def _parked(spy: redis.Redis, task_id: str) -> dict | None:
    """Our message in the `unacked` hash and `unacked_index` sorted set, if it is there."""
    entries = {tag.decode(): json.loads(raw) for tag, raw in spy.hgetall("unacked").items()}
    return next(({"tag": tag, "envelope": envelope, "exchange": exchange,
                  "routing_key": routing_key, "score": spy.zscore("unacked_index", tag)}
                 for tag, (envelope, exchange, routing_key) in entries.items()
                 if envelope["headers"]["id"] == task_id), None)


# --8<-- [start:run]
def run(email: str = "user@example.com") -> dict:
    # Name the client's connections (broker and result backend) to tell them apart.
    app.conf.broker_transport_options = {**app.conf.broker_transport_options,
                                         "client_name": CLIENT}
    app.conf.redis_client_name = CLIENT
    spy = redis.Redis.from_url(app.conf.broker_url, client_name=SPY, socket_timeout=5)
    results = redis.Redis.from_url(app.conf.result_backend, client_name=SPY, socket_timeout=5)
    monitor = Monitor(app.conf.broker_url)
    monitor.start()
    monitor.listening.wait(5)
    # Publish once a worker's BRPOP has been seen: the one that delivers is then recorded.
    wait_for(lambda: any(e["command"].startswith("BRPOP") for e in monitor.events),
             15, "BRPOP from a worker (is one running on this broker?)")

    task = send_welcome_email.delay(email)
    parked = wait_for(lambda: _parked(spy, task.id), 10,
                      "message in `unacked` (WELCOME_DELAY must give the task time)")
    task.get(timeout=30)
    wait_for(lambda: not spy.hexists("unacked", parked["tag"]), 10, "ack")
    meta_key = f"celery-task-meta-{task.id}"
    after = {
        f"TTL {meta_key}": results.ttl(meta_key),
        "HLEN unacked": spy.hlen("unacked"),
        "ZCARD unacked_index": spy.zcard("unacked_index"),
        "EXISTS celery": spy.exists("celery"),
        "SMEMBERS _kombu.binding.celery": sorted(m.decode() for m in
                                                 spy.smembers("_kombu.binding.celery")),
    }
    meta = json.loads(results.get(meta_key))
    names = {c["addr"]: c["name"] for c in spy.client_list()}
    monitor.stop(spy)
    dbs = [c.connection_pool.connection_kwargs.get("db", 0) for c in (spy, results)]
    return {"task_id": task.id, "events": monitor.events, "names": names, "dbs": dbs,
            "parked": parked, "after": after, "meta": meta}
# --8<-- [end:run]


def _normaliser(capture: dict) -> Callable[[str], str]:
    envelope = capture["parked"]["envelope"]
    exact = {
        capture["task_id"]: "<task-id>",
        capture["parked"]["tag"]: "<delivery-tag>",
        envelope["properties"]["reply_to"]: "<reply-to>",
    }
    patterns = [
        (r"gen\d+@[\w.-]+", "gen<pid>@<host>"),  # the client's origin header
        (r"(ZADD unacked_index) [\d.]+", r"\1 <time>"),  # the delivery time, the score
        (r"<[0-9a-f]{16}@interview-guide>", "<message-id>"),  # the mail's Message-ID
        (r"\d{4}-\d\d-\d\dT[\d:.]+\+00:00", "<date-done>"),
    ]

    def normalise(text: str) -> str:
        for value, placeholder in exact.items():
            text = text.replace(value, placeholder)
        for pattern, placeholder in patterns:
            text = re.sub(pattern, placeholder, text)
        return text

    return normalise


def _commands(capture: dict) -> list[tuple[str, int, str]]:
    """(role, db, command) for the commands that carry this task, in the order Redis ran them."""
    tag, meta_key = capture["parked"]["tag"], f"celery-task-meta-{capture['task_id']}"
    kept, blocks, brpop = [], {}, None
    for event in capture["events"]:
        who = (event["client_address"], event["client_port"])
        name = capture["names"].get(f"{who[0]}:{who[1]}")
        if name == SPY or event["client_type"] != "tcp":
            continue
        role = "client" if name == CLIENT else "worker"
        verb, key, *_ = [*event["command"].split(" ", 2), ""]
        line = (role, event["db"], event["command"])
        if verb == "MULTI":
            blocks[who] = [line]
        elif verb == "EXEC":
            block = blocks.pop(who, [])
            if len(block) > 1:  # a transaction around commands we keep
                kept += [*block, line]
        elif verb == "BRPOP":
            brpop = len(kept), line  # the worker's blocking pop, repeated while idle
        elif (verb not in SETUP) if role == "client" else (
                key == meta_key or key.startswith("unacked") and tag in event["command"]):
            if verb == "ZADD" and brpop:  # the message arrived: that BRPOP delivered it
                kept.insert(*brpop)
                brpop = None
            blocks.get(who, kept).append(line)
    return kept


def _short(command: str) -> str:
    """Payloads are shown in full below the log; here they are named."""
    verb, _, rest = command.partition(" ")
    if verb == "LPUSH":
        return f"{verb} {rest.split(' ', 1)[0]} <envelope>"
    if verb == "HSET":
        key, tag, payload = rest.split(" ", 2)
        return f"{verb} {key} {tag} [<envelope>, {json.dumps(json.loads(payload)[1:])[1:]}"
    if verb in ("SETEX", "PUBLISH"):  # SETEX key ttl value, PUBLISH channel message
        *head, payload = rest.split(" ", 2 if verb == "SETEX" else 1)
        status = json.loads(payload)["status"]
        return f'{verb} {" ".join(head)} {{"status": "{status}", …}}'
    return command


def _pushed(capture: dict) -> dict:
    """The envelope as the client sent it: the payload of its LPUSH."""
    return next(json.loads(command.split(" ", 2)[2]) for role, _, command in _commands(capture)
                if role == "client" and command.startswith("LPUSH "))


def render(capture: dict) -> str:
    normalise = _normaliser(capture)
    parked, pushed = capture["parked"], _pushed(capture)
    same = "the same envelope" if parked["envelope"] == pushed else "a different envelope"
    envelope = json.loads(normalise(json.dumps(pushed)))
    body = json.loads(base64.b64decode(parked["envelope"]["body"]))
    log = "\n".join(f"{role:<7}db{db}  {normalise(_short(cmd))}"
                    for role, db, cmd in _commands(capture))
    during = (f'HGET unacked <delivery-tag>\n  [<{same}>, "{parked["exchange"]}", '
              f'"{parked["routing_key"]}"]\n'
              f"ZSCORE unacked_index <delivery-tag>\n  <time of delivery>")
    after = "\n".join(f"{k}\n  {v}" for k, v in capture["after"].items())
    meta = normalise(json.dumps(capture["meta"], indent=2))
    broker_db, backend_db = capture["dbs"]
    dbs = (f"`db{broker_db}` is the broker, `db{backend_db}` the result backend"
           if broker_db != backend_db else f"`db{broker_db}` is broker and result backend")
    fence = "```"
    return f"""<!-- Written by tools/capture_flow.py, tested by tests/tools/test_capture_flow.py -->
**1. What Redis ran**, in order (MONITOR). `client` is the process that called
`.delay()` and `.get()`, `worker` the Celery worker; {dbs}.
Long payloads are named here and shown in full below.

{fence}text
{log}
{fence}

**2. The envelope** the client pushed (the `LPUSH` payload):

{fence}json
{json.dumps(envelope, indent=2)}
{fence}

**3. Its `body`**, base64-decoded: `[args, kwargs, embed]`:

{fence}json
{json.dumps(body)}
{fence}

**4. The keys while the task runs**: the message is parked, not gone:

{fence}text
{during}
{fence}

**5. The keys after the ack**:

{fence}text
{normalise(after)}
{fence}

**6. The stored result** (`GET celery-task-meta-<task-id>`):

{fence}json
{meta}
{fence}
"""


def main(argv: list[str]) -> str:
    text = render(run())
    if len(argv) > 1:
        with open(argv[1], "w") as out:
            out.write(text)
    return text


if __name__ == "__main__":
    print(main(sys.argv))
