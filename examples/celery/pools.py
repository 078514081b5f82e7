"""Q30: worker pools. The same tasks on a threads worker and on a prefork worker.

    celery -A pools worker --pool=threads --concurrency=4 --loglevel=info
    celery -A pools worker --pool=prefork --concurrency=2 --loglevel=info
    celery -A pools worker --concurrency=1 --max-memory-per-child=150000 --loglevel=info
"""

import os
import time

from celery import Celery

# --8<-- [start:app]
app = Celery("pools")
app.config_from_object("celeryconfig")
app.conf.task_default_queue = "pools"  # its own queue: the main worker never takes these
# --8<-- [end:app]

_kept: list[bytes] = []  # what the leaking task never lets go of


# --8<-- [start:tasks]
@app.task
def wait_for_io(seconds: float) -> float:
    time.sleep(seconds)  # stands for a network call: the GIL is released while waiting
    return seconds


@app.task
def crunch(n: int) -> float:
    # Pure Python arithmetic: holds the GIL the whole time. Returns the CPU seconds this
    # task's thread used, so a caller can tell how much of the batch really ran at once.
    start, total = time.thread_time(), 0
    for i in range(n):
        total += i * i % 7
    return time.thread_time() - start
# --8<-- [end:tasks]


# --8<-- [start:leak]
@app.task
def leaky_import(megabytes: int) -> int:
    # A leak: every run keeps another block alive in the child process, for good.
    _kept.append(b"x" * (megabytes * 1024 * 1024))
    return os.getpid()


@app.task
def child_pid() -> int:
    return os.getpid()
# --8<-- [end:leak]
