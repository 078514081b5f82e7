"""Q39: Alembic's round trip, a NOT NULL column added to a table in use, and the lock each
kind of CREATE INDEX takes, read from pg_locks while it runs."""

import io
import threading
from contextlib import redirect_stdout

import pytest
import zero_downtime
from alembic import command
from psycopg import errors
from sqlalchemy import exc, inspect, text

from support.includes import write_observed
from support.waiting import wait_until

OBSERVED: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def observed():
    yield
    write_observed("q39-observed.md", ["not_null", "old_code", "held_row", "queue",
                                       "lock_timeout", "plain", "concurrently", "invalid",
                                       "default"], OBSERVED)


@pytest.fixture
def config():
    return zero_downtime.alembic_config()


def columns(engine) -> dict[str, bool]:
    """column -> nullable, or {} when the table does not exist."""
    inspector = inspect(engine)
    if not inspector.has_table("customers"):
        return {}
    return {c["name"]: c["nullable"] for c in inspector.get_columns("customers")}


def revision(engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


def at(config, engine, target: str, rows: int = 0) -> None:
    """The schema at `target`, from scratch, with `rows` customers (emails only at head)."""
    command.downgrade(config, "base")
    command.upgrade(config, target)
    columns, values = ("name, email", "'c' || i, 'c' || i || '@example.com'") \
        if target == "head" else ("name", "'c' || i")
    if rows:
        with engine.begin() as conn:
            conn.execute(text(f"INSERT INTO customers ({columns}) SELECT {values} "
                              "FROM generate_series(1, :rows) i"), {"rows": rows})


def test_upgrade_and_downgrade_round_trip(config, engine):
    command.downgrade(config, "base")
    assert (revision(engine), columns(engine)) == (None, {})
    command.upgrade(config, "head")
    assert (revision(engine), columns(engine)) == ("0003", {"id": False, "name": False,
                                                            "email": False})
    command.downgrade(config, "0001")
    assert (revision(engine), columns(engine)) == ("0001", {"id": False, "name": False})
    command.downgrade(config, "base")
    assert (revision(engine), columns(engine)) == (None, {})
    command.upgrade(config, "head")  # and up again: nothing was left behind
    assert revision(engine) == "0003"


def test_offline_mode_prints_the_sql(config):
    out = io.StringIO()
    with redirect_stdout(out):
        command.upgrade(config, "base:head", sql=True)
    sql = out.getvalue()
    assert "ALTER TABLE customers ADD COLUMN email VARCHAR(200);" in sql
    assert "ALTER TABLE customers ALTER COLUMN email SET NOT NULL;" in sql


def test_adding_a_not_null_column_to_a_table_with_rows_fails(config, engine):
    at(config, engine, "0001", rows=100)
    with engine.begin() as conn, pytest.raises(exc.IntegrityError) as raised:
        conn.execute(text("ALTER TABLE customers ADD COLUMN email varchar(200) NOT NULL"))
    assert isinstance(raised.value.orig, errors.NotNullViolation)
    message = str(raised.value.orig).splitlines()[0]
    assert message == 'column "email" of relation "customers" contains null values'
    OBSERVED["not_null"] = (f"| `ADD COLUMN email … NOT NULL` on a table of 100 rows | "
                            f"`NotNullViolation`: *{message}* |")


def test_expand_backfill_contract_keeps_old_and_new_code_working(config, engine):
    at(config, engine, "0002", rows=1200)  # expand: the column exists, nullable
    old_code = text("INSERT INTO customers (name) VALUES ('old code')")
    new_code = text("INSERT INTO customers (name, email) VALUES ('new', 'new@example.com')")
    with engine.begin() as conn:
        conn.execute(old_code)  # the release before still runs, and still writes
        conn.execute(new_code)
    assert zero_downtime.backfill_emails(engine, batch=500) == 3  # 1,201 NULLs, 500 a batch
    command.upgrade(config, "head")  # contract
    assert columns(engine)["email"] is False
    with engine.begin() as conn, pytest.raises(exc.IntegrityError):
        conn.execute(old_code)  # why the old release must be gone before the contract
    OBSERVED["old_code"] = ("| expand (0002), old and new code insert, backfill in batches of "
                            "500, contract (0003) | both inserts worked after the expand; 3 "
                            "batches; after the contract, the old code's insert fails |")


def test_the_backfill_waits_for_a_row_another_transaction_holds(config, engine):
    """A row the application holds locked is filled once it is released, never skipped: the
    contract's VALIDATE would otherwise find it NULL and fail."""
    at(config, engine, "0002", rows=20)
    with engine.connect() as app:
        app.execute(text("SELECT * FROM customers WHERE id = 7 FOR UPDATE"))  # still open
        backfill, result = in_thread(lambda: zero_downtime.backfill_emails(engine, batch=5))
        wait_until(lambda: not backfill.is_alive() or any(
            not granted for _, _, granted in row_locks(engine)), 10, "the backfill to reach row 7")
        held_up = backfill.is_alive()  # still running: waiting for row 7
        app.commit()
        backfill.join(20)
    assert not backfill.is_alive()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM customers WHERE email IS NULL")
                            ).scalar_one() == 0
    assert held_up and result == [4]  # 20 rows, 5 a batch
    command.upgrade(config, "head")  # the contract's VALIDATE finds every row filled
    OBSERVED["held_row"] = ("| backfill while the application holds one row `FOR UPDATE` in an "
                            "open transaction | the backfill waited for it, then filled it: 0 "
                            "rows left NULL, and the contract (0003) applied |")


