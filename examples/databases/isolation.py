"""Q35: transactions and isolation levels, on one bank account and two connections.

`python isolation.py` replays the lost update against DATABASE_URL.
"""

from collections.abc import Callable
from typing import TypeVar

from dbconfig import make_engine
from psycopg import errors
from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    exc,
    func,
    select,
    update,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

T = TypeVar("T")

metadata = MetaData()
accounts = Table(
    "accounts", metadata,
    Column("id", Integer, primary_key=True),
    Column("balance", Integer, nullable=False),
)
doctors = Table(
    "doctors", metadata,
    Column("name", String, primary_key=True),
    Column("on_call", Integer, nullable=False),  # 1 on call, 0 off
)




class Base(DeclarativeBase):
    metadata = metadata


# --8<-- [start:optimistic]
class Document(Base):
    """Optimistic locking: every UPDATE says `WHERE id = … AND version = <the version read>`
    and increments it. If another writer committed first, no row matches, and SQLAlchemy
    raises StaleDataError instead of overwriting that writer's change."""
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str]
    version: Mapped[int] = mapped_column()
    __mapper_args__ = {"version_id_col": version}


def edit_document(session: Session, document_id: int, body: str) -> int:
    """Read, change, commit; no lock is held while the user (or the code) thinks."""
    document = session.get(Document, document_id)
    document.body = body
    session.commit()  # StaleDataError if the version changed since the read
    return document.version
# --8<-- [end:optimistic]


def reset(engine: Engine, balance: int = 100) -> None:
    """One account (id 1) with `balance`, and two doctors on call."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(accounts.delete())
        conn.execute(accounts.insert(), [{"id": 1, "balance": balance}])
        conn.execute(doctors.delete())
        conn.execute(doctors.insert(), [{"name": "alice", "on_call": 1},
                                        {"name": "bob", "on_call": 1}])


# --8<-- [start:withdraw]
def read_balance(conn: Connection, account_id: int, lock: bool = False) -> int:
    query = select(accounts.c.balance).where(accounts.c.id == account_id)
    if lock:
        query = query.with_for_update()  # SELECT … FOR UPDATE: hold the row until commit
    return conn.execute(query).scalar_one()


def write_balance(conn: Connection, account_id: int, balance: int) -> None:
    conn.execute(update(accounts).where(accounts.c.id == account_id).values(balance=balance))


def withdraw(conn: Connection, account_id: int, amount: int, lock: bool = False) -> int:
    """Read, compute in Python, write back: the shape of most ORM code."""
    balance = read_balance(conn, account_id, lock=lock) - amount
    write_balance(conn, account_id, balance)
    return balance
# --8<-- [end:withdraw]


# --8<-- [start:atomic]
def withdraw_atomic(conn: Connection, account_id: int, amount: int) -> int:
    """One statement: the database computes the new value from the row it locks."""
    return conn.execute(
        update(accounts).where(accounts.c.id == account_id)
        .values(balance=accounts.c.balance - amount).returning(accounts.c.balance)
    ).scalar_one()
# --8<-- [end:atomic]


# --8<-- [start:retry]
RETRYABLE = (errors.SerializationFailure, errors.DeadlockDetected)  # SQLSTATE 40001, 40P01


def run_in_transaction(engine: Engine, work: Callable[[Connection], T],
                       isolation: str = "SERIALIZABLE", attempts: int = 5) -> T:
    """Run `work` in one transaction; if PostgreSQL aborts it to keep the schedule
    serializable, run the whole of it again (its reads are stale, not only its write)."""
    attempt = 1
    while True:
        try:
            with (engine.connect().execution_options(isolation_level=isolation) as conn,
                  conn.begin()):
                return work(conn)
        except exc.OperationalError as error:
            if not isinstance(error.orig, RETRYABLE) or attempt >= attempts:
                raise
            attempt += 1
# --8<-- [end:retry]


# --8<-- [start:write_skew]
def go_off_call(conn: Connection, name: str) -> bool:
    """Leave the rota only if someone else stays on call: a check, then a write."""
    on_call = conn.execute(select(func.count()).where(doctors.c.on_call == 1)).scalar_one()
    if on_call < 2:
        return False
    conn.execute(update(doctors).where(doctors.c.name == name).values(on_call=0))
    return True
# --8<-- [end:write_skew]


def main() -> None:
    """Two requests withdraw 30 each from 100, their statements interleaved."""
    engine = make_engine()
    reset(engine)
    with engine.connect() as a, engine.connect() as b:
        balance_a = read_balance(a, 1)
        balance_b = read_balance(b, 1)
        write_balance(a, 1, balance_a - 30)
        a.commit()
        write_balance(b, 1, balance_b - 30)
        b.commit()
        print(f"balance after two withdrawals of 30 from 100: {read_balance(a, 1)}")
    engine.dispose()


if __name__ == "__main__":
    main()
