"""Q26: the Celery app, its three tasks and the nightly schedule.

Run a worker on every queue the routes name:

    celery -A celery_app worker -Q celery,emails,images --loglevel=info
"""

import os
import smtplib

import mailer
import media
from celery import Celery
from celery.schedules import crontab

# --8<-- [start:app]
app = Celery("celery_app", include=["signup_celery", "choosing", "canvas"])
app.config_from_object("celeryconfig")
# --8<-- [end:app]


# --8<-- [start:send_email]
@app.task(
    bind=True,
    max_retries=3,  # 3 retries = 4 runs in all (3 is also the default)
    default_retry_delay=60,  # seconds between runs (3 minutes is the default)
)
def send_email(self, to: str, subject: str, body: str) -> dict:
    try:
        message_id = mailer.send_mail(to, subject, body)
    except (smtplib.SMTPException, OSError) as exc:
        # Retry only what a retry can fix: the SMTP server being unreachable
        # or refusing. A bug (TypeError, NameError…) fails at once.
        raise self.retry(exc=exc) from exc
    return {"status": "sent", "to": to, "message_id": message_id}
# --8<-- [end:send_email]


# --8<-- [start:process_image]
@app.task
def process_image(name: str, width: int = 800) -> dict:
    return media.resize(name, width)
# --8<-- [end:process_image]


# --8<-- [start:cleanup]
@app.task
def cleanup_old_files(days: int = 30) -> int:
    return media.delete_old_files(days)


# The task name is the registered one: "celery_app.cleanup_old_files".
# CLEANUP_EVERY_SECONDS replaces the nightly crontab, to watch Beat work.
every = os.environ.get("CLEANUP_EVERY_SECONDS")
app.conf.beat_schedule = {
    "cleanup-every-night": {
        "task": cleanup_old_files.name,
        "schedule": float(every) if every else crontab(hour=2, minute=0),
        "kwargs": {"days": 30},
    },
}
# --8<-- [end:cleanup]
