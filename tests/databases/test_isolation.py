"""Q35: a lost update under READ COMMITTED, and what prevents it, on two real connections.

Two connections stand for two requests. The test interleaves their statements in the
order that loses an update, then shows each fix against the same interleaving.
"""

import threading

import isolation
import pytest
from isolation import accounts, doctors, read_balance, withdraw, write_balance
from psycopg import errors
from sqlalchemy import exc, func, select, text

from support.includes import write_include
from support.pg_activity import backend_pid, waits_on_a_lock
from support.waiting import wait_until

OBSERVED: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def observed():
    yield OBSERVED
    rows = [("Read, then write back (READ COMMITTED)", "lost_update"),
            ("`SELECT … FOR UPDATE`", "for_update"),
            ("One `UPDATE … SET balance = balance - 30`", "atomic"),
            ("REPEATABLE READ, second writer", "REPEATABLE READ"),
            ("SERIALIZABLE, second writer", "SERIALIZABLE"),
            ("SERIALIZABLE with `run_in_transaction`", "retry")]
    if all(key in OBSERVED for _, key in rows):
        write_include("q35-observed.md", "\n".join(
            ["| Two withdrawals of 30 from 100 | What the test observed |", "|---|---|"]
            + [f"| {label} | {OBSERVED[key]} |" for label, key in rows]))


@pytest.fixture
def fresh(engine):
    isolation.reset(engine)
    return engine


def balance(engine) -> int:
    with engine.connect() as conn:
        return read_balance(conn, 1)


def in_thread(fn):
    """Run fn in a thread; returns (thread, result list)."""
    out: list = []
    thread = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    thread.start()
    return thread, out


def test_interleaved_read_then_write_loses_an_update(fresh):
    with fresh.connect() as a, fresh.connect() as b:
        assert a.get_isolation_level() == "READ COMMITTED"  # PostgreSQL's default
        balance_a = read_balance(a, 1)
        balance_b = read_balance(b, 1)  # both read 100
        write_balance(a, 1, balance_a - 30)
        a.commit()
        write_balance(b, 1, balance_b - 30)  # no error, no wait: it overwrites A's 70 with 70
        b.commit()
    assert balance(fresh) == 70
    OBSERVED["lost_update"] = "balance **70**: one withdrawal lost, no error raised"


def test_select_for_update_makes_the_second_request_wait_for_the_first(fresh):
    with fresh.connect() as a, fresh.connect() as b:
        assert withdraw(a, 1, 30, lock=True) == 70  # A holds the row lock until it commits
        pid_b = backend_pid(b)
        thread, result = in_thread(lambda: withdraw(b, 1, 30, lock=True))
        wait_until(lambda: waits_on_a_lock(fresh, pid_b), 10, "B to wait on A's row lock")
        assert thread.is_alive() and not result
        a.commit()
        thread.join(10)
        assert result == [40]  # B read the committed 70, not the 100 it would have read
        b.commit()
    assert balance(fresh) == 40
    OBSERVED["for_update"] = ("balance **40**: B's `SELECT` waited on a row lock "
                              "(`pg_stat_activity`: `Lock`) until A committed, then read 70")


def test_one_update_statement_needs_no_lock_of_your_own(fresh):
    with fresh.connect() as a, fresh.connect() as b:
        assert isolation.withdraw_atomic(a, 1, 30) == 70
        pid_b = backend_pid(b)
        thread, result = in_thread(lambda: isolation.withdraw_atomic(b, 1, 30))
        wait_until(lambda: waits_on_a_lock(fresh, pid_b), 10, "B's UPDATE to wait for A's")
        a.commit()
        thread.join(10)
        b.commit()
    assert result == [40]
    assert balance(fresh) == 40
    OBSERVED["atomic"] = ("balance **40**: B's `UPDATE` waited for A's, then re-read the "
                          "committed row")


@pytest.mark.parametrize("level", ["REPEATABLE READ", "SERIALIZABLE"])
def test_a_snapshot_level_aborts_the_second_writer(fresh, level):
    with (fresh.connect().execution_options(isolation_level=level) as a,
          fresh.connect().execution_options(isolation_level=level) as b):
        balance_a = read_balance(a, 1)
        balance_b = read_balance(b, 1)
        write_balance(a, 1, balance_a - 30)
        a.commit()
        with pytest.raises(exc.OperationalError) as raised:
            write_balance(b, 1, balance_b - 30)
        b.rollback()
    assert isinstance(raised.value.orig, errors.SerializationFailure)
    assert raised.value.orig.sqlstate == "40001"
    assert balance(fresh) == 70  # A's withdrawal stands; B must run again
    message = str(raised.value.orig).splitlines()[0]
    OBSERVED[level] = f"B's `UPDATE` raises `SerializationFailure` (40001): *{message}*"


