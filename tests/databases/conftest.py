"""The Databases section's fixtures: an engine on the module's fresh database, and a PgBouncer
in front of the cluster (the PostgreSQL fixtures, `postgres` and `database_url`, are the whole
suite's: tests/conftest.py)."""

import pytest


@pytest.fixture(scope="module")
def engine(database_url):
    from dbconfig import make_engine

    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def pgbouncer(postgres):
    """A PgBouncer in transaction mode with one server connection per database, in front of
    the private PostgreSQL (support.pgbouncer)."""
    from support.pgbouncer import PgBouncer

    bouncer = PgBouncer(postgres, pool_mode="transaction", pool_size=1).start()
    yield bouncer
    bouncer.stop()
