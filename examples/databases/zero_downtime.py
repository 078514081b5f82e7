"""Q39: migrations a live application survives: Alembic from Python, a batched backfill,
and indexes built with and without CONCURRENTLY, their locks read from pg_locks.

`python zero_downtime.py` migrates DATABASE_URL to the newest revision, step by step,
backfilling between the expand and the contract revisions.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from dbconfig import make_engine
from sqlalchemy import Connection, Engine, text

HERE = Path(__file__).resolve().parent


def alembic_config() -> Config:
    """alembic.ini of this folder; the database comes from DATABASE_URL (migrations/env.py)."""
    return Config(str(HERE / "alembic.ini"))


# --8<-- [start:backfill]
def backfill_emails(engine: Engine, batch: int = 500) -> int:
    """Fill the new column in small transactions, walking the primary key: each holds its
    row locks briefly, so the application keeps writing meanwhile. A row the application
    holds is waited for, never skipped, so no row is left NULL. Returns the number of
    batches."""
    batches, after = 0, 0
    while True:
        with engine.begin() as conn:
            last = conn.execute(text("""
                WITH batch AS (SELECT id FROM customers WHERE id > :after
                               ORDER BY id LIMIT :batch),
                     filled AS (UPDATE customers SET email = 'customer' || id || '@example.com'
                                WHERE id IN (SELECT id FROM batch) AND email IS NULL)
                SELECT max(id) FROM batch"""), {"after": after, "batch": batch}).scalar_one()
        if last is None:
            return batches
        batches, after = batches + 1, last
# --8<-- [end:backfill]


# --8<-- [start:index]
def create_email_index(conn: Connection, concurrently: bool) -> None:
    """CONCURRENTLY cannot run inside a transaction: give it an autocommit connection."""
    how = "CONCURRENTLY " if concurrently else ""
    conn.execute(text(f"CREATE INDEX {how}customers_email ON customers (email)"))


def table_locks(conn: Connection, table: str) -> list[tuple[int, str, bool]]:
    """(pid, mode, granted) of every lock held or awaited on `table`, from pg_locks."""
    return [tuple(row) for row in conn.execute(text("""
        SELECT pid, mode, granted FROM pg_locks
        WHERE locktype = 'relation' AND relation = CAST(:table AS regclass)
        ORDER BY pid, mode"""), {"table": table})]


def invalid_indexes(conn: Connection) -> list[str]:
    """Indexes a failed CREATE INDEX CONCURRENTLY left behind, marked INVALID: no query uses
    them, yet every write still maintains them. Drop each (DROP INDEX CONCURRENTLY) and
    build it again."""
    return list(conn.execute(text(
        "SELECT indexrelid::regclass::text FROM pg_index WHERE NOT indisvalid ORDER BY 1")
    ).scalars())
# --8<-- [end:index]


def main() -> None:
    config = alembic_config()
    command.upgrade(config, "0002")  # expand: the nullable column
    engine = make_engine()
    backfill_emails(engine)  # every row gets a value
    command.upgrade(config, "head")  # contract: NOT NULL
    with engine.connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        print(f"migrated to {revision}")
    engine.dispose()


if __name__ == "__main__":
    main()
