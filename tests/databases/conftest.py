"""The Databases section's fixtures: an engine on the module's fresh database (the
PostgreSQL fixtures, `postgres` and `database_url`, are the whole suite's: tests/conftest.py)."""

import pytest


@pytest.fixture(scope="module")
def engine(database_url):
    from dbconfig import make_engine

    engine = make_engine(database_url)
    yield engine
    engine.dispose()
