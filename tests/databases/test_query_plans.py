"""Q36: what the planner chose, read from EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) on a
50,000-row table, and what indexes cost on writes, measured."""

import pytest
import query_plans
from query_plans import explain, summary
from sqlalchemy import text

from support.includes import write_include
from support.waiting import wait_until

ROWS = 50_000
PLANS: list[tuple[str, str, dict]] = []


@pytest.fixture(scope="module", autouse=True)
def orders(engine):
    query_plans.create_orders(engine, ROWS)
    yield
    if len(PLANS) == 9:
        lines = ["| Query | Indexes on the table | Plan | Rows returned | Rows read and "
                 "thrown away | Blocks touched |", "|---|---|---|---|---|---|"]
        for query, indexes, s in PLANS:
            plan = " → ".join(f"{kind}" + (f" on `{name}`" if name else "")
                              for kind, name in s["scans"])
            lines.append(f"| `{query.removeprefix('SELECT * FROM orders ')}` | {indexes} | "
                         f"{plan} | {s['rows']:,} | {s['rows_removed_by_filter']:,} | "
                         f"{s['blocks']:,} |")
        write_include("q36-plans.md", "\n".join(lines))


def run(engine, query: str, indexes: list[str], label: str, setting: str = "") -> dict:
    """Create exactly `indexes` (name: columns), analyze, explain `query`."""
    with engine.begin() as conn:
        if setting:
            conn.execute(text(f"SET LOCAL {setting}"))
        for name in ("orders_customer", "orders_customer_day", "orders_status"):
            conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
        for name, columns in indexes:
            conn.execute(text(f"CREATE INDEX {name} ON orders ({columns})"))
        conn.execute(text("ANALYZE orders"))
        found = summary(explain(conn, query))
    PLANS.append((query, label, found))
    return found


def test_without_an_index_every_row_is_read(engine):
    s = run(engine, "SELECT * FROM orders WHERE customer_id = 42", [], "primary key only")
    assert s["scans"] == [("Seq Scan", None)]
    assert (s["rows"], s["rows_removed_by_filter"]) == (10, ROWS - 10)


def test_with_an_index_only_the_matching_rows_are_visited(engine):
    before = PLANS[-1][2] if PLANS else None
    s = run(engine, "SELECT * FROM orders WHERE customer_id = 42",
            [("orders_customer", "customer_id")], "`(customer_id)`")
    kinds = [kind for kind, _ in s["scans"]]
    assert kinds in (["Index Scan"], ["Bitmap Heap Scan", "Bitmap Index Scan"])
    assert ("orders_customer" in [name for _, name in s["scans"]])
    assert (s["rows"], s["rows_removed_by_filter"]) == (10, 0)
    if before:
        assert s["blocks"] * 10 < before["blocks"]  # a few blocks instead of the whole table


def test_a_composite_index_serves_its_leading_column(engine):
    both = [("orders_customer_day", "customer_id, day")]
    s = run(engine, "SELECT * FROM orders WHERE customer_id = 42 AND day = 42", both,
            "`(customer_id, day)`")
    assert s["scans"] == [("Index Scan", "orders_customer_day")] and s["rows"] == 1
    s = run(engine, "SELECT * FROM orders WHERE customer_id = 42", both, "`(customer_id, day)`")
    assert "orders_customer_day" in [name for _, name in s["scans"]]


def test_for_its_second_column_alone_the_planner_chose_a_seq_scan(engine):
    both = [("orders_customer_day", "customer_id, day")]
    s = run(engine, "SELECT * FROM orders WHERE day = 17", both, "`(customer_id, day)`")
    assert s["scans"] == [("Seq Scan", None)]
    assert s["rows_removed_by_filter"] > 0.99 * ROWS
    # Not a rule of B-trees: forbid the sequential scan and the same index answers the query,
    # by reading all of it, since every customer's entries hold some of the days.
    forced = run(engine, "SELECT * FROM orders WHERE day = 17", both,
                 "`(customer_id, day)`, with `enable_seqscan = off`", "enable_seqscan = off")
    assert "orders_customer_day" in [name for _, name in forced["scans"]]
    assert forced["rows"] == s["rows"]


