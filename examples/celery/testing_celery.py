"""Q33: a small task module, and what each way of testing it can and can't see.

    celery -A testing_celery worker --loglevel=info

The worker reads `testing`, this app's default queue. Invoices are routed to `reports`,
which that command doesn't read: a real worker for them is started with `-Q reports`.
"""

from dataclasses import dataclass

from celery import Celery

# --8<-- [start:app]
app = Celery("testing_celery")
app.config_from_object("celeryconfig")
app.conf.task_default_queue = "testing"
app.conf.task_routes = {"testing_celery.render_invoice": {"queue": "reports"}}


@dataclass
class Order:
    id: int
    lines: list[tuple[str, int, int]]  # (item, quantity, unit price in cents)


def order_total(lines: list) -> int:
    return sum(quantity * cents for _, quantity, cents in lines)


@app.task
def invoice_total(lines: list) -> int:
    return order_total(lines)


@app.task
def total_of_order(order: Order) -> int:
    # Takes an object: the JSON serializer can't send it.
    return order_total(order.lines)


@app.task
def find_order(order_id: int) -> Order:
    # Returns an object: the worker has to store the result as JSON.
    return Order(id=order_id, lines=[])


@app.task
def render_invoice(order_id: int) -> str:
    return f"invoice-{order_id}.pdf"


@app.task(bind=True, max_retries=3, default_retry_delay=1)
def sync_with_partner(self, failures: int) -> int:
    # Fails `failures` times (the partner is down), then succeeds; returns the retries used.
    if self.request.retries < failures:
        raise self.retry()
    return self.request.retries
# --8<-- [end:app]


# --8<-- [start:enqueue]
def close_order(order_id: int) -> dict:
    """The web side: it only enqueues. Its test mocks `.delay` and checks the call."""
    result = render_invoice.delay(order_id)
    return {"order": order_id, "invoice_task": result.id}
# --8<-- [end:enqueue]
