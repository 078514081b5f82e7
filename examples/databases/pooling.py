"""Q38: a connection pool's limits, and a pool that survives os.fork().

`python pooling.py` checks out every connection a small pool allows, asks for one more and
prints the error it gets after `pool_timeout`.
"""

import os
import time

from dbconfig import make_engine
from sqlalchemy import Engine, NullPool, exc


# --8<-- [start:engine]
def make_pooled_engine(url: str | None = None, **overrides) -> Engine:
    """A pool sized for one process: at most pool_size + max_overflow connections."""
    options = {
        "pool_size": 5,         # kept open between requests
        "max_overflow": 5,      # opened under load, closed again when returned
        "pool_timeout": 10,     # seconds to wait for a free connection, then TimeoutError
        "pool_pre_ping": True,  # test a connection on checkout; replace it if the server
        "pool_recycle": 1800,   # dropped it, and never use one older than 30 minutes
    }
    return make_engine(url, **{**options, **overrides})
# --8<-- [end:engine]


# --8<-- [start:fork]
def dispose_after_fork(engine: Engine) -> None:
    """Give a forked child a pool of its own. close=False leaves the parent's connections
    alone: closing them from the child would end the parent's sessions."""
    engine.dispose(close=False)


def protect_across_fork(engine: Engine) -> None:
    """Any fork of this process (multiprocessing, gunicorn --preload, prefork pools)."""
    os.register_at_fork(after_in_child=lambda: dispose_after_fork(engine))
# --8<-- [end:fork]


# --8<-- [start:celery]
def connect_to_celery(engine: Engine) -> None:
    """Celery's prefork pool forks children from the main worker process: each child
    disposes of the pool it inherited before its first task."""
    from celery.signals import worker_process_init

    worker_process_init.connect(lambda **_: dispose_after_fork(engine), weak=False)
# --8<-- [end:celery]


# --8<-- [start:pgbouncer]
def make_pgbouncer_engine(url: str | None = None) -> Engine:
    """An engine for a PgBouncer in transaction mode. PgBouncer pools, so the app doesn't
    (NullPool), and psycopg prepares nothing on the server: a prepared statement stays on
    the server connection, which the next transaction may not get, or another client may."""
    return make_engine(url, poolclass=NullPool, connect_args={"prepare_threshold": None})
# --8<-- [end:pgbouncer]


def main() -> None:
    engine = make_pooled_engine(pool_size=2, max_overflow=1, pool_timeout=1)
    held = [engine.connect() for _ in range(3)]
    started = time.monotonic()
    try:
        engine.connect()
    except exc.TimeoutError as error:
        print(f"after {time.monotonic() - started:.1f} s: {str(error).splitlines()[0]}")
    for conn in held:
        conn.close()
    engine.dispose()


if __name__ == "__main__":
    main()
