"""Two ways to give each test a clean database, for Q43's fixtures: a database of its own, or
one shared database and a transaction rolled back after each test."""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, MetaData, create_engine
from sqlalchemy.engine import make_url


# --8<-- [start:per_test]
@contextmanager
def fresh_database(url: str, name: str, metadata: MetaData) -> Iterator[Engine]:
    """CREATE DATABASE `name` beside `url`'s, with `metadata`'s tables; dropped afterwards."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    engine = create_engine(make_url(url).set(database=name))
    try:
        metadata.create_all(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.dispose()
# --8<-- [end:per_test]


# --8<-- [start:rolled_back]
@contextmanager
def rolled_back(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back at the end, whatever the test
    did: its rows never reach another test. The code under test may use savepoints
    (`begin_nested`) inside it."""
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            yield conn
        finally:
            transaction.rollback()
# --8<-- [end:rolled_back]
