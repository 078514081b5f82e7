"""The Cloud section's fixtures: app instances (uvicorn processes run from examples/cloud/,
the section's app root), each on a free port with an environment of its own.

    app = instances("sessions_app:app", INSTANCE="a", SESSION_STORE="memory")
    app.url, app.port, app.log        # a support.celery_procs.Proc, ready
    app.proc.kill()                   # a test may kill it; the fixture reaps it either way
"""

import os
import signal
import sys

import pytest

from support.celery_procs import Proc
from support.paths import ROOT, TESTS
from support.untraced import environ
from support.waiting import free_port

CLOUD = ROOT / "examples" / "cloud"


def app_env(**extra: str) -> dict[str, str]:
    """A reader's shell in examples/cloud/, plus the test support for support.launch."""
    return {**environ(), "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS),
                                                        os.environ.get("PYTHONPATH")])),
            **extra}


@pytest.fixture
def programs(tmp_path):
    """`programs("celery", "-A", "traced_signup", "worker", ready=r"ready\\.", **env)`: a
    program of support.launch run from examples/cloud/, started, reaped after the test."""
    started: list[Proc] = []

    def start(program: str, *args: str, ready: str | None = None, **env: str) -> Proc:
        argv = [sys.executable, "-m", "support.launch", program, *args]
        # SIGINT for uvicorn: its graceful stop that still runs atexit, where coverage saves.
        proc = Proc(argv, app_env(**env), tmp_path / f"{program}-{len(started)}.log",
                    cwd=CLOUD, stop_signal=signal.SIGINT if program == "uvicorn" else
                    signal.SIGTERM)
        started.append(proc)
        proc.start()
        return proc.ready(ready) if ready else proc

    yield start
    for proc in started:
        proc.stop(timeout=15)


@pytest.fixture
def instances(programs):
    """`instances("sessions_app:app", **env)`: uvicorn on a free port (or `port=`), ready."""

    def start(app: str, *args: str, port: int | None = None, **env: str) -> Proc:
        port = port or free_port()
        proc = programs("uvicorn", app, "--host", "127.0.0.1", "--port", str(port), *args,
                        ready=r"Application startup complete", **env)
        proc.port, proc.url = port, f"http://127.0.0.1:{port}"
        return proc

    return start


@pytest.fixture(scope="module")
def own_postgres():
    """A PostgreSQL cluster of the module's own, which its tests stop and start again
    (support.postgres.halt / resume); the session's `postgres` is never stopped."""
    from support.postgres import PostgresServer

    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def moto():
    """moto's server with IAM enforced after the first four calls (support.moto_server)."""
    from support.moto_server import MotoServer

    server = MotoServer(no_auth_actions=4).start()
    yield server
    server.stop()
