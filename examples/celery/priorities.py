"""Q27, Priority on Redis: separate queues, and priority levels inside a queue.

Routing (celeryconfig.task_routes) sends each task to its own queue, so a
worker can be dedicated to it. Inside one queue, the Redis transport keeps
one list per priority step, and 0 is the HIGHEST priority (the opposite of
RabbitMQ). Shown on docs/celery/q27-celery-vs-backgroundtasks.md, which
queues four jobs, then starts one worker:

    celery -A priorities worker -c 1 --loglevel=info
"""

from celery import Celery
from celery.utils.log import get_task_logger

# --8<-- [start:priorities]
app = Celery("priorities")
app.config_from_object("celeryconfig")  # worker_prefetch_multiplier = 1
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    # kombu's default, spelled out: priorities 0-2 share a list, 3-5, 6-8, then 9.
    "priority_steps": [0, 3, 6, 9],
}
logger = get_task_logger(__name__)


@app.task
def report(label: str) -> str:
    logger.info("ran %s", label)
    return label
# --8<-- [end:priorities]
