"""Q40: a job queue in a PostgreSQL table, drained by concurrent workers with SKIP LOCKED,
and the lock ordering that keeps two transfers from deadlocking.

`python job_queue.py` queues 100 jobs and drains them with 4 threads, each on its own
connection, then prints how many each took.
"""

import threading
from collections import Counter

import psycopg
from dbconfig import make_engine
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    insert,
    select,
    text,
    update,
)

metadata = MetaData()
# --8<-- [start:table]
jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True),
    Column("payload", String, nullable=False),
    Column("status", String, nullable=False, server_default="queued"),  # queued | done
    Column("taken_by", String),
)
# Only the queued rows: the index stays small however many done jobs the table keeps.
Index("jobs_queued", jobs.c.id, postgresql_where=jobs.c.status == "queued")
# --8<-- [end:table]
wallets = Table(
    "wallets", metadata,
    Column("id", Integer, primary_key=True),
    Column("balance", Integer, nullable=False),
)


def reset(engine: Engine, jobs_count: int = 0, wallets_count: int = 2) -> None:
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(jobs.delete())
        conn.execute(wallets.delete())
        if jobs_count:
            conn.execute(insert(jobs), [{"id": i, "payload": f"job {i}"}
                                        for i in range(1, jobs_count + 1)])
        conn.execute(insert(wallets), [{"id": i, "balance": 100}
                                       for i in range(1, wallets_count + 1)])


# --8<-- [start:claim]
NEXT_JOB = (select(jobs.c.id).where(jobs.c.status == "queued").order_by(jobs.c.id).limit(1)
            .with_for_update(skip_locked=True))  # FOR UPDATE SKIP LOCKED


def claim_next(conn: Connection, worker: str) -> int | None:
    """Take the oldest queued job nobody else holds; the row stays locked until commit."""
    job_id = conn.execute(NEXT_JOB).scalar_one_or_none()
    if job_id is not None:
        conn.execute(update(jobs).where(jobs.c.id == job_id)
                     .values(status="done", taken_by=worker))
    return job_id


def drain(engine: Engine, worker: str) -> list[int]:
    """Claim, do the work and commit, one job per transaction, until none is left."""
    taken = []
    while True:
        with engine.begin() as conn:
            job_id = claim_next(conn, worker)
            if job_id is None:
                return taken
            taken.append(job_id)  # the work goes here, inside the transaction
# --8<-- [end:claim]


# --8<-- [start:notify]
def enqueue(conn: Connection, payload: str) -> int:
    """Queue a job and wake the workers. PostgreSQL delivers the notification when this
    transaction commits, so no worker wakes up for a job it cannot see yet."""
    job_id = conn.execute(insert(jobs).values(payload=payload).returning(jobs.c.id)
                          ).scalar_one()
    conn.execute(text("SELECT pg_notify('jobs', :id)"), {"id": str(job_id)})
    return job_id


def listen(url: str) -> psycopg.Connection:
    """A connection of its own that hears the queue's notifications (LISTEN needs the
    session, so it can't be a pooled connection lent out per transaction)."""
    listener = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"),
                               autocommit=True)
    listener.execute("LISTEN jobs")
    return listener


def wait_for_work(listener: psycopg.Connection, timeout: float) -> bool:
    """Sleep until a job is committed or `timeout` seconds pass (True: woken by a job).
    A notification sent while nobody listened is lost: keep a slow poll as well."""
    return any(True for _ in listener.notifies(timeout=timeout, stop_after=1))
# --8<-- [end:notify]


# --8<-- [start:transfer]
def transfer(conn: Connection, source: int, target: int, amount: int) -> None:
    """Debit then credit: each UPDATE locks its row, in the order the caller gave."""
    conn.execute(update(wallets).where(wallets.c.id == source)
                 .values(balance=wallets.c.balance - amount))
    conn.execute(update(wallets).where(wallets.c.id == target)
                 .values(balance=wallets.c.balance + amount))


def transfer_ordered(conn: Connection, source: int, target: int, amount: int) -> None:
    """Lock both rows first, lowest id first, whatever the direction of the transfer."""
    conn.execute(select(wallets.c.id).where(wallets.c.id.in_([source, target]))
                 .order_by(wallets.c.id).with_for_update())
    transfer(conn, source, target, amount)
# --8<-- [end:transfer]


def main() -> None:
    engine = make_engine(pool_size=4)
    reset(engine, jobs_count=100)
    results: dict[str, list[int]] = {}
    workers = [f"worker-{n}" for n in range(4)]
    threads = [threading.Thread(target=lambda w=w: results.update({w: drain(engine, w)}))
               for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    taken = Counter(job for jobs_taken in results.values() for job in jobs_taken)
    print(f"jobs taken: {sum(taken.values())}, distinct: {len(taken)}, "
          f"taken twice: {sum(1 for n in taken.values() if n > 1)}")
    engine.dispose()


if __name__ == "__main__":
    main()
