"""Q27, Scheduling: Celery Beat sends a task at a fixed interval; a worker runs it.

Beat only sends messages; run exactly one Beat per schedule, or every
message is sent twice. Shown on docs/celery/q27-celery-vs-backgroundtasks.md:

    celery -A periodic beat --loglevel=info
    celery -A periodic worker --loglevel=info
"""

import os

from celery import Celery

# --8<-- [start:schedule]
app = Celery("periodic")
app.config_from_object("celeryconfig")


@app.task
def send_digest() -> str:
    return "digest sent"


# DIGEST_EVERY_SECONDS shortens the interval, to watch Beat at work.
app.conf.beat_schedule = {
    "digest": {
        "task": send_digest.name,  # the registered name: "periodic.send_digest"
        "schedule": float(os.environ.get("DIGEST_EVERY_SECONDS", "60")),
    },
}
# --8<-- [end:schedule]
