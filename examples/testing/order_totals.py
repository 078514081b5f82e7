"""One small feature, end to end: an order's total. Its logic (the discount), its SQL (the
subtotal) and its page (order_total.js shows the total) are each tested at three levels in
Q41: unit, integration against PostgreSQL, and end to end in Chromium.

    python order_totals.py        # creates and fills the tables in DATABASE_URL, prints order 1
    uvicorn order_totals:app      # then open http://127.0.0.1:8000/orders/1
"""

import os
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import create_engine, text

SCRIPT = Path(__file__).with_name("order_total.js")
SCHEMA = """
CREATE TABLE IF NOT EXISTS shop_products (id int PRIMARY KEY, name text NOT NULL,
                                          price_cents int NOT NULL);
CREATE TABLE IF NOT EXISTS shop_orders (id int PRIMARY KEY, discount_percent int NOT NULL);
CREATE TABLE IF NOT EXISTS shop_order_lines (order_id int REFERENCES shop_orders,
                                             product_id int REFERENCES shop_products,
                                             quantity int NOT NULL);
"""


def database_url() -> str:
    return os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@localhost:5432/guide")


# --8<-- [start:logic]
def apply_discount(subtotal_cents: int, percent: int) -> int:
    """The total after a whole-percent discount, rounded down to the cent."""
    return subtotal_cents * (100 - percent) // 100
# --8<-- [end:logic]


# --8<-- [start:sql]
SUBTOTAL = text("""
    SELECT o.discount_percent, coalesce(sum(l.quantity * p.price_cents), 0) AS subtotal
    FROM shop_orders o
    LEFT JOIN shop_order_lines l ON l.order_id = o.id
    LEFT JOIN shop_products p ON p.id = l.product_id
    WHERE o.id = :order_id
    GROUP BY o.discount_percent
""")
# --8<-- [end:sql]


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.engine = create_engine(database_url(), pool_pre_ping=True)
    yield
    app.state.engine.dispose()


app = FastAPI(title="Order totals", lifespan=lifespan)


# --8<-- [start:endpoint]
@app.get("/orders/{order_id}/total", responses={404: {"description": "No such order"}})
def order_total(order_id: int, request: Request) -> dict:
    with request.app.state.engine.connect() as conn:
        row = conn.execute(SUBTOTAL, {"order_id": order_id}).first()
    if row is None:
        raise HTTPException(404, f"no order {order_id}")
    return {"order_id": order_id, "subtotal_cents": row.subtotal,
            "discount_percent": row.discount_percent,
            "total_cents": apply_discount(row.subtotal, row.discount_percent)}
# --8<-- [end:endpoint]


@app.get("/orders/{order_id}", response_class=HTMLResponse)
def order_page(order_id: int) -> str:
    return (f'<!doctype html><html><body data-order-id="{order_id}">'
            f'<h1>Order {order_id}</h1><p>Total: <output id="total">…</output></p>'
            '<script src="/order_total.js"></script></body></html>')


@app.get("/order_total.js")
def order_script() -> Response:
    return Response(SCRIPT.read_text(), media_type="text/javascript")


def create_and_fill(engine) -> None:
    """Two products and one order: 2 pens and 2 notebooks, 10% off."""
    with engine.begin() as conn:
        conn.exec_driver_sql(SCHEMA)
        conn.exec_driver_sql("TRUNCATE shop_order_lines, shop_orders, shop_products")
        conn.exec_driver_sql(
            "INSERT INTO shop_products VALUES (1, 'pen', 250), (2, 'notebook', 400)")
        conn.exec_driver_sql("INSERT INTO shop_orders VALUES (1, 10)")
        conn.exec_driver_sql("INSERT INTO shop_order_lines VALUES (1, 1, 2), (1, 2, 2)")


def main() -> None:
    engine = create_engine(database_url())
    create_and_fill(engine)
    with engine.connect() as conn:
        row = conn.execute(SUBTOTAL, {"order_id": 1}).one()
    engine.dispose()
    print(f"order 1: subtotal {row.subtotal} cents, {row.discount_percent}% off, "
          f"total {apply_discount(row.subtotal, row.discount_percent)} cents")


if __name__ == "__main__":
    main()
