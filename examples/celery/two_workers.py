"""Q27, Distributed: two worker nodes on one broker share a batch.

Start as many nodes as you need, on one machine or on many, all pointed at
the same broker; each takes messages as it becomes free. Shown on
docs/celery/q27-celery-vs-backgroundtasks.md:

    celery -A two_workers worker -n alpha@%h --loglevel=info
    celery -A two_workers worker -n beta@%h --loglevel=info
"""

import time

from celery import Celery

# --8<-- [start:task]
app = Celery("two_workers")
app.config_from_object("celeryconfig")


@app.task(bind=True)
def make_thumbnail(self, n: int) -> str:
    time.sleep(0.1)  # stands for real work, so no node can take the whole batch alone
    return self.request.hostname  # the node that ran it, e.g. "alpha@host"
# --8<-- [end:task]
