"""Pitfalls: `kill -9` of the whole worker parks its message until the visibility timeout.

With acks late (celeryconfig.py) the message a worker is running is not acked
yet. Kill only the pool child and the worker's parent process requeues it at
once (reject on worker lost, see idempotency.py). Kill the whole worker and
nobody is left to do that: the message stays in the `unacked` hash until its
visibility timeout passes; then another worker's restore sweep puts it back on
the queue and runs it. This uses the 3 s timeout of visibility_timeout.py;
with the default it is an hour. Shown on docs/celery/pitfalls.md.

    celery -A killed_worker worker --pool=solo --loglevel=info
"""

import time

from visibility_timeout import app, record_run  # the demo app with a 3 s visibility timeout


# --8<-- [start:long_job]
@app.task(bind=True)
def long_job(self, tag: str, seconds: float) -> None:
    record_run(tag, self.request.hostname)
    time.sleep(seconds)  # stands for real work; the worker is killed in the middle
# --8<-- [end:long_job]
