"""The one way tests start services: private servers, and the example processes on them.

    stack = Stack(workdir)                   # nothing runs yet; each server starts on first use
    stack.redis, stack.smtp, stack.media     # redis-server on a free port, aiosmtpd, a folder
    stack.env(**extra)                       # a reader's environment, pointed at them
    stack.worker("crash_safety", "-c", "1")  # `celery -A crash_safety worker …`, ready
    stack.beat("periodic")                   # `celery -A periodic beat -s <tmp>`, started
    stack.uvicorn("api:app")                 # a Proc with .url and .port, ready
    stack.celery("inspect", "stats")         # a `celery` command run to its end
    stack.line("celery -A canvas worker", "w.log")  # a page's line, run by bash as written
    stack.client()                           # a Celery producer bound to this stack's Redis
    stack.bind(app)                          # an example's app, bound to it for good
    stack.postgres(), stack.rabbitmq(**opts) # further private servers, on first use
    stack.redis_server("backend")            # a further Redis of its own, for fault demos
    stack.close()                            # every process it started is reaped

Programs run from the Celery section's app root through support.launch, which takes the
demo timings a test passes as `settings=` (see there). The fixtures in tests/conftest.py:
`stack` for the session (its worker is `worker`), `own_stack` for a module whose demo kills,
flushes or fills its Redis, `make_stack` for a test that needs stacks of its own.

Celery and the environment, handled here and nowhere else: Celery takes CELERY_BROKER_URL
and CELERY_RESULT_BACKEND from os.environ ahead of any configured URL, each time it builds
a connection pool or a result backend (once per thread), and the examples' celeryconfig
reads them at import. So this process's environment names the session stack from the start
(`preset_environment`), and an app meant for another Redis is bound to it (`bind`) with
settings Celery ranks above those variables.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from celery import Celery

from . import launch
from .celery_procs import QUICK, Proc
from .paths import EXAMPLES, TESTS
from .redis_server import RedisServer
from .smtp_sink import SmtpSink
from .untraced import environ, untraced
from .waiting import free_port

URL_VARS = ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


def urls(port: int) -> dict[str, str]:
    """The two Celery variables for a Redis on `port`: db 0 the broker, db 1 the results."""
    return {"CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
            "CELERY_RESULT_BACKEND": f"redis://127.0.0.1:{port}/1"}


def preset_environment() -> int:
    """Reserve the session Redis's port and name it in os.environ, before any example is
    imported, so that nothing in this process can fall back to a Redis on localhost:6379."""
    port = free_port()
    os.environ.update(urls(port))
    return port


def bind(app: Celery, broker: str, backend: str) -> Celery:
    """Point `app` at `broker` and `backend` whatever os.environ says, and return it.

    broker_read_url and broker_write_url, and an app's backend_cls, rank above the two
    variables; broker_url and result_backend are set too, for whoever reads the conf.
    """
    app.conf.update(broker_url=broker, broker_read_url=broker, broker_write_url=broker,
                    result_backend=backend)
    app.backend_cls = backend
    return app


def pinned_client(broker: str, backend: str, name: str = "client") -> Celery:
    """A producer app of its own (send_task by name), with the guide's fail-fast timeouts."""
    app = Celery(name, set_as_current=False)
    app.conf.update(
        broker_connection_timeout=2,
        broker_transport_options={"socket_timeout": 5, "socket_connect_timeout": 2},
        redis_socket_timeout=5,
        redis_socket_connect_timeout=2,
    )
    return bind(app, broker, backend)


