"""Q40: a table as a job queue, drained by concurrent consumers; a deadlock, provoked and
reported by PostgreSQL, and the lock order that avoids it."""

import re
import threading
import time
from collections import Counter

import job_queue
import pytest
from job_queue import jobs, wallets
from psycopg import errors
from sqlalchemy import exc, select, text, update

from support.includes import write_include
from support.pg_activity import backend_pid, waits_on_a_lock
from support.waiting import wait_until

OBSERVED: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def observed():
    yield
    keys = ["no_lock", "for_update", "skip_locked", "drain", "silent", "bloat", "partial",
            "notify", "deadlock", "ordered"]
    labels = ["Plain `SELECT`, then `UPDATE`", "`FOR UPDATE` without `SKIP LOCKED`",
              "`FOR UPDATE SKIP LOCKED`", "4 threads drain 400 jobs",
              "A worker that claims a job and goes silent", "Dead rows", "A partial index",
              "`LISTEN`/`NOTIFY`", "Two transfers in opposite directions",
              "The same, rows locked in id order"]
    if all(k in OBSERVED for k in keys):
        write_include("q40-observed.md", "\n".join(
            ["| Case | What the test observed |", "|---|---|"]
            + [f"| {label} | {OBSERVED[k]} |" for label, k in zip(labels, keys, strict=True)]))


def next_queued(conn, lock: str | None):
    query = select(jobs.c.id).where(jobs.c.status == "queued").order_by(jobs.c.id).limit(1)
    if lock == "for update":
        query = query.with_for_update()
    return conn.execute(query).scalar_one_or_none()


def test_without_a_lock_two_workers_take_the_same_job(engine):
    job_queue.reset(engine, jobs_count=5)
    with engine.connect() as a, engine.connect() as b:
        first_a, first_b = next_queued(a, None), next_queued(b, None)
        for conn, worker, job in ((a, "a", first_a), (b, "b", first_b)):
            conn.execute(update(jobs).where(jobs.c.id == job).values(status="done",
                                                                     taken_by=worker))
            conn.commit()
    assert first_a == first_b == 1
    OBSERVED["no_lock"] = "both workers took job **1**"


def test_for_update_alone_makes_the_second_worker_wait_for_the_first(engine):
    job_queue.reset(engine, jobs_count=5)
    with engine.connect() as a, engine.connect() as b:
        assert next_queued(a, "for update") == 1
        a.execute(update(jobs).where(jobs.c.id == 1).values(status="done"))
        pid_b, out = backend_pid(b), []
        thread = threading.Thread(target=lambda: out.append(next_queued(b, "for update")))
        thread.start()
        wait_until(lambda: waits_on_a_lock(engine, pid_b), 10, "b to wait for job 1's lock")
        a.commit()
        thread.join(10)
        b.rollback()
    # After the wait, PostgreSQL re-checks the locked row (now done), drops it, and takes
    # the next one: correct, but the consumers ran one after the other.
    assert out == [2]
    OBSERVED["for_update"] = ("the second worker **waited** until the first committed, then "
                              "got job **2**: the workers take turns")


def test_skip_locked_gives_each_worker_a_different_job_at_once(engine):
    job_queue.reset(engine, jobs_count=5)
    with engine.begin() as a, engine.begin() as b:
        assert job_queue.claim_next(a, "a") == 1  # a still holds job 1
        assert job_queue.claim_next(b, "b") == 2  # b skips it, no wait
    OBSERVED["skip_locked"] = "jobs **1** and **2**, without waiting"


