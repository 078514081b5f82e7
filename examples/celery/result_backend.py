"""Q27, Result backend: what the worker stores for a task, and for how long.

With the Redis backend, each result is one key, `celery-task-meta-<task id>`,
holding JSON and expiring after `result_expires` (celeryconfig: 1 hour).
Shown on docs/celery/q27-celery-vs-backgroundtasks.md (and cited by Q28):

    celery -A result_backend worker --loglevel=info
"""

from celery import Celery

# --8<-- [start:task]
app = Celery("result_backend")
app.config_from_object("celeryconfig")  # result_expires = 3600


@app.task
def invoice_total(amounts: list[float]) -> dict:
    return {"total": round(sum(amounts), 2), "lines": len(amounts)}
# --8<-- [end:task]