def test_the_retry_runs_the_whole_transaction_again(fresh):
    attempts = []

    def withdraw_30(conn):
        attempts.append(conn.get_isolation_level())
        current = read_balance(conn, 1)
        if len(attempts) == 1:  # another request commits between our read and our write
            with fresh.begin() as other:
                withdraw(other, 1, 30)
        write_balance(conn, 1, current - 30)
        return current - 30

    assert isolation.run_in_transaction(fresh, withdraw_30) == 40
    assert attempts == ["SERIALIZABLE", "SERIALIZABLE"]
    assert balance(fresh) == 40
    OBSERVED["retry"] = (f"balance **40**: the first attempt was aborted, the second "
                         f"read 70 and committed ({len(attempts)} attempts)")


def test_the_retry_gives_up_after_its_attempts_and_reraises(fresh):
    def always_conflicts(conn):
        current = read_balance(conn, 1)
        with fresh.begin() as other:
            withdraw(other, 1, 1)
        write_balance(conn, 1, current - 30)

    with pytest.raises(exc.OperationalError) as raised:
        isolation.run_in_transaction(fresh, always_conflicts, attempts=3)
    assert isinstance(raised.value.orig, errors.SerializationFailure)
    assert balance(fresh) == 97  # three attempts, each lost to a concurrent withdrawal of 1


def test_other_errors_are_not_retried(fresh):
    calls = []

    def broken(conn):
        calls.append(1)
        conn.execute(text("SELECT 1/0"))

    with pytest.raises(exc.DataError):
        isolation.run_in_transaction(fresh, broken)
    assert calls == [1]


@pytest.mark.parametrize("level, sees", [("READ COMMITTED", (70, 2)),
                                         ("REPEATABLE READ", (100, 1))])
def test_repeatable_read_is_one_snapshot_for_the_whole_transaction(fresh, level, sees):
    with fresh.connect().execution_options(isolation_level=level) as a:
        count = select(func.count()).select_from(accounts)
        assert (read_balance(a, 1), a.execute(count).scalar_one()) == (100, 1)
        with fresh.begin() as b:  # another transaction changes a row and adds one, commits
            withdraw(b, 1, 30)
            b.execute(accounts.insert().values(id=2, balance=5))
        # Same queries, same transaction: a changed value (non-repeatable read) and a new
        # row (phantom) show under READ COMMITTED; under REPEATABLE READ neither does.
        assert (read_balance(a, 1), a.execute(count).scalar_one()) == sees
        a.rollback()


def test_repeatable_read_allows_write_skew_serializable_does_not(fresh):
    def both_go_off_call(level):
        isolation.reset(fresh)
        with (fresh.connect().execution_options(isolation_level=level) as a,
              fresh.connect().execution_options(isolation_level=level) as b):
            assert isolation.go_off_call(a, "alice")  # each sees two on call
            assert isolation.go_off_call(b, "bob")
            a.commit()
            try:
                b.commit()
            except exc.OperationalError as error:
                return error.orig
        with fresh.connect() as conn:
            return conn.execute(select(func.sum(doctors.c.on_call))).scalar_one()

    assert both_go_off_call("REPEATABLE READ") == 0  # nobody on call: both checks passed
    refused = both_go_off_call("SERIALIZABLE")
    assert isinstance(refused, errors.SerializationFailure)


def test_one_after_the_other_the_check_keeps_a_doctor_on_call(fresh):
    with fresh.begin() as a:
        assert isolation.go_off_call(a, "alice")
    with fresh.begin() as b:
        assert not isolation.go_off_call(b, "bob")  # the check now sees one on call
    with fresh.connect() as conn:
        assert conn.execute(select(func.sum(doctors.c.on_call))).scalar_one() == 1


def test_read_uncommitted_still_never_sees_uncommitted_data(fresh):
    with (fresh.connect() as writer,
          fresh.connect().execution_options(isolation_level="READ UNCOMMITTED") as reader):
        write_balance(writer, 1, 0)  # not committed
        assert read_balance(reader, 1) == 100  # no dirty read
        writer.rollback()
        reader.rollback()


def test_main_prints_the_lost_update(database_url, capsys):
    isolation.main()
    assert capsys.readouterr().out == "balance after two withdrawals of 30 from 100: 70\n"


def test_a_version_column_refuses_the_second_of_two_concurrent_edits(fresh):
    from sqlalchemy.orm import Session
    from sqlalchemy.orm.exc import StaleDataError

    with Session(fresh) as session:
        session.add(isolation.Document(id=1, body="draft"))
        session.commit()
    with Session(fresh) as first, Session(fresh) as second:
        seen = second.get(isolation.Document, 1)  # read (and kept), not yet written
        assert seen.version == 1
        assert isolation.edit_document(first, 1, "first edit") == 2
        with pytest.raises(StaleDataError, match="expected to update 1 row.s.; 0 were matched"):
            isolation.edit_document(second, 1, "second edit")
    with fresh.connect() as conn:
        row = conn.execute(text("SELECT body, version FROM documents WHERE id = 1")).one()
    assert tuple(row) == ("first edit", 2)  # the first edit survived