def row_locks(engine) -> list[tuple[int, str, bool]]:
    """Row-level waits show as a wait for the holder's transaction id."""
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT pid, mode, granted FROM pg_locks WHERE locktype = 'transactionid'"))]


def locks(engine) -> list[tuple[int, str, bool]]:
    with engine.connect() as conn:
        return zero_downtime.table_locks(conn, "customers")


def pid_of(conn) -> int:
    return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def in_thread(fn):
    out: list = []

    def run():
        try:
            out.append(fn())
        except Exception as error:
            out.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def test_a_waiting_alter_table_queues_every_reader_behind_it(config, engine):
    at(config, engine, "head", rows=10)
    with (engine.connect() as long_reader, engine.connect() as migration,
          engine.connect() as reader):
        long_reader.execute(text("SELECT count(*) FROM customers"))  # its transaction stays open
        ids = {"migration": pid_of(migration), "reader": pid_of(reader)}
        alter, _ = in_thread(lambda: migration.execute(text(
            "ALTER TABLE customers ADD COLUMN phone varchar(30)")))
        wait_until(lambda: (ids["migration"], "AccessExclusiveLock", False) in locks(engine), 10,
                   "the ALTER to wait")
        select, _ = in_thread(lambda: reader.execute(text("SELECT count(*) FROM customers")))
        wait_until(lambda: (ids["reader"], "AccessShareLock", False) in locks(engine), 10,
                   "the reader to queue behind the ALTER")
        long_reader.commit()
        alter.join(10)
        assert not alter.is_alive()
        migration.rollback()  # the ALTER's lock lasts until its transaction ends
        select.join(10)
        assert not select.is_alive()
        reader.rollback()
    OBSERVED["queue"] = ("| `ALTER TABLE … ADD COLUMN` while a transaction that read the table "
                         "is still open | the ALTER waits for `AccessExclusiveLock` "
                         "(`granted = false`), and a plain `SELECT` arriving after it waits "
                         "too, for `AccessShareLock` |")


def test_lock_timeout_makes_the_migration_give_up_instead(config, engine):
    at(config, engine, "head", rows=10)
    with (engine.connect() as long_reader, engine.connect() as migration,
          engine.connect() as reader):
        long_reader.execute(text("SELECT count(*) FROM customers"))
        migration.execute(text("SET lock_timeout = '200ms'"))
        with pytest.raises(exc.OperationalError) as raised:
            migration.execute(text("ALTER TABLE customers ADD COLUMN phone varchar(30)"))
        migration.rollback()
        assert reader.execute(text("SELECT count(*) FROM customers")).scalar_one() == 10
        long_reader.rollback()
    assert isinstance(raised.value.orig, errors.LockNotAvailable)
    message = str(raised.value.orig).splitlines()[0]
    OBSERVED["lock_timeout"] = (f"| the same `ALTER` after `SET lock_timeout = '200ms'` | "
                                f"`LockNotAvailable` (55P03): *{message}*; readers are not "
                                f"held up |")


@pytest.mark.parametrize("concurrently, mode, writes_wait", [
    (False, "ShareLock", True),
    (True, "ShareUpdateExclusiveLock", False),
])
def test_create_index_locks(config, engine, concurrently, mode, writes_wait):
    at(config, engine, "head", rows=1000)
    builder_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
    insert = text("INSERT INTO customers (name, email) VALUES ('w', 'w@example.com')")
    with (engine.connect() as open_writer, builder_engine.connect() as builder,
          engine.connect() as writer):
        open_writer.execute(insert)  # an application transaction, not yet committed
        ids = {"builder": pid_of(builder), "writer": pid_of(writer)}
        build, _ = in_thread(lambda: zero_downtime.create_email_index(builder, concurrently))
        wait_until(lambda: any(pid == ids["builder"] for pid, _, _ in locks(engine)), 10,
                   "the index build to ask for its lock")
        held = [(m, granted) for pid, m, granted in locks(engine) if pid == ids["builder"]]
        assert held == [(mode, concurrently)]  # CONCURRENTLY gets its lock, then waits
        write, result = in_thread(lambda: writer.execute(insert))
        if writes_wait:
            wait_until(lambda: (ids["writer"], "RowExclusiveLock", False) in locks(engine), 10,
                       "the write to wait for the index build")
        else:
            write.join(10)
            assert not write.is_alive() and not isinstance(result[0], Exception)
        open_writer.commit()
        write.join(10)  # a plain build finishes now, and lets the write through
        writer.commit()  # CONCURRENTLY also waits for this transaction to end
        build.join(20)
    assert not build.is_alive() and not write.is_alive()
    with engine.connect() as conn:
        assert "customers_email" in {i["name"] for i in inspect(conn).get_indexes("customers")}
    state = "granted at once" if concurrently else "awaited (`granted = false`)"
    effect = ("a new `INSERT` went through while it ran" if not writes_wait else
              "a new `INSERT` waited for it (`RowExclusiveLock`, `granted = false`)")
    key = "concurrently" if concurrently else "plain"
    sql = "CREATE INDEX CONCURRENTLY" if concurrently else "CREATE INDEX"
    OBSERVED[key] = (f"| `{sql}` while another transaction has an uncommitted insert | "
                     f"`pg_locks`: **{mode}** on the table, {state}; {effect} |")


