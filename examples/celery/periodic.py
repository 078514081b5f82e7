"""Q27, Scheduling: Celery Beat sends a task at a fixed interval; a worker runs it.

Beat only sends messages; run exactly one Beat per schedule, or every
message is sent twice. Shown on docs/celery/q27-celery-vs-backgroundtasks.md:

    celery -A periodic beat --loglevel=info
    celery -A periodic worker --loglevel=info
"""

from celery import Celery

# --8<-- [start:schedule]
app = Celery("periodic")
app.config_from_object("celeryconfig")


@app.task
def send_digest() -> str:
    return "digest sent"


app.conf.beat_schedule = {
    "digest": {
        "task": send_digest.name,  # the registered name: "periodic.send_digest"
        "schedule": 60.0,  # seconds
    },
}
# --8<-- [end:schedule]
