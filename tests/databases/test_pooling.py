"""Q38: what a pool's limits do, on a real server, and what a fork does to a pool."""

import json
import os
import time

import pooling
import pytest
from sqlalchemy import exc, text

from support.includes import write_observed
from support.pg_activity import backend_pid
from support.waiting import wait_until

OBSERVED: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def observed():
    yield
    write_observed("q38-observed.md", ["size", "timeout", "returned", "fork", "fixed", "server",
                                    "clients", "pgbouncer"],
                   OBSERVED)


def server_sessions(engine, application_name: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": application_name}).scalar_one()


def test_pool_size_plus_overflow_bounds_sessions_then_checkout_times_out(engine, database_url):
    pool = pooling.make_pooled_engine(database_url, pool_size=2, max_overflow=1,
                                      pool_timeout=0.5,
                                      connect_args={"application_name": "pool-demo"})
    try:
        held = [pool.connect() for _ in range(3)]
        assert server_sessions(engine, "pool-demo") == 3
        OBSERVED["size"] = ("| `pool_size=2, max_overflow=1`, check out 3 connections | "
                            "3 server sessions in `pg_stat_activity` |")
        started = time.monotonic()
        with pytest.raises(exc.TimeoutError) as raised:
            pool.connect()
        waited = time.monotonic() - started
        assert 0.5 <= waited < 10  # the timeout, plus whatever a loaded machine adds
        message = str(raised.value).splitlines()[0]
        assert message.startswith("QueuePool limit of size 2 overflow 1 reached, connection "
                                  "timed out, timeout 0.50")
        OBSERVED["timeout"] = (f"| ask for a 4th, `pool_timeout=0.5` | `TimeoutError` after "
                               f"{waited:.1f} s: *{message.split(' (Back')[0]}* |")
        for conn in held:
            conn.close()
        # The overflow one was closed; its server process exits a moment after the close.
        wait_until(lambda: server_sessions(engine, "pool-demo") == 2, 10,
                   "the overflow session to end")
        OBSERVED["returned"] = ("| return all 3 | 2 sessions stay open in the pool, the "
                                "overflow one is closed |")
    finally:
        pool.dispose()


def in_child(work) -> dict:
    """Fork; run work() in the child, which reports a JSON-able result back; reap it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        os.close(read)
        try:
            result = {"ok": work()}
        except Exception as error:
            result = {"error": f"{type(error).__name__}: {error}"}
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return json.loads(data)


def test_a_child_that_reuses_the_parents_pool_shares_its_session_and_ends_it(database_url):
    engine = pooling.make_engine(database_url)  # no pre-ping: see the failure as it is
    try:
        parent = backend_pid(engine)  # one connection now waits in the pool

        def child():
            pid = backend_pid(engine)  # the inherited socket: the parent's session
            engine.dispose()  # as a child's normal shutdown would: closes that session
            return pid

        assert in_child(child) == {"ok": parent}
        with pytest.raises(exc.OperationalError, match="server closed the connection "
                                                       "unexpectedly"):
            backend_pid(engine)
        OBSERVED["fork"] = ("| fork; the child uses the pool it inherited, then calls "
                            "`engine.dispose()` itself before it exits | the "
                            "child ran on the **parent's** session; the parent's next query: "
                            "*server closed the connection unexpectedly* |")
    finally:
        engine.dispose()


def test_dispose_after_fork_gives_the_child_its_own_sessions(database_url):
    engine = pooling.make_engine(database_url)
    try:
        parent = backend_pid(engine)

        def child():
            pooling.dispose_after_fork(engine)
            pid = backend_pid(engine)
            engine.dispose()
            return pid

        child_pid = in_child(child)["ok"]
        assert child_pid != parent
        assert backend_pid(engine) == parent  # the parent's session survived
        OBSERVED["fixed"] = ("| the same, with `engine.dispose(close=False)` first in the "
                             "child | the child opened a session of its own; the parent's "
                             "still works |")
    finally:
        engine.dispose()


def test_register_at_fork_protects_every_later_fork(database_url):
    engine = pooling.make_engine(database_url)
    try:
        pooling.protect_across_fork(engine)
        parent = backend_pid(engine)

        def child():
            pid = backend_pid(engine)
            engine.dispose()
            return pid

        assert in_child(child)["ok"] != parent
        assert backend_pid(engine) == parent
    finally:
        engine.dispose()


def test_the_worker_process_init_handler_disposes_the_inherited_pool(database_url):
    from celery.signals import worker_process_init

    engine = pooling.make_engine(database_url)
    try:
        pooling.connect_to_celery(engine)
        parent = backend_pid(engine)

        def child():  # what Celery does in each new prefork child
            worker_process_init.send(sender=None)
            pid = backend_pid(engine)
            engine.dispose()
            return pid

        assert in_child(child)["ok"] != parent
        assert backend_pid(engine) == parent
    finally:
        worker_process_init.receivers.clear()
        engine.dispose()


def test_the_server_refuses_connections_beyond_its_limit(engine, database_url, postgres):
    name = database_url.rsplit("/", 1)[1]
    with engine.begin() as conn:
        conn.execute(text("DROP ROLE IF EXISTS app"))
        conn.execute(text("CREATE ROLE app LOGIN"))  # a limit never applies to superusers
        conn.execute(text(f"ALTER DATABASE {name} CONNECTION LIMIT 2"))
        max_connections = conn.execute(text("SHOW max_connections")).scalar_one()
    engine.dispose()  # every session counts towards the limit, a superuser's too
    app = pooling.make_pooled_engine(database_url.replace("postgres@", "app@"), pool_size=5)
    held = []
    try:
        held = [app.connect() for _ in range(2)]
        with pytest.raises(exc.OperationalError) as raised:
            app.connect()
        # Refused while connecting: psycopg raises a plain OperationalError with the
        # server's FATAL message (no SQLSTATE class at that stage).
        message = str(raised.value.orig).strip().splitlines()[0]
        assert 'FATAL:  too many connections for database "test_pooling"' in message
        fatal = message.split("FATAL:", 1)[1].strip()
        OBSERVED["server"] = (f"| a database limited to 2 connections, a pool that wants 5 "
                              f"| the 3rd connect fails: *FATAL: {fatal}* (this cluster's "
                              f"`max_connections` is {max_connections}) |")
    finally:
        for conn in held:
            conn.close()
        app.dispose()
        with engine.begin() as conn:
            conn.execute(text(f"ALTER DATABASE {name} CONNECTION LIMIT -1"))


def connect_until_refused(url: str, at_most: int) -> tuple[list, Exception]:
    """Open sessions until the server refuses one; return them and the refusal."""
    import psycopg

    opened = []
    for _ in range(at_most):
        try:
            opened.append(psycopg.connect(url, connect_timeout=10))
        except psycopg.OperationalError as error:
            return opened, error
    raise AssertionError(f"{at_most} sessions opened, none refused")


@pytest.mark.slow  # about a hundred sessions, opened one by one
def test_past_max_connections_only_superusers_get_the_reserved_slots(engine, database_url):
    """Two limits below the per-database one: ordinary roles stop short of max_connections,
    superusers take the reserved slots, then every new session is refused."""
    with engine.begin() as conn:
        conn.execute(text("DROP ROLE IF EXISTS app"))
        conn.execute(text("CREATE ROLE app LOGIN"))
        limit = int(conn.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(conn.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    engine.dispose()
    url = database_url.replace("+psycopg", "")
    apps, superusers = [], []
    try:
        apps, app_refused = connect_until_refused(url.replace("postgres@", "app@"), limit)
        superusers, refused = connect_until_refused(url, limit)
        assert len(superusers) == reserved  # exactly the reserved slots were left
        app_message = str(app_refused).strip().splitlines()[-1]
        message = str(refused).strip().splitlines()[-1]
        assert app_message.endswith("FATAL:  remaining connection slots are reserved for "
                                    "non-replication superuser connections")
        assert message.endswith("FATAL:  sorry, too many clients already")
    finally:
        for session in apps + superusers:
            session.close()
    OBSERVED["clients"] = (
        f"| `max_connections` = {limit}, `superuser_reserved_connections` = {reserved}: open "
        f"sessions as an ordinary role, then as a superuser | the ordinary role got "
        f"{len(apps)} before *FATAL: remaining connection slots are reserved for "
        f"non-replication superuser connections*; the superuser {len(superusers)} more, then "
        f"*FATAL: sorry, too many clients already* |")


def test_behind_pgbouncer_in_transaction_mode_prepared_statements_collide(database_url,
                                                                           pgbouncer):
    """Two clients share PgBouncer's one server connection. With psycopg's default
    prepare_threshold, the second prepares a name the first already left there."""
    from psycopg import errors

    url = pgbouncer.url(database_url.rsplit("/", 1)[1])
    query = text("SELECT count(*) FROM pg_class WHERE relpages >= :n")

    def run_six_times(engine) -> None:  # psycopg prepares a query on its 6th run
        with engine.connect() as conn:  # one client connection, six transactions
            for n in range(6):
                conn.execute(query, {"n": n}).scalar_one()
                conn.commit()

    first, second = pooling.make_engine(url), pooling.make_engine(url)
    try:
        run_six_times(first)
        with pytest.raises(exc.ProgrammingError) as raised:
            run_six_times(second)
    finally:
        first.dispose()
        second.dispose()
    assert isinstance(raised.value.orig, errors.DuplicatePreparedStatement)
    message = str(raised.value.orig).splitlines()[0]
    assert message == 'prepared statement "_pg3_0" already exists'
    fixed = [pooling.make_pgbouncer_engine(url) for _ in range(2)]
    for engine in fixed:
        run_six_times(engine)  # nothing prepared on the server: nothing to collide
        assert type(engine.pool).__name__ == "NullPool"
    OBSERVED["pgbouncer"] = (
        f"| two engines through PgBouncer (transaction mode, 1 server connection), each running "
        f"the same query in 6 transactions on one connection | psycopg's defaults: the "
        f"second engine fails with `DuplicatePreparedStatement`, *{message}*; with "
        f"`make_pgbouncer_engine`, both run |")


def test_main_prints_the_timeout(database_url, capsys):
    pooling.main()
    out = capsys.readouterr().out
    assert out.startswith("after 1.") and "QueuePool limit of size 2 overflow 1 reached" in out
