"""Q27, Monitoring: what a running worker tells `celery inspect` and Flower.

The Q27 page runs a slow task and asks the worker what it is doing:

    celery -A monitoring worker -E --loglevel=info
    celery -A monitoring inspect active
    celery -A monitoring inspect stats
    celery -A monitoring flower --port=5555

`-E` makes the worker send task events; Flower builds its task list from them.
Shown on docs/celery/q27-celery-vs-backgroundtasks.md.
"""

import time

from celery import Celery

# --8<-- [start:task]
app = Celery("monitoring")
app.config_from_object("celeryconfig")


@app.task
def build_report(seconds: float) -> str:
    time.sleep(seconds)  # stands for a long job worth watching
    return f"report built in {seconds} s"
# --8<-- [end:task]
