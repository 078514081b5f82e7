"""Q36: indexes read from EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) on a generated table.

`python query_plans.py` builds a 50,000-row `orders` table and prints the plan of one
query before and after its index.
"""

import json
import time
from typing import Any

from dbconfig import make_engine
from sqlalchemy import Connection, Engine, text

# --8<-- [start:table]
CREATE_ORDERS = """
CREATE TABLE orders (
    id          integer PRIMARY KEY,
    customer_id integer NOT NULL,   -- 5,000 customers, 10 orders each
    day         integer NOT NULL,   -- 365 days
    status      text    NOT NULL,   -- 90 % 'shipped', 9.8 % 'pending', 0.2 % 'refunded'
    amount      numeric(10, 2) NOT NULL
)"""
FILL_ORDERS = """
INSERT INTO orders
SELECT i, i % 5000, i % 365,
       CASE WHEN i % 500 = 0 THEN 'refunded' WHEN i % 10 = 0 THEN 'pending' ELSE 'shipped' END,
       (i % 1000) / 10.0
FROM generate_series(1, :rows) AS i"""
# --8<-- [end:table]


def create_orders(engine: Engine, rows: int = 50_000) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS orders"))
        conn.execute(text(CREATE_ORDERS))
        conn.execute(text(FILL_ORDERS), {"rows": rows})
        conn.execute(text("ANALYZE orders"))  # fresh statistics, as autovacuum would gather


# --8<-- [start:explain]
def explain(conn: Connection, query: str, **params: Any) -> dict:
    """Run the query under EXPLAIN (ANALYZE, BUFFERS) and return its plan as a dict."""
    raw = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {query}"), params)
    document = raw.scalar_one()
    return (json.loads(document) if isinstance(document, str) else document)[0]


def nodes(plan: dict) -> list[dict]:
    """Every node of a plan, the root first."""
    found, todo = [], [plan["Plan"]]
    while todo:
        node = todo.pop(0)
        found.append(node)
        todo.extend(node.get("Plans", []))
    return found


def summary(plan: dict) -> dict:
    """What to read in a plan: how the table was scanned, and what it cost."""
    scans = [n for n in nodes(plan) if "Scan" in n["Node Type"]]
    return {
        "scans": [(n["Node Type"], n.get("Index Name")) for n in scans],
        "rows": plan["Plan"]["Actual Rows"],
        "rows_removed_by_filter": sum(n.get("Rows Removed by Filter", 0) for n in scans),
        "blocks": plan["Plan"]["Shared Hit Blocks"] + plan["Plan"]["Shared Read Blocks"],
        "ms": plan["Execution Time"],
    }
# --8<-- [end:explain]


# --8<-- [start:write_cost]
def insert_cost(engine: Engine, rows: int, indexes: list[str]) -> dict:
    """Insert `rows` orders into an empty copy of the table carrying `indexes` (column
    lists); return the time it took and the write-ahead log it generated."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS orders_copy"))
        conn.execute(text("CREATE TABLE orders_copy (LIKE orders INCLUDING ALL)"))  # + its key
        for n, columns in enumerate(indexes):
            conn.execute(text(f"CREATE INDEX orders_copy_{n} ON orders_copy ({columns})"))
    with engine.begin() as conn:
        before = conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one()
        started = time.perf_counter()
        conn.execute(text(FILL_ORDERS.replace("INTO orders", "INTO orders_copy")),
                     {"rows": rows})
        seconds = time.perf_counter() - started
        wal = conn.execute(text("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), :before)"),
                           {"before": before}).scalar_one()
    return {"seconds": seconds, "wal_bytes": int(wal)}
# --8<-- [end:write_cost]


# --8<-- [start:hot]
def update_counts(conn: Connection, table: str) -> dict:
    """The updates of `table` that the statistics counted, and how many were HOT: a HOT
    (heap-only tuple) update changed no indexed column and found room on the row's page, so
    it wrote no index entry."""
    row = conn.execute(text("SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
                            "WHERE relid = CAST(:table AS regclass)"), {"table": table}).one()
    return {"updates": row.n_tup_upd, "hot": row.n_tup_hot_upd}
# --8<-- [end:hot]


def main() -> None:
    engine = make_engine()
    create_orders(engine)
    query = "SELECT * FROM orders WHERE customer_id = 42"
    with engine.begin() as conn:
        print("without an index:", summary(explain(conn, query))["scans"])
        conn.execute(text("CREATE INDEX orders_customer ON orders (customer_id)"))
        print("with an index:   ", summary(explain(conn, query))["scans"])
    engine.dispose()


if __name__ == "__main__":
    main()
