"""Q32: task design. Publish after the commit, or through an outbox.

The orders live in PostgreSQL (DATABASE_URL); the worker reads them by id:

    celery -A task_design worker --loglevel=info
"""

import os

import psycopg
from celery import Celery
from psycopg.types.json import Jsonb

# --8<-- [start:app]
app = Celery("task_design")
app.config_from_object("celeryconfig")
app.conf.task_default_queue = "design"  # its own queue: the main worker never takes these
# The sandbox's DATABASE_URL is SQLAlchemy's form; psycopg takes it without "+psycopg".
DSN = os.environ.get("DATABASE_URL", "postgresql://postgres@localhost:5432/orders").replace(
    "postgresql+psycopg://", "postgresql://")

SCHEMA = """
CREATE TABLE IF NOT EXISTS orders (id serial PRIMARY KEY, email text NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    id serial PRIMARY KEY, task text NOT NULL, args jsonb NOT NULL, sent_at timestamptz
);
"""


def connect() -> psycopg.Connection:
    # psycopg: `with connect() as conn:` commits when the block ends without an error.
    return psycopg.connect(DSN)


@app.task
def confirm_order(order_id: int) -> str:
    with connect() as conn:
        row = conn.execute("SELECT email FROM orders WHERE id = %s", (order_id,)).fetchone()
    return f"order {order_id} not found" if row is None else f"confirmation to {row[0]}"
# --8<-- [end:app]


# --8<-- [start:too_early]
def place_order_too_early(conn: psycopg.Connection, email: str):
    # Inside the caller's transaction: the message leaves now, the row only at COMMIT.
    order_id = conn.execute("INSERT INTO orders (email) VALUES (%s) RETURNING id",
                            (email,)).fetchone()[0]
    return order_id, confirm_order.delay(order_id)
# --8<-- [end:too_early]


# --8<-- [start:after_commit]
def place_order(email: str):
    with connect() as conn:
        order_id = conn.execute("INSERT INTO orders (email) VALUES (%s) RETURNING id",
                                (email,)).fetchone()[0]
    # The block has committed: whichever worker takes the message will find the row.
    return order_id, confirm_order.delay(order_id)
# --8<-- [end:after_commit]


# --8<-- [start:outbox]
def place_order_with_outbox(email: str) -> int:
    # The order and the message to send commit together, or not at all.
    with connect() as conn:
        order_id = conn.execute("INSERT INTO orders (email) VALUES (%s) RETURNING id",
                                (email,)).fetchone()[0]
        conn.execute("INSERT INTO outbox (task, args) VALUES (%s, %s)",
                     (confirm_order.name, Jsonb([order_id])))
    return order_id


@app.task
def relay_outbox(batch: int = 100) -> list[str]:
    # Run it every few seconds (Celery Beat). SKIP LOCKED lets two relays share the work.
    sent = []
    with connect() as conn:
        rows = conn.execute("SELECT id, task, args FROM outbox WHERE sent_at IS NULL "
                            "ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED", (batch,)).fetchall()
        for row_id, task, args in rows:
            sent.append(app.send_task(task, args=args).id)
            conn.execute("UPDATE outbox SET sent_at = now() WHERE id = %s", (row_id,))
    return sent
# --8<-- [end:outbox]


# --8<-- [start:snapshot]
@app.task
def confirm_order_snapshot(order: dict) -> str:
    # Gets the order as it was when the message was sent, not as it is now.
    return f"confirmation to {order['email']}"
# --8<-- [end:snapshot]


# --8<-- [start:wait_inside]
@app.task
def confirm_and_wait(order_id: int) -> str:
    # A mistake: a task waiting for another task's result holds its worker slot meanwhile.
    return confirm_order.delay(order_id).get(timeout=10)
# --8<-- [end:wait_inside]
