"""Q52: one OpenTelemetry trace from the API through a Celery task to PostgreSQL, across two
processes, with the trace ID in each log line the signup wrote. Neither process is this one:
the example sets up tracing for the whole process it runs in."""

import json
import re

import pytest

from support.celery_procs import QUICK
from support.includes import write_include
from support.load import request
from support.waiting import wait_until

EMAIL = "ada@example.com"


def spans(log: str) -> list[dict]:
    return [json.loads(line) for line in log.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_one_trace_from_the_api_through_celery_to_postgresql(programs, instances, own_stack,
                                                             database_url):
    env = {"CELERY_BROKER_URL": own_stack.redis.url(4),
           "DATABASE_URL": database_url.replace("postgresql+psycopg://", "postgresql://")}
    worker = programs("celery", "-A", "traced_signup", "worker", "--pool=solo",
                      "--loglevel=info", *QUICK, ready=r"ready\.", OTEL_SERVICE_NAME="worker",
                      **env)
    api = instances("traced_signup:api", OTEL_SERVICE_NAME="api", **env)
    status, body = request(f"{api.url}/signups?email={EMAIL}", "POST")
    assert status == 202
    task_id = json.loads(body)["task_id"]
    wait_until(lambda: f"signup {EMAIL} recorded" in worker.log, 30, "the task to run")
    worker_log = worker.log
    wait_until(lambda: "SpanKind.SERVER" in api.log, 10, "the API's span to be written")
    api_log = api.log
    server = next(s for s in spans(api_log) if s["kind"] == "SpanKind.SERVER")
    trace_id = server["context"]["trace_id"]
    trace = [s for s in spans(api_log) + spans(worker_log) if s["context"]["trace_id"] == trace_id]
    by_service = {}
    for s in trace:
        by_service.setdefault(s["resource"]["attributes"]["service.name"], []).append(s["name"])
    assert "POST /signups" in by_service["api"]
    assert "apply_async/traced_signup.record_signup" in by_service["api"]
    assert "run/traced_signup.record_signup" in by_service["worker"]
    sql = [s for s in trace if s["attributes"].get("db.system") == "postgresql"
           or s["attributes"].get("db.system.name") == "postgresql"]
    assert len(sql) == 2  # CREATE TABLE and INSERT, children of the task's span
    # The log lines about this signup, in either process, and the trace ID each carries.
    hex_id = trace_id.removeprefix("0x")
    carried = {}
    for line in (api_log + worker_log).splitlines():
        m = re.search(r"trace_id=(\w+) span_id=\w+ (.*)", line)
        if m and (EMAIL in line or task_id in line):
            carried[re.sub(r"\[[-\w]+\]|in [\d.]+s: None", "", m[2]).strip()] = m[1]
    assert carried == {
        f"signup {EMAIL} queued as {task_id}": hex_id,  # the API, inside its request's span
        "Task traced_signup.record_signup received": "0",  # before the task's span starts
        f"signup {EMAIL} recorded": hex_id,  # the task, in the worker process
        "Task traced_signup.record_signup succeeded": hex_id,
    }, carried
    access = [line for line in api_log.splitlines() if '"POST /signups?email=' in line]
    assert len(access) == 1 and "trace_id" not in access[0]  # uvicorn's own format
    write_include("q52-trace.md", "\n".join(
        ["| Process | Spans of the one trace |", "|---|---|",
         *[f"| `{service}` | {', '.join(f'`{n}`' for n in names)} |"
           for service, names in sorted(by_service.items())],
         "", "| Log line (worker or API) | `trace_id` |", "|---|---|",
         *[f"| `{line.replace(task_id, '<task id>')}` | "
           f"{'the trace ID' if value == hex_id else '`0`'} |"
           for line, value in carried.items()]]))
