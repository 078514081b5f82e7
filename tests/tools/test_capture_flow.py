"""tools/capture_flow.py: Q28's flow, captured from a real run and checked against the page.

A private Redis, a real prefork worker started as the sandbox starts it, and the
script run as a reader runs it (`python capture_flow.py`). The fresh capture must
show the message, the fetch and the result as Q28 describes them, and have the same
shape as the committed docs/_includes/q28-capture.md, which `make includes`
(UPDATE_INCLUDES=1) rewrites from the fresh capture.
"""

import json
import re
import subprocess
import sys

import pytest

from support.includes import write_include
from support.once_per_run import once_per_run
from support.paths import EXAMPLES, ROOT
from support.stack import Stack

pytestmark = pytest.mark.slow

PAGE = ROOT / "docs" / "_includes" / "q28-capture.md"


def regenerate(tmp) -> str:
    """Run the script against a private Redis and a real worker; return its Markdown."""
    stack = Stack(tmp)
    try:
        # The script waits for the worker's first BRPOP itself, so both start together. The
        # task's slow work is shortened, but long enough to read `unacked` while it runs.
        worker = stack.worker("celery_app", "-Q", "celery,emails,images", "--pool=prefork",
                              "-c", "1", ready=False,
                              settings={"signup_celery.SLOW_WORK_SECONDS": 0.3})
        out = tmp / "capture.md"
        script = subprocess.run([sys.executable, str(ROOT / "tools" / "capture_flow.py"), str(out)],
                                cwd=EXAMPLES,
                                env=stack.env(), timeout=60, capture_output=True, text=True)
        assert script.returncode == 0, script.stderr + worker.log
        assert [m["To"] for m in stack.smtp.messages] == ["user@example.com"]  # it really ran
        return out.read_text()
    finally:
        stack.close()


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> str:
    return once_per_run(tmp_path_factory, "q28-capture", regenerate)


@pytest.fixture(scope="module")
def run(capture) -> dict:
    return parse(capture)


def parse(markdown: str) -> dict:
    fences = re.findall(r"```(\w+)\n(.*?)\n```", markdown, re.S)
    assert [lang for lang, _ in fences] == ["text", "json", "json", "text", "text", "json"]
    log, envelope, body, during, after, meta = (text for _, text in fences)
    commands = []
    for line in log.splitlines():
        role, db, verb, *rest = line.split(None, 3)
        commands.append((role, db, verb, rest[0] if rest else ""))
    return {"commands": commands, "envelope": json.loads(envelope), "body": json.loads(body),
            "during": during, "after": after, "meta": json.loads(meta)}


