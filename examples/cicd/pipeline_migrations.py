"""Q55: the migration step of a pipeline. It runs the Databases section's Alembic revisions
(examples/databases/migrations: 0001 customers, 0002 expand, 0003 contract) as a pipeline's
job would, with `alembic` in that folder, once per deploy, under a PostgreSQL advisory lock so
that two pipelines never migrate at once.

    python pipeline_migrations.py upgrade 0002      # reads DATABASE_URL
"""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

MIGRATIONS = Path(__file__).resolve().parent.parent / "databases"  # alembic.ini's folder
LOCK_KEY = 55_000_001  # any number every pipeline of this database agrees on


def database_url() -> str:
    return os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@localhost:5432/guide")


def alembic(*args: str) -> subprocess.CompletedProcess:
    """One `alembic …` command, as the pipeline's job runs it."""
    return subprocess.run([sys.executable, "-m", "alembic", *args], cwd=MIGRATIONS,
                          capture_output=True, text=True, timeout=120)


# --8<-- [start:lock]
@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Held for as long as the block runs: a second pipeline waits here, then finds the
    database already at the revision and has nothing to do."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
    finally:
        engine.dispose()


def migrate(*args: str) -> subprocess.CompletedProcess:
    """`alembic upgrade 0002`, `alembic downgrade 0001`…, one pipeline at a time."""
    with migration_lock(database_url()):
        return alembic(*args)
# --8<-- [end:lock]


def main(argv: list[str]) -> int:
    done = migrate(*argv)
    print(done.stdout + done.stderr, end="")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
