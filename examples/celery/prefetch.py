"""Pitfalls: worker_prefetch_multiplier counts per pool process, not per worker.

celeryconfig.py sets `worker_prefetch_multiplier = 1`, which does not mean "one
task at a time": a worker reserves multiplier x concurrency messages.
`--concurrency=4` is one worker (one node, one broker connection) with four
child processes, not four workers. The worker says so itself in
`celery -A celery_app inspect stats`. Shown on docs/celery/pitfalls.md.
"""

from celery import Celery


# --8<-- [start:report]
def prefetch_report(app: Celery, node: str, timeout: float = 5) -> dict:
    """Three figures from `inspect stats` for one worker node, e.g. "celery@host"."""
    stats = app.control.inspect(destination=[node], timeout=timeout).stats()[node]
    return {
        "prefetch_count": stats["prefetch_count"],  # multiplier x concurrency
        "max-concurrency": stats["pool"]["max-concurrency"],
        "processes": len(stats["pool"]["processes"]),  # the child pids: one worker, N children
    }
# --8<-- [end:report]
