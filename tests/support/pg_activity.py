"""What PostgreSQL says about its sessions, for the Databases tests: whose session a
connection is, and whether a session is waiting on a lock (pg_stat_activity)."""

from sqlalchemy import text


def backend_pid(engine_or_conn) -> int:
    """The server process of this connection (an engine: of a connection it checks out)."""
    if hasattr(engine_or_conn, "connect"):
        with engine_or_conn.connect() as conn:
            return backend_pid(conn)
    return engine_or_conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def waits_on_a_lock(engine, pid: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :pid"),
            {"pid": pid}).scalar_one_or_none() is True
