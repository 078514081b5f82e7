"""A mistake kept on purpose: the usual `GET /task/{id}`, which loses the error.

Shown on docs/celery/q26-what-is-celery.md.

For a failed task, `task.result` is the exception object. FastAPI's encoder
falls back to the exception's attributes (`vars(exc)`): `{}` for most errors, so
the client gets `200 {"status": "FAILURE", "result": {}}`, and for an
SMTPDataError `{"smtp_code": 451, "smtp_error": "…"}`, never the error's type.
Declare the return type as `dict` and the same request becomes a 500 instead (pydantic: "Unable to
serialize unknown type: <class 'FileNotFoundError'>"). It also reads the
backend twice (`state`, then `ready()`), and the two reads can disagree.
tests/celery/test_mistake_failure_result.py shows both answers against a real worker.
(The usual version is `async def`, which also blocks the event loop on Redis;
that is another lesson, so here it is a plain `def`.)

The fix is api.py's task_status section: one read, and the error as "Type: message".
"""

from celery_app import send_email
from fastapi import FastAPI

app = FastAPI()


# --8<-- [start:task_status]
@app.get("/task/{task_id}")
def get_task_status(task_id: str):
    task = send_email.AsyncResult(task_id)
    return {
        "task_id": task_id,
        "status": task.state,
        "result": task.result if task.ready() else None,  # an exception, for a failure
    }
# --8<-- [end:task_status]


# --8<-- [start:typed]
@app.get("/typed/task/{task_id}")
def get_task_status_typed(task_id: str) -> dict:  # the response is now validated
    task = send_email.AsyncResult(task_id)
    return {
        "task_id": task_id,
        "status": task.state,
        "result": task.result if task.ready() else None,
    }
# --8<-- [end:typed]
