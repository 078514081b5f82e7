"""examples/celery/celery_app.py: the app, its tasks and the schedule, run by a real worker and
Beat."""

import os
import re
import smtplib
import socket
import time
import uuid

import pytest
from celery.exceptions import MaxRetriesExceededError
from PIL import Image

from support.broker_watch import NothingPublished, StateLog
from support.paths import EXAMPLES
from support.waiting import wait_until


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def age(path, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(path, (then, then), follow_symlinks=False)


# --- send_email ---------------------------------------------------------------------------


def test_send_email_delivers_a_real_mail(worker, stack):
    from celery_app import send_email

    to = f"{unique('mail')}@example.com"
    result = send_email.delay(to, "Your report", "It is ready.").get(timeout=10)
    [mail] = stack.smtp.wait_for(to)
    assert mail["To"] == to
    assert mail["Subject"] == "Your report"
    assert mail.get_content().strip() == "It is ready."
    assert result == {"status": "sent", "to": to, "message_id": mail["Message-ID"]}


def test_delay_with_one_argument_fails_on_the_client_before_sending(worker, stack):
    """The source's `send_email.delay("user@example.com")`: the signature is checked first."""
    from celery_app import send_email

    broker = stack.redis.client(0)
    with NothingPublished(broker), pytest.raises(TypeError, match="subject"):
        send_email.delay("user@example.com")
    assert broker.llen("emails") == 0
    assert stack.smtp.to("user@example.com") == []


def test_smtp_refusals_are_retried_until_the_server_accepts(worker, stack):
    from celery_app import send_email

    to, task_id = f"{unique('retry')}@example.com", str(uuid.uuid4())
    with stack.smtp.refusing(2) as refused, StateLog(stack.redis.client(1), task_id) as log:
        send_email.apply_async((to, "Retry", "third time lucky"), task_id=task_id)
        states = log.until_final()
    assert states == ["STARTED", "RETRY", "STARTED", "RETRY", "STARTED", "SUCCESS"]
    assert log.metas[1]["result"]["exc_type"] == "SMTPDataError"  # why it retried
    assert refused() == 2
    assert len(stack.smtp.wait_for(to)) == 1


def test_a_server_refusing_forever_means_four_runs_then_the_smtp_error(worker, stack):
    """max_retries=3 is 4 runs, and the final error is the original one."""
    from celery_app import send_email

    to, task_id = f"{unique('never')}@example.com", str(uuid.uuid4())
    with stack.smtp.refusing() as refused, StateLog(stack.redis.client(1), task_id) as log:
        send_email.apply_async((to, "Never", "refused"), task_id=task_id)
        states = log.until_final()
    assert states == ["STARTED", "RETRY"] * 3 + ["STARTED", "FAILURE"]
    assert refused() == 4
    result = send_email.AsyncResult(task_id)
    assert result.state == "FAILURE"
    assert isinstance(result.result, smtplib.SMTPDataError)
    assert not isinstance(result.result, MaxRetriesExceededError)
    assert result.result.smtp_code == 451
    assert stack.smtp.to(to) == []


# --- process_image ------------------------------------------------------------------------


def test_process_image_writes_a_smaller_copy_inside_media_dir(worker, stack):
    from celery_app import process_image

    name = f"{unique('photo')}.jpg"
    source = stack.media / name
    Image.effect_noise((1600, 1200), 40).convert("RGB").save(source, quality=95)
    result = process_image.delay(name, 400).get(timeout=10)
    assert result == {"output": f"resized/{name}", "size": [400, 300]}
    output = stack.media / "resized" / name
    with Image.open(output) as img:
        assert img.format == "JPEG"
        assert img.size == (400, 300)
    assert output.stat().st_size < source.stat().st_size / 4
    with Image.open(source) as img:
        assert img.size == (1600, 1200)  # the original is left alone


# --- cleanup_old_files --------------------------------------------------------------------


def test_cleanup_deletes_only_files_older_than_n_days(worker, stack, tmp_path):
    from celery_app import cleanup_old_files

    folder = stack.media / unique("cleanup")
    (folder / "nested").mkdir(parents=True)
    old = [folder / "old.log", folder / "nested" / "old.csv"]
    recent = [folder / "29-days.log", folder / "today.log"]
    for path in old + recent:
        path.write_text("x")
    for path in old:
        age(path, 31)
    age(recent[0], 29)
    # An old link to an old file outside MEDIA_DIR: neither is touched.
    outside = tmp_path / "outside.txt"
    outside.write_text("not yours")
    age(outside, 400)
    link = folder / "link.txt"
    link.symlink_to(outside)
    age(link, 400)

    assert cleanup_old_files.delay(30).get(timeout=10) == 2
    assert [p.exists() for p in old] == [False, False]
    assert [p.exists() for p in recent] == [True, True]
    assert link.is_symlink() and outside.read_text() == "not yours"


# --- names, routes and the schedule -------------------------------------------------------


def test_schedule_and_routes_use_registered_names(worker):
    from celery_app import app as celery

    schedule = celery.conf.beat_schedule["cleanup-every-night"]
    assert schedule["task"] == "celery_app.cleanup_old_files"
    assert schedule["task"] in celery.tasks
    assert str(schedule["schedule"]) == "<crontab: 0 2 * * * (m/h/dM/MY/d)>"  # 02:00 UTC
    routes = celery.conf.task_routes
    assert set(routes) <= set(celery.tasks)
    queues = {route["queue"] for route in routes.values()} | {celery.conf.task_default_queue}
    assert queues == {"celery", "emails", "images"}
    # ...which is what the documented command, and the running worker, consume.
    command = re.search(r"celery -A celery_app worker -Q (\S+)",
                        (EXAMPLES / "celery_app.py").read_text())
    assert set(command[1].split(",")) == queues
    name = f"w1@{socket.gethostname()}"
    replies = celery.control.inspect(destination=[name], timeout=5, limit=1).active_queues()
    assert {q["name"] for q in replies[name]} == queues


@pytest.mark.slow
def test_beat_sends_the_cleanup_and_the_worker_runs_it(worker, stack):
    stale = stack.media / unique("beat") / "stale.log"
    stale.parent.mkdir()
    stale.write_text("x")
    age(stale, 31)
    start = len(worker.log)
    # CLEANUP_EVERY_SECONDS: the reader's way to watch Beat work (docker-compose.yml).
    beat = stack.beat("celery_app", env={"CLEANUP_EVERY_SECONDS": "0.5"})
    try:
        wait_until(lambda: not stale.exists(), 15, "Beat's cleanup to delete the stale file")
    finally:
        stack.stop(beat)
    sent = len(re.findall(r"Sending due task cleanup-every-night \(celery_app\.cleanup_old_files\)",
                          beat.log))
    assert sent >= 1
    # Let the worker finish what Beat sent before stopping, so no cleanup runs later.
    ran = r"Task celery_app\.cleanup_old_files\[[\w-]+\] succeeded"
    wait_until(lambda: len(re.findall(ran, worker.log[start:])) >= sent, 10,
               f"the worker to run the {sent} cleanup(s) Beat sent")


# --- queues: a flood of images and the mail --------------------------------------------------

IMAGE_SECONDS = 1.0  # each image task lingers this long (support.launch's pause_after_run)
FLOOD = 3  # images sent before the mail


def flood_then_mail(client, n: int = FLOOD) -> tuple[int, float, str]:
    """`n` image jobs, then one mail: how many images finished before the mail did, how
    long the mail took from send to result, and its id."""
    images = [client.send_task("celery_app.process_image", ("flood.png", 64), queue="images")
              for _ in range(n)]
    sent = time.monotonic()
    mail = client.send_task("celery_app.send_email",
                            (f"{unique('flood')}@example.com", "Flood", "mail"), queue="emails")
    mail.get(timeout=60)
    took = time.monotonic() - sent
    done = sum(r.ready() for r in images)
    for r in images:
        r.get(timeout=60)
    return done, took, mail.id


@pytest.mark.slow
def test_images_hold_up_the_mail_unless_emails_has_a_worker_of_its_own(make_stack):
    own = make_stack()
    Image.new("RGB", (128, 128)).save(own.media / "flood.png")
    client = own.client()
    # The page's command: one worker (one slot here) reading every queue.
    own.worker("celery_app", "-Q", "celery,emails,images", "--concurrency=1",
                        name="shared",
                        settings={"pause_after_run": {"celery_app.process_image": IMAGE_SECONDS}})
    try:
        client.send_task("celery_app.send_email", ("warm@example.com", "w", "w"),
                         queue="emails").get(timeout=30)
        shared_done, shared_took, _ = flood_then_mail(client)
        # The fix: a worker of its own for `emails`.
        mail = own.worker("celery_app", "-Q", "emails", "--concurrency=1", name="mail")
        own_done, own_took, own_mail = flood_then_mail(client)
    finally:
        own.stop(*own.procs)
    print(f"one worker: {shared_done} image(s) before the mail, {shared_took:.2f} s; "
          f"with a mail worker: {own_done}, {own_took:.2f} s")
    # The mail waited for the image holding the only slot, not for the whole flood...
    assert 1 <= shared_done < FLOOD and shared_took >= IMAGE_SECONDS
    # ...and, with a worker of its own, ran while images were still queued: not even the
    # second image had finished (the first may have, on a busy machine, before the mail
    # worker's first fetch).
    assert own_done <= 1
    assert f"celery_app.send_email[{own_mail}] succeeded" in mail.log
