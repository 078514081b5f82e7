"""Q27, Persistence: what survives `kill -9`, and which settings decide it.

The welcome mail of signup_celery.py, as three tasks that differ only in
when the message is acknowledged. Shown on
docs/celery/q27-celery-vs-backgroundtasks.md (and cited by Q28), which kills
the pool child while each one runs and shows what happens next. Run the
worker as the page does:

    celery -A crash_safety worker -c 1 --loglevel=info
"""

import os
import time

import mailer
from celery import Celery
from celery.utils.log import get_task_logger

# --8<-- [start:app]
app = Celery("crash_safety")
# celeryconfig sets task_acks_late=True and task_reject_on_worker_lost=True.
app.config_from_object("celeryconfig")
logger = get_task_logger(__name__)
# --8<-- [end:app]


# --8<-- [start:tasks]
SLOW_WORK_SECONDS = 2  # stands for slow work: the window a crash lands in


def welcome(task, email: str) -> str:
    # Each run says which process runs it and whether the broker saw it before.
    redelivered = task.request.delivery_info.get("redelivered", False)
    logger.info("welcome %s: pid=%d redelivered=%s", email, os.getpid(), redelivered)
    time.sleep(SLOW_WORK_SECONDS)
    return mailer.send_mail(email, "Welcome!", "Thanks for signing up.")


@app.task(bind=True)  # ack after the run; a lost worker requeues the message
def welcome_acks_late(self, email: str) -> str:
    return welcome(self, email)


@app.task(bind=True, reject_on_worker_lost=False)  # ack late, but never requeue
def welcome_no_requeue(self, email: str) -> str:
    return welcome(self, email)


# Celery's default: acked when a pool process accepts it, just before it runs
# (a prefetched message stays unacked until then).
@app.task(bind=True, acks_late=False)
def welcome_early_ack(self, email: str) -> str:
    return welcome(self, email)
# --8<-- [end:tasks]