@pytest.mark.parametrize("status, rows, plan", [
    ("shipped", 45_000, [("Seq Scan", None)]),
    ("refunded", 100, [("Index Scan", "orders_status")]),
])
def test_the_planner_uses_an_index_only_when_it_is_selective(engine, status, rows, plan):
    s = run(engine, f"SELECT * FROM orders WHERE status = '{status}'",
            [("orders_status", "status")], "`(status)`")
    assert s["rows"] == rows
    assert s["scans"] == plan


def test_forcing_the_index_for_a_common_value_touches_more_blocks(engine):
    index = [("orders_status", "status")]
    chosen = run(engine, "SELECT * FROM orders WHERE status = 'shipped'", index, "`(status)`")
    forced = run(engine, "SELECT * FROM orders WHERE status = 'shipped'", index,
                 "`(status)`, with `enable_seqscan = off`", "enable_seqscan = off")
    assert "orders_status" in [name for _, name in forced["scans"]]
    assert forced["rows"] == chosen["rows"] == 45_000
    assert forced["blocks"] > chosen["blocks"]  # every table block, and the index's too
    PLANS.remove(PLANS[-2])  # the chosen plan is already in the table


# Index kinds beyond the plain B-tree: (kind, what to build, a query it serves).
KINDS = [
    ("partial", "orders", "CREATE INDEX orders_refunded ON orders (customer_id) "
     "WHERE status = 'refunded'", "WHERE status = 'refunded' AND customer_id = 500"),
    ("expression", "orders", "CREATE INDEX orders_lower_status ON orders (lower(status))",
     "WHERE lower(status) = 'refunded'"),
    ("GIN", "order_tags", "CREATE INDEX order_tags_tags ON order_tags USING gin (tags)",
     "WHERE tags @> ARRAY['day 17']"),
    ("BRIN", "orders_log", "CREATE INDEX orders_log_id ON orders_log USING brin (id)",
     "WHERE id BETWEEN 1000 AND 1099"),
]


def test_partial_expression_gin_and_brin_indexes_each_serve_their_query(engine):
    rows = []
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS order_tags, orders_log"))
        conn.execute(text("CREATE TABLE order_tags AS SELECT id, ARRAY[status, 'day ' || day] "
                          "AS tags FROM orders"))  # an array column, as tags or labels are
        conn.execute(text("CREATE TABLE orders_log AS SELECT * FROM orders ORDER BY id"))
        for kind, table, ddl, where in KINDS:  # stored in id order, as an append-only log is
            conn.execute(text(ddl))
            conn.execute(text(f"ANALYZE {table}"))
            s = summary(explain(conn, f"SELECT * FROM {table} {where}"))
            index = ddl.split()[2]
            assert index in [name for _, name in s["scans"]], (kind, s["scans"])
            size = conn.execute(text("SELECT pg_relation_size(CAST(:i AS regclass))"),
                                {"i": index}).scalar_one()
            rows.append((kind, ddl.split(" ON ", 1)[1], where, s["rows"], size))
        pkey = conn.execute(text("SELECT pg_relation_size('orders_pkey')")).scalar_one()
        conn.execute(text("DROP INDEX orders_refunded, orders_lower_status"))
        conn.execute(text("DROP TABLE order_tags, orders_log"))
    sizes = {kind: size for kind, *_, size in rows}
    assert sizes["partial"] * 20 < pkey and sizes["BRIN"] * 20 < pkey  # 100 rows; a summary
    write_include("q36-kinds.md", "\n".join(
        ["| Kind | Index | The query it served | Rows | Index size |", "|---|---|---|---|---|"]
        + [f"| {kind} | `{on}` | `{where}` | {n:,} | {size // 1024:,} kB |"
           for kind, on, where, n, size in rows]
        + [f"| B-tree, for scale | `orders (id)`, the primary key | | | {pkey // 1024:,} kB |"]))


