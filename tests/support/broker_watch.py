"""Watching Redis from the outside: what was published, and every state a task went through."""

import json

import redis

from .waiting import wait_until


def lpush_calls(client: redis.Redis) -> int:
    """How many LPUSHes the server has run: kombu publishes every task message with one."""
    return client.info("commandstats").get("cmdstat_lpush", {}).get("calls", 0)


class NothingPublished:
    """`with NothingPublished(broker):` fails if a task message was published inside the block.

    Counted on the server, so it holds whoever would have published, and even with
    a worker that empties the queues at once.
    """

    def __init__(self, client: redis.Redis):
        self.client = client

    def __enter__(self) -> "NothingPublished":
        self.before = lpush_calls(self.client)
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            published = lpush_calls(self.client) - self.before
            assert published == 0, f"{published} message(s) published to the broker"


class StateLog:
    """Every state the Redis result backend stores for one task, in order.

    The backend PUBLISHes each state on the channel `celery-task-meta-<id>` as it
    stores it, so subscribing before the task is sent sees even the states that are
    overwritten a millisecond later (STARTED, RETRY). Send with `task_id=log.task_id`.
    """

    FINAL = ("SUCCESS", "FAILURE", "REVOKED")

    def __init__(self, client: redis.Redis, task_id: str):
        self.task_id = task_id
        self.metas: list[dict] = []
        self._pubsub = client.pubsub(ignore_subscribe_messages=True)

    def __enter__(self) -> "StateLog":
        self._pubsub.subscribe(f"celery-task-meta-{self.task_id}")
        return self

    def __exit__(self, *exc) -> None:
        self._pubsub.close()

    @property
    def states(self) -> list[str]:
        return [meta["status"] for meta in self.metas]

    def _poll(self) -> bool:
        while (message := self._pubsub.get_message(timeout=0.05)) is not None:
            self.metas.append(json.loads(message["data"]))
        return bool(self.metas) and self.metas[-1]["status"] in self.FINAL

    def until_final(self, timeout: float = 15) -> list[str]:
        """Collect states until SUCCESS, FAILURE or REVOKED; return them all."""
        wait_until(self._poll, timeout, f"a final state for task {self.task_id}")
        return self.states
