"""examples/celery/mistake_task_names.py: the source's task names, and what a real worker and Beat
do.

The demo gets its own Redis and media folder (the `own_stack` fixture) and a worker started
as the source starts it: `celery -A mistake_task_names worker --loglevel=info`, no -Q.
"""

import json
import os
import time
import uuid
from types import SimpleNamespace

import pytest
from celery.exceptions import NotRegistered
from PIL import Image

from support.waiting import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(own_stack):
    """The module's stack, its worker, and a client bound to its Redis."""
    # No -Q, as the source starts it: the worker reads `celery` only. (The solo pool
    # only makes it start and stop faster; it consumes the same queues.)
    return SimpleNamespace(stack=own_stack,
                           worker=own_stack.worker("mistake_task_names", "--pool=solo"),
                           client=own_stack.client())


@pytest.fixture(scope="module")
def mistake(stack):
    import mistake_task_names

    return mistake_task_names


def old_file(folder, name: str, days: float = 40):
    path = folder / name
    path.write_text("old")
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


def test_tasks_register_under_the_module_name_not_the_celery_name(mistake):
    tasks = (mistake.send_email, mistake.process_image, mistake.cleanup_old_files)
    assert {task.name for task in tasks} == {
        "mistake_task_names.send_email",
        "mistake_task_names.process_image",
        "mistake_task_names.cleanup_old_files",
    }
    assert mistake.app.main == "tasks"  # the name given to Celery() changed nothing
    assert not [name for name in mistake.app.tasks if name.startswith("tasks.")]
    scheduled = mistake.app.conf.beat_schedule["cleanup-every-night"]["task"]
    assert scheduled == "tasks.cleanup_old_files"
    assert scheduled not in mistake.app.tasks
    assert not set(mistake.app.conf.task_routes) & set(mistake.app.tasks)


def test_routes_fall_back_to_the_default_queue(mistake):
    router = mistake.app.amqp.router
    for task in (mistake.send_email, mistake.process_image):
        assert router.route({}, task.name)["queue"].name == "celery"
    # The route keys themselves do work, for messages nobody sends:
    assert router.route({}, "tasks.send_email")["queue"].name == "emails"


def test_beat_sends_a_name_the_worker_does_not_know(demo):
    stale = old_file(demo.stack.media, "stale-beat.log")
    beat = demo.stack.beat("mistake_task_names", env={"CLEANUP_EVERY_SECONDS": "0.5"})
    try:
        beat.wait_for_log(r"Sending due task cleanup-every-night \(tasks\.cleanup_old_files\)")
        demo.worker.wait_for_log(
            r"Received unregistered task of type 'tasks\.cleanup_old_files'")
    finally:
        demo.stack.stop(beat)
    worker_log = demo.worker.log
    assert "The message has been ignored and discarded." in worker_log
    # The worker also records the failure in the result backend.
    backend = demo.stack.redis.client(1)
    metas = wait_until(lambda: [json.loads(backend.get(k))
                                for k in backend.keys("celery-task-meta-*")], 10,
                       "a result for the discarded message")
    assert {m["status"] for m in metas} == {"FAILURE"}
    result = demo.client.AsyncResult(metas[0]["task_id"])
    assert result.state == "FAILURE"
    assert isinstance(result.result, NotRegistered)
    assert "tasks.cleanup_old_files" in str(result.result)
    assert stale.exists()  # nothing was cleaned up
    # The registered name does run, on the same worker:
    fixed = demo.client.send_task("mistake_task_names.cleanup_old_files")
    assert fixed.get(timeout=10) == 1
    assert not stale.exists()


def test_routed_messages_wait_for_a_worker_that_never_reads_their_queue(mistake, demo):
    redis = demo.stack.redis.client(0)
    # What the fixed routes do: send_email to `emails`, process_image to `images`.
    demo.client.send_task("mistake_task_names.send_email", ("x@example.com", "s", "b"),
                         queue="emails")
    demo.client.send_task("mistake_task_names.process_image", ("photo.png",), queue="images")
    # The same tasks sent by the mistaken app go to `celery` (no route matches), and run:
    to = f"names-{uuid.uuid4().hex[:8]}@example.com"
    Image.new("RGB", (400, 300), "navy").save(demo.stack.media / "photo.png")
    with mistake.app.connection_for_write(demo.stack.redis.url(0)) as conn:
        mail = mistake.send_email.apply_async((to, "Hi", "body"), connection=conn)
        image = mistake.process_image.apply_async(("photo.png",), connection=conn)
    assert demo.client.AsyncResult(mail.id).get(timeout=10) == demo.stack.smtp.wait_for(to)[0][
        "Message-ID"]
    assert demo.client.AsyncResult(image.id).get(timeout=10) == {
        "output": "resized/photo.png", "size": [400, 300]}
    # So the worker is up and consuming `celery`, yet the routed messages still wait.
    assert redis.llen("emails") == 1
    assert redis.llen("images") == 1
    assert demo.worker.proc.poll() is None
