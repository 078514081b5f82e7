"""Where the database is: DATABASE_URL, with a local default.

Every module of this section builds its engine here, so the sandbox (which sets
DATABASE_URL to its `postgres` service) and a reader's laptop run the same code.
"""

import os

from sqlalchemy import Engine, create_engine

# --8<-- [start:url]
DEFAULT_URL = "postgresql+psycopg://postgres@localhost:5432/guide"


def database_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def make_engine(url: str | None = None, **options) -> Engine:
    """An engine for DATABASE_URL; `options` go to create_engine (pool sizes, isolation…)."""
    return create_engine(url or database_url(), **options)
# --8<-- [end:url]