class Stack:
    def __init__(self, workdir: Path, *, redis_port: int | None = None,
                 appendonly: bool = False, smtp: SmtpSink | None = None,
                 media: Path | None = None, traced: bool = True):
        self.workdir, self.traced = workdir, traced
        workdir.mkdir(parents=True, exist_ok=True)
        self._redis = RedisServer(workdir / "redis", appendonly=appendonly, port=redis_port)
        self._smtp, self._own_smtp = smtp, smtp is None
        self.media = media or workdir / "media"
        self.media.mkdir(parents=True, exist_ok=True)
        self.procs: list[Proc] = []
        self._clients: list[Celery] = []
        self._services: dict[str, object] = {}  # further servers, started on first use
        self._lock = threading.RLock()

    # -- servers ------------------------------------------------------------------------------
    @property
    def redis(self) -> RedisServer:
        with self._lock:  # workers may be started from several threads at once
            if self._redis.proc is None:
                self._redis.start()
        return self._redis

    @property
    def smtp(self) -> SmtpSink:
        with self._lock:
            if self._smtp is None:
                self._smtp = SmtpSink().start()
        return self._smtp

    def postgres(self):
        """A private PostgreSQL for this stack (support/postgres.py), started on first use,
        stopped by close()."""
        from . import postgres

        return self._service("postgres", lambda: postgres.PostgresServer().start())

    def rabbitmq(self, **options):
        """A private RabbitMQ node (support/rabbitmq.py), as `postgres()` is for PostgreSQL.
        `options` are the node's (consumer_timeout_ms, tick_ms); the first call starts it."""
        from . import rabbitmq

        node = self._service("rabbitmq", lambda: rabbitmq.RabbitMQ(**options).start())
        asked = {key: getattr(node, key) for key in options}
        assert asked == options, f"this stack's RabbitMQ runs with {asked}, not {options}"
        return node

    def redis_server(self, name: str) -> RedisServer:
        """A further private Redis named `name` (beside `redis`), started on first use and
        stopped by close(): for a demo that takes one server down and not another."""
        return self._service(f"redis-{name}",
                             lambda: RedisServer(self.workdir / f"redis-{name}").start())

    def _service(self, name: str, start):
        with self._lock:
            if name not in self._services:
                self._services[name] = start()
        return self._services[name]

    # -- the environment a reader's shell would have ------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        """`traced=False` stacks start no coverage in their processes (see support.untraced)."""
        return {
            **(environ() if self.traced else untraced()),
            **urls(self._redis.port),  # named, not started: a test may start it later
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(self.smtp.port),
            "MEDIA_DIR": str(self.media),
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS),
                                                        os.environ.get("PYTHONPATH")])),
            **extra,
        }

    @contextlib.contextmanager
    def exported(self) -> Iterator[dict[str, str]]:
        """This process's os.environ on this stack meanwhile (for example code that reads it
        when it runs: mailer, media, the API in a TestClient); restored on exit."""
        env = self.env()
        keys = ("SMTP_HOST", "SMTP_PORT", "MEDIA_DIR", *URL_VARS)
        saved = {key: os.environ.get(key) for key in keys}
        os.environ.update({key: env[key] for key in keys})
        try:
            yield env
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def bind(self, app: Celery) -> Celery:
        return bind(app, self.redis.url(0), self.redis.url(1))

    def client(self) -> Celery:
        client = pinned_client(self.redis.url(0), self.redis.url(1))
        self._clients.append(client)
        return client

    # -- processes ------------------------------------------------------------------------------
    def start(self, program: str, args: list[str], log: str, settings: dict | None = None,
              env: dict | None = None, traced: bool | None = None) -> Proc:
        """`program` (celery or uvicorn) through support.launch, from the app root, logged.

        `traced=False` runs it without coverage: for a process whose example lines the
        suite runs elsewhere anyway (Flower, a second worker of celery_app), it only costs.
        """
        full_env = {**self.env(), **(env or {})}
        if traced is False:
            full_env = untraced(full_env)
        if settings:
            full_env[launch.SETTINGS_VAR] = json.dumps(settings)
        argv = [sys.executable, "-m", "support.launch", program, *args]
        stop_signal = signal.SIGINT if program == "uvicorn" else signal.SIGTERM
        with self._lock:
            log_path = self.workdir / "logs" / f"{len(self.procs)}-{log}"
            proc = Proc(argv, full_env, log_path, stop_signal=stop_signal)
            self.procs.append(proc)
        return proc.start()

    def worker(self, app: str = "celery_app", *args: str, name: str = "w1", ready: bool = True,
               settings: dict | None = None, env: dict | None = None,
               traced: bool | None = None) -> Proc:
        """`celery -A <app> worker -n <name>@%h --loglevel=info` with the QUICK flags.

        `ready=False` returns at once: start several, then `wait_for_log(r"ready\\.")` each.
        """
        self.redis  # noqa: B018 (started, if it was not yet)
        proc = self.start("celery", ["-A", app, "worker", "-n", f"{name}@%h", "--loglevel=info",
                                     *QUICK, *args], f"{name}.log", settings, env, traced)
        return proc.ready(r"ready\.") if ready else proc

    def beat(self, app: str = "celery_app", settings: dict | None = None,
             env: dict | None = None) -> Proc:
        """`celery -A <app> beat`, its schedule file in the stack's folder, started."""
        self.redis  # noqa: B018 (started, if it was not yet)
        schedule = Path(tempfile.mkdtemp(prefix="beat-", dir=self.workdir)) / "schedule"
        proc = self.start("celery", ["-A", app, "beat", "-s", str(schedule), "--loglevel=info"],
                          "beat.log", settings, env)
        return proc.ready(r"beat: Starting")

    def uvicorn(self, app: str = "api:app", *args: str, settings: dict | None = None,
                env: dict | None = None, traced: bool | None = None) -> Proc:
        """`uvicorn <app>` on a free port, ready; the Proc has `.port` and `.url`."""
        port = free_port()
        proc = self.start("uvicorn", [app, "--host", "127.0.0.1", "--port", str(port), *args],
                          f"uvicorn-{port}.log", settings, env, traced)
        proc.port, proc.url = port, f"http://127.0.0.1:{port}"
        return proc.ready(r"Application startup complete")

    def line(self, line: str, log: str, env: dict | None = None, cwd: Path = EXAMPLES) -> Proc:
        """A long-running command line of a page (a worker, Beat), run by bash as written,
        from the app root (or `cwd`), in a reader's shell: this stack's environment (or
        `env`) with the virtualenv's programs first on PATH. Started; close() reaps it."""
        env = dict(env if env is not None else self.env())
        venv_bin = str(Path(sys.executable).parent)
        path = env.get("PATH", os.environ.get("PATH", ""))
        if path.split(os.pathsep)[0] != venv_bin:
            env["PATH"] = os.pathsep.join([venv_bin, path])
        with self._lock:
            log_path = self.workdir / "logs" / f"{len(self.procs)}-{log}"
            proc = Proc(["bash", "-c", line], env, log_path, cwd=cwd)
            self.procs.append(proc)
        return proc.start()

    def celery(self, *args: str, timeout: float = 90) -> str:
        """Run `celery <args>` to its end and return its output; fails unless it exits 0."""
        out = subprocess.run([sys.executable, "-m", "support.launch", "celery", *args],
                             cwd=EXAMPLES, env=self.env(), capture_output=True, text=True,
                             timeout=timeout)
        if out.returncode != 0:
            raise AssertionError(f"celery {' '.join(args)} exited {out.returncode}:\n"
                                 f"{out.stdout}{out.stderr}")
        return out.stdout

    def celery_json(self, *args: str, timeout: float = 90) -> object:
        """`celery <args> --json`, parsed."""
        return json.loads(self.celery(*args, "--json", timeout=timeout))

    # -- the end --------------------------------------------------------------------------------
    def stop(self, *procs: Proc) -> None:
        """Stop these processes at once (their warm shutdowns overlap), then reap each."""
        for proc in procs:
            if proc.proc and proc.proc.poll() is None:
                proc.proc.send_signal(proc.stop_signal)
        for proc in procs:
            proc.stop()

    def close(self) -> None:
        self.stop(*self.procs)
        for client in self._clients:
            # A live AsyncResult unsubscribes from its channel when collected; with Redis gone
            # that retries, 20 times a second apart, before it raises.
            with contextlib.suppress(Exception):
                client.backend.result_consumer.subscribed_to.clear()
            with contextlib.suppress(Exception):
                client.close()
        for service in self._services.values():
            service.stop()
        if self._own_smtp and self._smtp is not None:
            self._smtp.stop()
        self._redis.stop()
