"""The Databases section's fixtures: one private PostgreSQL per test process and a fresh
database per test module."""

import re

import pytest

from support.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> PostgresServer:
    server = PostgresServer().start()
    print(f"private PostgreSQL on 127.0.0.1:{server.port}, ready in {server.started_in:.2f} s")
    yield server
    cpu = server.cpu_seconds()
    print(f"\nprivate PostgreSQL used {cpu:.1f} CPU-s" if cpu is not None else "")
    server.stop()


@pytest.fixture(scope="module")
def database_url(request, postgres, monkeypatch_module) -> str:
    """A fresh database named after the test module; DATABASE_URL points at it meanwhile."""
    name = re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1]).lower()
    url = postgres.create_database(name)
    monkeypatch_module.setenv("DATABASE_URL", url)
    yield url
    postgres.drop_database(name)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def engine(database_url):
    from dbconfig import make_engine

    engine = make_engine(database_url)
    yield engine
    engine.dispose()
