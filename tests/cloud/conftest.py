"""The Cloud section's fixtures: app instances (uvicorn processes run from examples/cloud/,
the section's app root), each on a free port with an environment of its own.

    app = instances("sessions_app:app", INSTANCE="a", SESSION_STORE="memory")
    app.url, app.port, app.log        # a support.celery_procs.Proc, ready
    app.proc.kill()                   # a test may kill it; the fixture reaps it either way
"""

import os
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
def instances(tmp_path):
    started: list[Proc] = []

    def start(app: str, *args: str, ready: bool = True, **env: str) -> Proc:
        port = free_port()
        argv = [sys.executable, "-m", "support.launch", "uvicorn", app, "--host", "127.0.0.1",
                "--port", str(port), *args]
        # SIGINT: uvicorn's graceful stop that still runs atexit, where coverage saves.
        proc = Proc(argv, app_env(**env), tmp_path / f"uvicorn-{port}.log", cwd=CLOUD,
                    stop_signal=2)
        proc.port, proc.url = port, f"http://127.0.0.1:{port}"
        started.append(proc)
        proc.start()
        return proc.ready(r"Application startup complete") if ready else proc

    yield start
    for proc in started:
        proc.stop(timeout=15)


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
