"""Q34: countdowns on RabbitMQ quorum queues wait in the broker, not in the worker.

On a classic queue, a worker receives a countdown task at once and holds it unacked
until its time: past RabbitMQ's consumer_timeout (30 min by default), the broker
closes the channel. With quorum queues, Celery 5.5+ publishes a countdown through
RabbitMQ's native delayed delivery instead: the message waits in a chain of
`celery_delayed_<n>` queues, each with a message TTL, and reaches the worker when due.
Shown on docs/celery/q34-redis-or-rabbitmq.md. It needs RabbitMQ 3.10 or later
(quorum queues with at-least-once dead-lettering):

    CELERY_BROKER_URL=amqp://guest:guest@localhost:5672// \\
        celery -A quorum_reminders worker --loglevel=info
"""

from celery import Celery
from celery.utils.log import get_task_logger

# --8<-- [start:app]
app = Celery("quorum_reminders")
app.config_from_object("celeryconfig")  # acks late, JSON, results in Redis
app.conf.task_default_queue = "reminders"
app.conf.task_default_queue_type = "quorum"
# Native delayed delivery routes by topic: a direct exchange would leave a countdown
# task in the worker's memory, as on a classic queue.
app.conf.task_default_exchange_type = "topic"
# --8<-- [end:app]

logger = get_task_logger(__name__)


# --8<-- [start:task]
@app.task
def remind(user_id: int) -> str:
    logger.info("reminding %s", user_id)
    return f"reminded {user_id}"
# --8<-- [end:task]
