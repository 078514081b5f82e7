"""Fixtures for the customer repository's tests: one database per test session (so one per
pytest-xdist worker), a rolled-back transaction per test, and a factory."""

import itertools
import os

import pytest
from customer_store import add_customer, metadata
from db_isolation import fresh_database, rolled_back


# --8<-- [start:fixtures]
@pytest.fixture(scope="session")
def engine(worker_id):
    """Once per session; under pytest-xdist each worker runs its own session, so each gets
    its own database (worker_id is "gw0", "gw1"... or "master" without xdist)."""
    with fresh_database(os.environ["DATABASE_URL"], f"test_{worker_id}", metadata) as engine:
        print(f"\ncreated database test_{worker_id}")
        yield engine


@pytest.fixture
def db(engine):
    """Per test: everything it writes is rolled back when it ends, pass or fail."""
    with rolled_back(engine) as conn:
        yield conn


@pytest.fixture
def make_customer(db):
    """A factory: each call adds a customer with defaults the test may override."""
    numbers = itertools.count(1)

    def make(email: str | None = None, name: str = "Ann Lee") -> int:
        return add_customer(db, email or f"customer{next(numbers)}@example.com", name)

    return make
# --8<-- [end:fixtures]