def test_concurrently_is_refused_inside_a_transaction(config, engine):
    at(config, engine, "head", rows=10)
    with engine.begin() as conn, pytest.raises(exc.InternalError) as raised:
        zero_downtime.create_email_index(conn, concurrently=True)
    assert isinstance(raised.value.orig, errors.ActiveSqlTransaction)
    assert str(raised.value.orig).splitlines()[0] == (
        "CREATE INDEX CONCURRENTLY cannot run inside a transaction block")


def test_a_failed_concurrent_build_leaves_an_invalid_index(config, engine):
    at(config, engine, "head", rows=10)
    with engine.begin() as conn:
        conn.execute(text("UPDATE customers SET email = 'same@example.com' WHERE id <= 2"))
    with engine.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        with pytest.raises(exc.IntegrityError) as raised:
            conn.execute(text("CREATE UNIQUE INDEX CONCURRENTLY customers_email_key "
                              "ON customers (email)"))
        assert isinstance(raised.value.orig, errors.UniqueViolation)
        assert zero_downtime.invalid_indexes(conn) == ["customers_email_key"]  # left behind
        conn.execute(text("DROP INDEX CONCURRENTLY customers_email_key"))
        assert zero_downtime.invalid_indexes(conn) == []
    OBSERVED["invalid"] = ("| `CREATE UNIQUE INDEX CONCURRENTLY` on a column with a duplicate "
                           "| `UniqueViolation`, and the index stays behind, `indisvalid = "
                           "false`, until `DROP INDEX CONCURRENTLY` |")


def test_a_constant_default_adds_a_column_without_rewriting_the_table(config, engine):
    at(config, engine, "head", rows=1000)

    def table_file():  # a rewrite gives the table a new file
        with engine.connect() as conn:
            return conn.execute(text("SELECT pg_relation_filenode('customers')")).scalar_one()

    before = table_file()
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE customers ADD COLUMN active boolean NOT NULL "
                          "DEFAULT true"))
        assert conn.execute(text("SELECT count(*) FROM customers WHERE active")
                            ).scalar_one() == 1000  # the old rows read the default
    assert table_file() == before
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE customers ADD COLUMN created_at timestamptz NOT NULL "
                          "DEFAULT clock_timestamp()"))  # volatile: a value per row
    assert table_file() != before
    OBSERVED["default"] = ("| `ADD COLUMN … NOT NULL DEFAULT true`, then `DEFAULT "
                           "clock_timestamp()`, on 1,000 rows | the constant default kept the "
                           "table's file (no rewrite); the volatile one rewrote the table |")


def test_set_local_lock_timeout_ends_with_its_transaction(engine):
    def lock_timeout(conn) -> str:
        return conn.execute(text("SHOW lock_timeout")).scalar_one()

    with engine.connect() as conn:
        conn.execute(text("SET LOCAL lock_timeout = '2s'"))
        assert lock_timeout(conn) == "2s"
        conn.commit()
        assert lock_timeout(conn) == "0"  # gone with the transaction
        conn.execute(text("SET lock_timeout = '2s'"))
        conn.commit()
        assert lock_timeout(conn) == "2s"  # a plain SET stays with the pooled connection
        conn.execute(text("RESET lock_timeout"))
        conn.commit()


def test_main_migrates_to_head(config, engine, capsys):
    command.downgrade(config, "base")
    zero_downtime.main()
    assert capsys.readouterr().out == "migrated to 0003\n"
    assert columns(engine)["email"] is False


@pytest.mark.parametrize("target, before", [("0002", "0001"), ("0003", "0002")])
def test_each_revision_gives_up_on_a_held_lock_instead_of_queueing(config, engine, target,
                                                                   before):
    """The revision itself, run while a transaction that read the table stays open: its own
    `SET lock_timeout` makes its ALTER give up within seconds, and nothing is applied."""
    at(config, engine, before, rows=10)
    with engine.connect() as long_reader:
        long_reader.execute(text("SELECT count(*) FROM customers"))  # stays open
        upgrade, raised = in_thread(lambda: command.upgrade(config, target))
        upgrade.join(20)  # a bound: the revisions' lock_timeout is 2 s
        queued = upgrade.is_alive()
        long_reader.rollback()
        upgrade.join(20)
    assert not queued, f"revision {target} queued behind the open transaction"
    [error] = raised
    assert isinstance(error, exc.OperationalError), error
    assert isinstance(error.orig, errors.LockNotAvailable)
    assert revision(engine) == before
