"""One trace across two processes: the API publishes a Celery task, a worker runs it and
writes to PostgreSQL, and every span and every log line of that signup carries one trace ID.

    export OTEL_SERVICE_NAME=api DATABASE_URL=postgresql://postgres@localhost:5432/guide
    uvicorn traced_signup:api --port 8000
    OTEL_SERVICE_NAME=worker celery -A traced_signup worker --pool=solo --loglevel=info

Spans are printed as one JSON line each (ConsoleSpanExporter): in production an OTLP
exporter sends them to a collector instead, and nothing else here changes.
"""

import logging
import os

import psycopg
from celery import Celery
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.celery import CeleryInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@localhost:5432/guide")
LOG_FORMAT = "%(levelname)s %(name)s trace_id=%(otelTraceID)s span_id=%(otelSpanID)s %(message)s"
log = logging.getLogger("traced_signup")


# --8<-- [start:setup]
def setup_tracing() -> None:
    """One provider per process, named by OTEL_SERVICE_NAME; trace IDs in every log record."""
    provider = TracerProvider(resource=Resource.create())
    provider.add_span_processor(SimpleSpanProcessor(
        ConsoleSpanExporter(formatter=lambda span: span.to_json(indent=None) + "\n")))
    trace.set_tracer_provider(provider)
    LoggingInstrumentor().instrument(set_logging_format=True, logging_format=LOG_FORMAT)
    CeleryInstrumentor().instrument()  # the context travels in the task message's headers
    PsycopgInstrumentor().instrument()  # a span per statement


setup_tracing()
app = Celery("traced_signup",
             broker=os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0"))
app.conf.update(task_ignore_result=True, worker_log_format=LOG_FORMAT,
                worker_task_log_format=LOG_FORMAT, broker_connection_retry_on_startup=True)
api = FastAPI(title="traced signup")
FastAPIInstrumentor.instrument_app(api)
# --8<-- [end:setup]


# --8<-- [start:flow]
@api.post("/signups", status_code=202)
def signup(email: str) -> dict:
    task = record_signup.delay(email)
    log.info("signup %s queued as %s", email, task.id)
    return {"task_id": task.id}


@app.task
def record_signup(email: str) -> None:
    with psycopg.connect(DATABASE_URL) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS signups (email text PRIMARY KEY)")
        conn.execute("INSERT INTO signups VALUES (%s) ON CONFLICT DO NOTHING", (email,))
    log.info("signup %s recorded", email)
# --8<-- [end:flow]