def keys(value, prefix="") -> set[str]:
    """Every key path in a JSON document: its shape, without the values."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in {prefix + k} | keys(v, prefix + k + ".")}
    return set()


def shape(markdown: str) -> dict:
    """Per role (their interleaving is a race), the commands with their keys; JSON key paths."""
    parsed = parse(markdown)
    per_role = {}
    for role, db, verb, rest in parsed["commands"]:
        args = rest.split()
        key = " ".join(sorted(args[:-1])) + " " + args[-1] if verb == "BRPOP" else args[:1]
        per_role.setdefault(role, []).append((db, verb, str(key)))
    return {"commands": per_role, "envelope": keys(parsed["envelope"]),
            "meta": keys(parsed["meta"]), "after": re.sub(r"\n  .*", "", parsed["after"])}


def by(run: dict, role: str) -> list[tuple[str, str, str]]:
    return [(db, verb, rest) for r, db, verb, rest in run["commands"] if r == role]


def test_client_subscribes_binds_the_queue_then_pushes(run):
    client = by(run, "client")
    assert client[0] == ("db1", "SUBSCRIBE", "celery-task-meta-<task-id>")
    sadd = client.index(("db0", "SADD", r"_kombu.binding.celery celery\x06\x16\x06\x16celery"))
    assert client[sadd - 1][1] == "MULTI"
    assert client.index(("db0", "LPUSH", "celery <envelope>")) > sadd
    # The client's own read: one GET while it waits, the value itself comes by PUBLISH.
    reads = [verb for _, verb, rest in client if "task-meta" in rest]
    assert reads == ["SUBSCRIBE", "GET", "UNSUBSCRIBE"]


def test_envelope_is_protocol_2_with_a_base64_body(run):
    envelope = run["envelope"]
    assert set(envelope) == {"body", "content-encoding", "content-type", "headers", "properties"}
    assert envelope["content-type"] == "application/json"
    headers, props = envelope["headers"], envelope["properties"]
    assert {"task", "id", "argsrepr", "retries", "eta", "root_id"} <= set(headers)
    assert headers["task"] == "signup_celery.send_welcome_email"
    assert (headers["id"], headers["retries"], headers["eta"]) == ("<task-id>", 0, None)
    assert {"delivery_tag", "priority", "delivery_info", "body_encoding"} <= set(props)
    assert props["body_encoding"] == "base64"
    assert props["delivery_info"] == {"exchange": "", "routing_key": "celery"}
    args, kwargs, embed = run["body"]
    assert (args, kwargs) == (["user@example.com"], {})
    assert set(embed) == {"callbacks", "errbacks", "chain", "chord"}


def test_worker_brpops_every_priority_list_with_a_1s_timeout(run):
    (brpop,) = [rest for db, verb, rest in by(run, "worker") if verb == "BRPOP"]
    *lists, timeout = brpop.split()
    queues = ("celery", "emails", "images")
    assert sorted(lists) == sorted(q + step for q in queues for step in ("", *PRIORITY_STEPS))
    assert timeout == "1"


PRIORITY_STEPS = (r"\x06\x163", r"\x06\x166", r"\x06\x169")


def test_delivery_parks_the_message_in_unacked_until_the_ack(run):
    worker = [(verb, rest.split(" ")[0]) for db, verb, rest in by(run, "worker") if db == "db0"]
    assert worker[0][0] == "BRPOP"
    assert worker[1:] == [
        ("MULTI", ""), ("ZADD", "unacked_index"), ("HSET", "unacked"), ("EXEC", ""),
        ("MULTI", ""), ("ZREM", "unacked_index"), ("HDEL", "unacked"), ("EXEC", ""),
    ]
    assert '[<the same envelope>, "", "celery"]' in run["during"]
    assert run["after"].split("\n")[2:6] == ["HLEN unacked", "  0", "ZCARD unacked_index", "  0"]


def test_result_is_setex_with_result_expires_plus_publish(run):
    worker = [(verb, rest) for db, verb, rest in by(run, "worker") if db == "db1"]
    key = "celery-task-meta-<task-id>"
    writes = [(v, r) for v, r in worker if v in ("SETEX", "PUBLISH")]
    assert writes == [
        ("SETEX", f'{key} 3600 {{"status": "STARTED", …}}'),  # task_track_started=True
        ("PUBLISH", f'{key} {{"status": "STARTED", …}}'),
        ("SETEX", f'{key} 3600 {{"status": "SUCCESS", …}}'),  # TTL = result_expires
        ("PUBLISH", f'{key} {{"status": "SUCCESS", …}}'),
    ]
    ttl = int(run["after"].split("\n")[1])
    assert 3590 < ttl <= 3600
    assert set(run["meta"]) == {"status", "result", "traceback", "children", "date_done",
                                "task_id"}
    assert (run["meta"]["status"], run["meta"]["result"]) == ("SUCCESS", "<message-id>")



def test_page_capture_has_the_shape_of_a_fresh_run(capture):
    write_include(PAGE.name, capture, same=shape)


def test_wait_for_gives_up_and_says_what_it_waited_for():
    import capture_flow

    with pytest.raises(TimeoutError, match="no BRPOP from a worker after 0.05 s"):
        capture_flow.wait_for(lambda: False, 0.05, "BRPOP from a worker")
