"""examples/celery/task_design.py: publishing inside a transaction, after it, and through an
outbox, on a real PostgreSQL (support.postgres: a private cluster) and a real worker.

Both run on the module's own stack (`own_stack`): its Redis, and its PostgreSQL
(`own_stack.postgres()`), started on first use and stopped with the stack.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from support.paths import DOCS, EXAMPLES
from support.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def orders_pg(own_stack):
    """The module stack's PostgreSQL, with an empty `orders` database."""
    server = own_stack.postgres()
    server.create_database("orders")
    return server


@pytest.fixture(scope="module")
def design_env(orders_pg):
    # The worker gets the URL in SQLAlchemy's form, as the sandbox gives it.
    return {"DATABASE_URL": orders_pg.url("orders")}


@pytest.fixture(scope="module")
def design(own_stack, orders_pg, monkeypatch_module):
    """The example module, its app (the client side) bound to this module's Redis, and its
    DSN on the module's PostgreSQL."""
    import task_design

    own_stack.bind(task_design.app)
    monkeypatch_module.setattr(task_design, "DSN", orders_pg.url("orders", driver="postgresql"))
    with task_design.connect() as conn:
        conn.execute(task_design.SCHEMA)
    return task_design


@pytest.fixture(scope="module")
def design_worker(own_stack, design_env):
    proc = own_stack.worker("task_design", "--pool=solo", env=design_env)
    yield proc
    own_stack.stop(proc)


def test_a_task_queued_inside_the_transaction_runs_before_the_commit(design, design_worker):
    with design.connect() as conn:
        order_id, result = design.place_order_too_early(conn, "ada@example.com")
        # The worker has run the task while this transaction is still open.
        assert result.get(timeout=15) == f"order {order_id} not found"
    # Committed now, and the row is there: too late for the task.
    assert design.confirm_order(order_id) == "confirmation to ada@example.com"


def test_publishing_after_the_commit_finds_the_row(design, design_worker):
    order_id, result = design.place_order("grace@example.com")
    assert result.get(timeout=15) == "confirmation to grace@example.com"


def test_the_outbox_commits_the_message_with_the_order(design, design_worker):
    order_id = design.place_order_with_outbox("linus@example.com")
    [task_id] = design.relay_outbox.delay().get(timeout=15)
    assert design.confirm_order.AsyncResult(task_id).get(timeout=15) == (
        "confirmation to linus@example.com")
    assert design.relay_outbox.delay().get(timeout=15) == []  # sent once, marked sent
    with design.connect() as conn:
        rows = conn.execute("SELECT args, sent_at IS NOT NULL FROM outbox").fetchall()
    assert rows == [([order_id], True)]


def test_a_rolled_back_order_leaves_no_message(design, design_worker):
    """place_order_with_outbox whose second write fails (a trigger refuses the message for
    this one address): the order it wrote first is rolled back with it, and nothing is sent."""
    with design.connect() as conn:
        conn.execute("CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                     "$$ BEGIN IF (SELECT email FROM orders WHERE id = (NEW.args->>0)::int) "
                     "= 'rolled-back@example.com' THEN RAISE 'the request failed after "
                     "writing'; END IF; RETURN NEW; END $$")
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON outbox "
                     "FOR EACH ROW EXECUTE FUNCTION refuse()")
    try:
        with pytest.raises(psycopg.errors.RaiseException, match="failed after writing"):
            design.place_order_with_outbox("rolled-back@example.com")
    finally:
        with design.connect() as conn:
            conn.execute("DROP TRIGGER refuse ON outbox")
    with design.connect() as conn:
        orders = conn.execute("SELECT count(*) FROM orders "
                              "WHERE email = 'rolled-back@example.com'").fetchone()[0]
    assert orders == 0  # the order went with the message
    assert design.relay_outbox.delay().get(timeout=15) == []


def test_an_object_in_the_message_is_a_stale_copy_an_id_reads_the_row(design, design_worker):
    order_id, result = design.place_order("old@example.com")
    result.get(timeout=15)
    snapshot = {"id": order_id, "email": "old@example.com"}
    by_value = design.confirm_order_snapshot.apply_async((snapshot,), countdown=1)
    by_id = design.confirm_order.apply_async((order_id,), countdown=1)
    with design.connect() as conn:  # the customer fixes the address before the tasks run
        conn.execute("UPDATE orders SET email = 'new@example.com' WHERE id = %s", (order_id,))
    assert by_value.get(timeout=15) == "confirmation to old@example.com"
    assert by_id.get(timeout=15) == "confirmation to new@example.com"


def test_waiting_for_a_task_inside_a_task_is_refused(design, design_worker):
    order_id, result = design.place_order("wait@example.com")
    result.get(timeout=15)
    with pytest.raises(RuntimeError, match=r"Never call result\.get\(\) within a task!"):
        design.confirm_and_wait.delay(order_id).get(timeout=15)


def test_the_pages_commands_run_as_written(own_stack, design_env, design, design_worker):
    """The Try it's three `python -c` lines, as written, with the worker this module runs."""
    page = (DOCS / "celery" / "q32-task-design.md").read_text()
    shown = [line for line in page.splitlines() if line.startswith("python -c ")]
    assert len(shown) == 3
    env = own_stack.env(**design_env,
                        PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    outputs = [subprocess.run(["bash", "-c", line], cwd=EXAMPLES, env=env,
                              capture_output=True, text=True, timeout=60) for line in shown]
    assert [o.returncode for o in outputs] == [0, 0, 0], [o.stderr[-500:] for o in outputs]
    assert outputs[1].stdout == "confirmation to ada@example.com\n"
    assert re.fullmatch(r"order \d+ not found\n", outputs[2].stdout)


def test_a_task_published_after_the_commit_finds_the_row_however_slow_the_commit(
        design, design_worker, monkeypatch):
    """place_order with its COMMIT held until every task published so far has run: a task
    published before the commit would run first and find no row."""
    from celery.signals import after_task_publish

    published: list[str] = []

    def note(headers=None, **_):
        published.append(headers["id"])

    class HeldCommit(psycopg.Connection):
        def commit(self):
            wait_until(lambda: all(design.app.AsyncResult(i).ready() for i in published), 15,
                       "every task published before the commit to have run")
            super().commit()

    monkeypatch.setattr(design, "connect", lambda: HeldCommit.connect(design.DSN))
    after_task_publish.connect(note, weak=False)
    try:
        order_id, result = design.place_order("held@example.com")
    finally:
        after_task_publish.disconnect(note)
    assert published == [result.id]
    assert result.get(timeout=15) == "confirmation to held@example.com"