def test_concurrent_consumers_drain_the_queue_and_no_job_is_taken_twice(engine):
    job_queue.reset(engine, jobs_count=400)
    results: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def consumer(name):
        start.wait(10)
        results[name] = job_queue.drain(engine, name)

    threads = [threading.Thread(target=consumer, args=(f"w{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    taken = Counter(job for got in results.values() for job in got)
    assert sorted(taken) == list(range(1, 401)) and set(taken.values()) == {1}
    with engine.connect() as conn:
        by_worker = dict(conn.execute(text(
            "SELECT taken_by, count(*) FROM jobs GROUP BY taken_by")).all())
        assert conn.execute(select(jobs.c.id).where(jobs.c.status == "queued")).all() == []
    assert by_worker == {name: len(got) for name, got in results.items()}
    busy = sum(1 for n in by_worker.values() if n)
    assert busy >= 2  # the work was shared, not done by whichever thread started first
    OBSERVED["drain"] = f"every job taken exactly once, by {busy} of the 4 workers"


def test_main_prints_that_no_job_was_taken_twice(engine, capsys):
    job_queue.main()
    assert capsys.readouterr().out == "jobs taken: 100, distinct: 100, taken twice: 0\n"


def run_concurrently(engine, first, second):
    """A does its first step, B its first, then each its second: B in this thread, A in
    another. Returns what each raised (or None)."""
    raised = {"a": None, "b": None}
    with engine.connect() as a, engine.connect() as b:
        first(a, 1, 2)
        pid_a = backend_pid(a)
        second_a = threading.Thread(target=lambda: _catch(raised, "a", a, second, 1, 2))
        _catch(raised, "b", b, first, 2, 1, commit=False)
        second_a.start()
        wait_until(lambda: waits_on_a_lock(engine, pid_a) or not second_a.is_alive(), 10,
                   "a to wait for b")
        _catch(raised, "b", b, second, 2, 1)
        second_a.join(10)
    return raised


def _catch(raised, name, conn, step, source, target, commit=True):
    if raised[name]:
        return
    try:
        step(conn, source, target)
        if commit:
            conn.commit()
    except exc.OperationalError as error:
        raised[name] = error.orig
        conn.rollback()


def debit(conn, source, target):
    conn.execute(update(wallets).where(wallets.c.id == source)
                 .values(balance=wallets.c.balance - 10))


def credit(conn, source, target):
    conn.execute(update(wallets).where(wallets.c.id == target)
                 .values(balance=wallets.c.balance + 10))


def balances(engine):
    with engine.connect() as conn:
        return dict(conn.execute(select(wallets.c.id, wallets.c.balance)).all())


def test_opposite_transfers_deadlock_and_postgresql_aborts_one(engine):
    job_queue.reset(engine)
    raised = run_concurrently(engine, debit, credit)  # transfer()'s two UPDATEs, interleaved
    failures = [e for e in raised.values() if e is not None]
    assert len(failures) == 1 and isinstance(failures[0], errors.DeadlockDetected)
    assert failures[0].sqlstate == "40P01"
    assert balances(engine) == {1: 110, 2: 90} or balances(engine) == {1: 90, 2: 110}
    message = str(failures[0]).splitlines()[0]
    detail = re.sub(r"\d+", "N", failures[0].diag.message_detail.splitlines()[0])
    assert re.fullmatch(r"Process N waits for ShareLock on transaction N; blocked by process N\.",
                        detail), detail
    OBSERVED["deadlock"] = (f"`DeadlockDetected` (40P01): *{message}. {detail}* One transfer "
                            "was aborted, the other committed")


def test_transfer_runs_both_updates(engine):
    job_queue.reset(engine)
    with engine.begin() as conn:
        job_queue.transfer(conn, 1, 2, 30)
    assert balances(engine) == {1: 70, 2: 130}


def test_locking_in_id_order_makes_the_second_transfer_wait_instead(engine):
    job_queue.reset(engine)
    with engine.connect() as a, engine.connect() as b:
        job_queue.transfer_ordered(a, 1, 2, 10)  # holds rows 1 and 2
        pid_b, raised = backend_pid(b), []

        def opposite():
            try:
                job_queue.transfer_ordered(b, 2, 1, 10)
                b.commit()
            except exc.OperationalError as error:
                raised.append(error.orig)

        thread = threading.Thread(target=opposite)
        thread.start()
        wait_until(lambda: waits_on_a_lock(engine, pid_b), 10, "b to wait for row 1")
        a.commit()
        thread.join(10)
    assert raised == []
    assert balances(engine) == {1: 100, 2: 100}  # +10 and -10 both applied
    OBSERVED["ordered"] = ("no deadlock: the second transfer **waited** for the first, "
                           "then both committed")


def test_a_worker_that_dies_mid_job_gives_the_job_back(engine):
    job_queue.reset(engine, jobs_count=3)
    with engine.connect() as dying, engine.begin() as other:
        assert job_queue.claim_next(dying, "dying") == 1
        assert job_queue.claim_next(other, "other") == 2
        pid = backend_pid(dying)
        with engine.connect() as admin:  # the worker's process is gone: its session ends
            assert admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        wait_until(lambda: not _backend_alive(engine, pid), 10, "the session to end")
        dying.invalidate()
    with engine.begin() as conn:
        assert job_queue.claim_next(conn, "next") == 1  # rolled back: queued again


def first_free_job(engine) -> int | None:
    """The job a claim would take now, without taking it."""
    with engine.connect() as conn:
        job_id = conn.execute(job_queue.NEXT_JOB).scalar_one_or_none()
        conn.rollback()
    return job_id


def test_a_silent_worker_keeps_its_job_until_the_server_ends_its_session(engine):
    """A worker that stops talking (hung, or its host gone) still holds the row: only the
    server ending the session frees it, here idle_in_transaction_session_timeout."""
    job_queue.reset(engine, jobs_count=3)
    with engine.connect() as silent:
        silent.execute(text("SET idle_in_transaction_session_timeout = '1s'"))
        assert job_queue.claim_next(silent, "silent") == 1  # then it says nothing more
        assert first_free_job(engine) == 2  # job 1 is held
        wait_until(lambda: first_free_job(engine) == 1, 15, "the server to end the session")
        with pytest.raises(exc.InternalError) as raised:
            silent.execute(text("SELECT 1"))
        silent.invalidate()
    assert isinstance(raised.value.orig, errors.IdleInTransactionSessionTimeout)
    assert str(raised.value.orig).startswith(
        "terminating connection due to idle-in-transaction timeout")
    OBSERVED["silent"] = ("a worker that claimed job 1 and went silent held it (the next claim "
                          "got job 2) until `idle_in_transaction_session_timeout` (1 s) ended "
                          "its session: *terminating connection due to idle-in-transaction "
                          "timeout*; then job 1 was free again")


def _backend_alive(engine, pid: int) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                            {"pid": pid}).scalar_one() == 1


def test_nowait_fails_at_once_on_a_locked_row(engine):
    job_queue.reset(engine, jobs_count=2)
    with engine.begin() as a, engine.connect() as b:
        assert job_queue.claim_next(a, "a") == 1
        with pytest.raises(exc.OperationalError) as raised:
            b.execute(select(jobs).where(jobs.c.id == 1).with_for_update(nowait=True))
        b.rollback()
    assert isinstance(raised.value.orig, errors.LockNotAvailable)
    assert raised.value.orig.sqlstate == "55P03"


def test_a_locked_job_is_still_readable(engine):
    job_queue.reset(engine, jobs_count=2)
    with engine.begin() as a, engine.connect() as b:
        assert job_queue.claim_next(a, "a") == 1
        status = b.execute(select(jobs.c.status).where(jobs.c.id == 1)).scalar_one()
        assert status == "queued"  # the last committed version, read without waiting
        b.rollback()


def test_a_deadlock_victim_retried_by_run_in_transaction_completes(engine):
    from isolation import run_in_transaction

    job_queue.reset(engine)
    both_debited = threading.Barrier(2)
    attempts, errors_seen = Counter(), []

    def transfer(source, target):
        def work(conn):
            attempts[source] += 1
            if attempts[source] == 1:  # first attempt: debit, wait for the other's debit
                debit(conn, source, target)
                both_debited.wait(10)
                credit(conn, source, target)
            else:
                job_queue.transfer(conn, source, target, 10)
        try:
            run_in_transaction(engine, work, isolation="READ COMMITTED")
        except Exception as error:  # surfaced by the assertion below
            errors_seen.append(error)

    threads = [threading.Thread(target=transfer, args=pair) for pair in ((1, 2), (2, 1))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors_seen == []
    assert balances(engine) == {1: 100, 2: 100}  # both transfers applied
    # At least the first victim ran again. Under load its retry can lock its row again
    # before the survivor wakes, deadlock once more, and make the survivor a victim too.
    assert sum(attempts.values()) >= 3


def test_each_claim_leaves_a_dead_row_version_until_vacuum(engine):
    job_queue.reset(engine, jobs_count=200)
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        conn.execute(text("VACUUM jobs"))  # the reset's deletes, gone
        assert dead_versions(conn) == 0
    job_queue.drain(engine, "w")
    with autocommit.connect() as conn:
        dead = dead_versions(conn)
        assert dead == 200  # each claim's UPDATE left the job's old version behind
        conn.execute(text("VACUUM jobs"))
        assert dead_versions(conn) == 0
    OBSERVED["bloat"] = (f"after 200 claims, **{dead}** dead row versions in `jobs`, read from "
                         f"its pages (`pageinspect`); `VACUUM` brought them to 0")


def dead_versions(conn) -> int:
    """Row versions in the table's pages that no transaction can see any more: an old
    version (its xmax set by the UPDATE that replaced it, not by a lock), or the line
    pointer that pruning left of one (LP_DEAD), until VACUUM frees them."""
    return conn.execute(text("""
        SELECT count(*) FROM generate_series(0, pg_relation_size('jobs') / 8192 - 1) AS page,
             heap_page_items(get_raw_page('jobs', page::int)) AS item
        WHERE item.lp_flags = 3  -- LP_DEAD
           OR (item.lp_flags = 1 AND item.t_xmax <> 0  -- replaced, not only locked:
               AND item.t_infomask & 128 = 0)  -- HEAP_XMAX_LOCK_ONLY
        """)).scalar_one()


def test_the_claim_reads_a_partial_index_of_the_queued_jobs(engine):
    from query_plans import explain, nodes
    from sqlalchemy.dialects import postgresql

    job_queue.reset(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO jobs (id, payload, status) SELECT i, 'job', CASE WHEN "
                          "i > 9990 THEN 'queued' ELSE 'done' END "
                          "FROM generate_series(1, 10000) AS i"))
        conn.execute(text("ANALYZE jobs"))
        claim = str(job_queue.NEXT_JOB.compile(dialect=postgresql.dialect(),
                                               compile_kwargs={"literal_binds": True}))
        plan = explain(conn, claim)
        size = dict(conn.execute(text(
            "SELECT relname, pg_relation_size(oid) FROM pg_class "
            "WHERE relname IN ('jobs_queued', 'jobs_pkey')")).all())
    assert "jobs_queued" in [node.get("Index Name") for node in nodes(plan)]
    assert plan["Plan"]["Actual Rows"] == 1
    assert size["jobs_queued"] * 10 < size["jobs_pkey"]  # 10 entries, not 10,000
    OBSERVED["partial"] = (f"10,000 jobs, 10 queued: the claim's plan reads `jobs_queued`; "
                           f"{size['jobs_queued'] // 1024} kB against the primary key's "
                           f"{size['jobs_pkey'] // 1024} kB")


def test_a_listening_worker_wakes_when_a_job_is_committed(engine, database_url):
    job_queue.reset(engine)
    listener = job_queue.listen(database_url)
    try:
        with engine.connect() as producer:
            job_queue.enqueue(producer, "rolled back")
            producer.rollback()
            assert not job_queue.wait_for_work(listener, 0.2)  # nothing committed
            job_id = job_queue.enqueue(producer, "send the email")
            assert not job_queue.wait_for_work(listener, 0.2)  # not yet committed
            producer.commit()
        started = time.monotonic()
        assert job_queue.wait_for_work(listener, 10)
        woke = time.monotonic() - started
    finally:
        listener.close()
    with engine.begin() as conn:
        assert job_queue.claim_next(conn, "woken") == job_id
    OBSERVED["notify"] = (f"`NOTIFY` inside the producer's transaction: nothing reached the "
                          f"listener before the commit, or after a rollback; after the commit "
                          f"it woke in {woke * 1000:.1f} ms")


def interleaved(engine, move) -> list[Exception]:
    """`move(conn, source, target, 10)` from 1 to 2 and from 2 to 1 at once, each on its own
    connection, in lockstep: a transfer's statement number k waits until the other transfer
    has run its statement k - 1, waits for a lock, or has ended. That is the interleaving in
    which two transfers that lock their rows one by one deadlock. Returns what they raised."""
    from sqlalchemy import event

    raised: list[Exception] = []
    with engine.connect() as a, engine.connect() as b:
        pids = {a: backend_pid(a), b: backend_pid(b)}
        started, ran, ended = Counter(), Counter(), {a: False, b: False}

        def hold(conn, *_):
            started[conn] += 1
            other, k = (b if conn is a else a), started[conn]
            if k > 1:
                wait_until(lambda: ran[other] >= k - 1 or ended[other]
                           or waits_on_a_lock(engine, pids[other]), 10,
                           f"the other transfer's statement {k - 1}")

        def done(conn, *_):
            ran[conn] += 1

        def run(conn, source, target):
            event.listen(conn, "before_cursor_execute", hold)
            event.listen(conn, "after_cursor_execute", done)
            try:
                move(conn, source, target, 10)
                conn.commit()
            except exc.OperationalError as error:
                raised.append(error.orig)
                conn.rollback()
            finally:
                ended[conn] = True

        other = threading.Thread(target=run, args=(b, 2, 1))
        other.start()
        run(a, 1, 2)
        other.join(30)
        assert not other.is_alive()
    return raised


def test_the_examples_ordered_transfer_never_deadlocks_whatever_the_interleaving(engine):
    """The example's own transfer_ordered, forced into the interleaving that makes its own
    transfer() deadlock (shown first, under the same forcing)."""
    job_queue.reset(engine)
    raised = interleaved(engine, job_queue.transfer)
    assert [type(e) for e in raised] == [errors.DeadlockDetected]
    job_queue.reset(engine)
    assert interleaved(engine, job_queue.transfer_ordered) == []
    assert balances(engine) == {1: 100, 2: 100}  # +10 and -10 both applied


def test_a_consumer_never_waits_for_a_job_another_holds(engine):
    """claim_next on two open transactions: the second takes the next job at once. Its
    lock_timeout turns a wait, were there one, into an error instead of a hang."""
    job_queue.reset(engine, jobs_count=5)
    with engine.begin() as a, engine.begin() as b:
        b.execute(text("SET LOCAL lock_timeout = '1s'"))
        assert job_queue.claim_next(a, "a") == 1
        assert job_queue.claim_next(b, "b") == 2
