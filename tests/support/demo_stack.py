"""A private Redis plus Celery workers for one demo module, and a client that is not the demo's app.

The session fixtures in conftest.py configure `celery_app.app` in-process for the
main examples. A pitfall demo needs its own broker (so no other worker steals its
messages) and often its own app config (a short visibility timeout), so its test
talks to the workers through a separate client app and `send_task` by name,
exactly as any other producer would.
"""

import contextlib
import os
from pathlib import Path

from celery import Celery

from . import celery_procs
from .redis_server import RedisServer


class DemoStack:
    def __init__(self, workdir: Path, appendonly: bool = False, **env: str):
        self.workdir = workdir
        self.redis = RedisServer(workdir / "redis", appendonly=appendonly).start()
        self.env = {
            **os.environ,
            "CELERY_BROKER_URL": self.redis.url(0),
            "CELERY_RESULT_BACKEND": self.redis.url(1),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.client = Celery("client", broker=self.redis.url(0), backend=self.redis.url(1))
        self.client.conf.update(
            broker_connection_timeout=2,
            broker_transport_options={"socket_timeout": 5, "socket_connect_timeout": 2},
            redis_socket_timeout=5,
            redis_socket_connect_timeout=2,
            # Celery lets CELERY_BROKER_URL / CELERY_RESULT_BACKEND in os.environ (which the
            # session's example_env sets) override the URLs given above; these two do not.
            broker_read_url=self.redis.url(0),
            broker_write_url=self.redis.url(0),
        )
        self.client.backend_cls = self.redis.url(1)  # idem for the result backend
        self.procs: list[celery_procs.Proc] = []

    def worker(self, app: str, *args: str, name: str = "w1", ready: bool = True,
               **env: str) -> celery_procs.Proc:
        """A real `celery -A <app> worker` on this stack's Redis (QUICK flags), ready.

        `ready=False` returns at once: start several, then `wait_for_log(r"ready\\.")` each.
        """
        log = self.workdir / f"{name}.log"
        proc = celery_procs.Proc(
            [celery_procs.CELERY, "-A", app, "worker", "-n", f"{name}@%h",
             "--loglevel=info", *celery_procs.QUICK, *args],
            {**self.env, **env}, log,
        )
        self.procs.append(proc.start())
        if ready:
            proc.wait_for_log(r"ready\.")
        return proc

    def close(self) -> None:
        for proc in self.procs:  # SIGTERM them all first: their warm shutdowns overlap
            if proc.proc and proc.proc.poll() is None:
                proc.proc.terminate()
        for proc in self.procs:
            proc.stop()
        # An AsyncResult still alive unsubscribes from its result channel when it is
        # garbage-collected; with Redis gone that retries for ~20 s, then raises.
        with contextlib.suppress(Exception):
            self.client.backend.result_consumer.subscribed_to.clear()
        with contextlib.suppress(Exception):
            self.client.close()
        self.redis.stop()
