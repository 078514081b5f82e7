"""A repository for customers: the functions Q42 tests with a mock, with SQLite and with the
real PostgreSQL. Each rule below is one the database enforces or decides, not Python.

    python customer_store.py      # creates the table in DATABASE_URL, adds and finds a customer
"""

import os

from sqlalchemy import (
    Column,
    Connection,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

# --8<-- [start:table]
NAME_MAX = 40

metadata = MetaData()
customers = Table(
    "shop_customers", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False),
    Column("name", String(NAME_MAX), nullable=False),
)
# One customer per address, whatever its case: Ann@Example.com is ann@example.com.
Index("shop_customers_email_key", func.lower(customers.c.email), unique=True)
# --8<-- [end:table]


# --8<-- [start:functions]
class CustomerExists(Exception):
    pass


class InvalidCustomer(ValueError):
    pass


def add_customer(conn: Connection, email: str, name: str) -> int:
    """Store a customer; the caller commits. Raises CustomerExists for a known address."""
    if not 0 < len(name) <= NAME_MAX:
        raise InvalidCustomer(f"name must be 1 to {NAME_MAX} characters")
    try:
        with conn.begin_nested():  # a savepoint: a duplicate undoes this insert only
            return conn.execute(
                insert(customers).values(email=email, name=name).returning(customers.c.id)
            ).scalar_one()
    except IntegrityError:
        raise CustomerExists(email) from None


def find_customer(conn: Connection, email: str) -> dict | None:
    """The customer with this address, in any case, or None."""
    row = conn.execute(
        select(customers).where(func.lower(customers.c.email) == email.lower())
    ).first()
    return row._asdict() if row else None
# --8<-- [end:functions]


def main() -> None:
    engine = create_engine(
        os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@localhost:5432/guide"))
    metadata.drop_all(engine)
    metadata.create_all(engine)
    with engine.begin() as conn:
        add_customer(conn, "Ann@Example.com", "Ann Lee")
        try:
            add_customer(conn, "ann@example.com", "Ann again")
        except CustomerExists as e:
            print(f"refused: {e} is taken")
        print(find_customer(conn, "ANN@example.com"))
    engine.dispose()


if __name__ == "__main__":
    main()