def test_indexes_cost_writes(engine):
    def best_of_three(indexes):
        runs = [query_plans.insert_cost(engine, 10_000, indexes) for _ in range(3)]
        return min(r["seconds"] for r in runs), runs[-1]["wal_bytes"]

    plain_s, plain_wal = best_of_three([])
    indexed_s, indexed_wal = best_of_three(["customer_id, day", "status", "day"])
    assert indexed_wal > 1.5 * plain_wal  # each index writes its own entries to the WAL
    # Times are reported, not asserted: on a shared machine they move with the load.
    write_include("q36-write-cost.md", "\n".join([
        "| Insert 10,000 rows into a table with | Time (best of 3) | Write-ahead log |",
        "|---|---|---|",
        f"| its primary key only | {plain_s * 1000:,.0f} ms | {plain_wal / 1e6:.1f} MB |",
        f"| the primary key and 3 more indexes | {indexed_s * 1000:,.0f} ms "
        f"({indexed_s / plain_s:.1f}×) | {indexed_wal / 1e6:.1f} MB "
        f"({indexed_wal / plain_wal:.1f}×) |"]))


def test_only_an_update_of_an_unindexed_column_skips_the_indexes(engine):
    """A HOT update adds no index entry; changing an indexed column adds one to every index."""
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))  # reads index pages
        conn.execute(text("DROP TABLE IF EXISTS tickets"))
        conn.execute(text("CREATE TABLE tickets (id integer PRIMARY KEY, status text NOT NULL, "
                          "amount numeric NOT NULL) WITH (fillfactor = 50)"))  # room to spare
        conn.execute(text("CREATE INDEX tickets_status ON tickets (status)"))
        conn.execute(text("INSERT INTO tickets SELECT i, 'open', 0 "
                          "FROM generate_series(1, 100) AS i"))

    def index_entries() -> dict[str, int]:  # each index fits in one leaf page (block 1)
        with engine.connect() as conn:
            return {name: conn.execute(text("SELECT count(*) FROM bt_page_items(:name, 1)"),
                                       {"name": name}).scalar_one()
                    for name in ("tickets_pkey", "tickets_status")}

    assert index_entries() == {"tickets_pkey": 100, "tickets_status": 100}
    with engine.begin() as conn:
        conn.execute(text("UPDATE tickets SET amount = 10 WHERE id = 1"))  # no indexed column
    assert index_entries() == {"tickets_pkey": 100, "tickets_status": 100}
    with engine.begin() as conn:
        conn.execute(text("UPDATE tickets SET status = 'closed' WHERE id = 2"))  # an indexed one
        conn.execute(text("SELECT pg_stat_force_next_flush()"))  # report at commit, not later
    assert index_entries() == {"tickets_pkey": 101, "tickets_status": 101}

    def counted():
        with engine.connect() as conn:
            return query_plans.update_counts(conn, "tickets")

    wait_until(lambda: counted()["updates"] == 2, 10, "the statistics to count both updates")
    assert counted() == {"updates": 2, "hot": 1}
    write_include("q36-hot.md", "\n".join([
        "| `UPDATE` of one row | Index entries after it (`tickets_pkey`, `tickets_status`) | "
        "`pg_stat_user_tables` |", "|---|---|---|",
        "| before any update | 100, 100 | |",
        "| `SET amount = 10` (no indexed column) | 100, 100 | counted as HOT |",
        "| `SET status = 'closed'` (an indexed column) | 101, 101: a new entry in **every** "
        "index, the primary key's too | not HOT: 2 updates, 1 of them HOT |"]))


def test_main_prints_both_plans(engine, capsys):
    query_plans.main()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "without an index: [('Seq Scan', None)]"
    assert out[1].startswith("with an index:    [") and "'orders_customer')" in out[1]
