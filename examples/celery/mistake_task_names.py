"""A mistake kept on purpose: the source's task names, which match nothing.

Shown on docs/celery/q26-what-is-celery.md (the schedule) and
docs/celery/q28-how-celery-works.md (the routes).

The usual version creates `Celery("tasks")` in a module called celery_app.py and
then names its tasks "tasks.<function>" in the beat schedule and the routes. But
the prefix of an automatic name is the module the task is defined in, so here
the tasks register as "mistake_task_names.<function>". Consequences, each one
shown by tests/celery/test_mistake_task_names.py against a real worker and Beat:

- Beat happily sends "tasks.cleanup_old_files"; the worker logs "Received
  unregistered task of type 'tasks.cleanup_old_files'", discards the message,
  and the result becomes FAILURE with NotRegistered.
- The "tasks.*" routes never match, so every task goes to the default `celery` queue.
- Even with correct names, messages routed to `emails`/`images` wait forever
  for a worker started without `-Q celery,emails,images`.

The fixed version is celery_app.py (sections app and cleanup) with celeryconfig.py (routing).
"""

import os

import mailer
import media
from celery import Celery
from celery.schedules import crontab

# --8<-- [start:app]
app = Celery("tasks")  # only names tasks defined in __main__, not in this module
app.config_from_object("celeryconfig")  # broker, backend, JSON: as in celery_app.py


@app.task
def send_email(to: str, subject: str, body: str) -> str:
    return mailer.send_mail(to, subject, body)


@app.task
def process_image(name: str) -> dict:
    return media.resize(name)


@app.task
def cleanup_old_files() -> int:
    return media.delete_old_files(days=30)
# --8<-- [end:app]


# --8<-- [start:names]
every = os.environ.get("CLEANUP_EVERY_SECONDS")  # as in celery_app.py: watch Beat work
app.conf.beat_schedule = {
    "cleanup-every-night": {
        "task": "tasks.cleanup_old_files",  # registered as mistake_task_names.cleanup_old_files
        "schedule": float(every) if every else crontab(hour=2, minute=0),
    },
}
app.conf.task_routes = {  # neither key is a registered name: both tasks go to `celery`
    "tasks.send_email": {"queue": "emails"},
    "tasks.process_image": {"queue": "images"},
}
# --8<-- [end:names]
