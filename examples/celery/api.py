"""Q26: the FastAPI side. Run it with `uvicorn api:app` from examples/.

Shown on docs/celery/q26-what-is-celery.md (the endpoints) and
docs/celery/failing-well.md (bad input, the body limit, image checks).

Every endpoint is a plain `def` (publishing to Redis is blocking I/O), and bad
input stops here with a 4xx and a JSON message, before anything reaches the
broker (tests/celery/test_api_bad_input.py).
"""

from pathlib import Path
from typing import Any
from uuid import UUID

import choosing
import media
import signup_background
import signup_celery
from broker_errors import answers, publish, read_meta
from celery_app import app as celery
from celery_app import process_image, send_email
from fastapi import FastAPI, HTTPException
from mailer import Address
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

app = FastAPI(title="Interview guide, part 3: Celery examples")


# --8<-- [start:body_limit]
MAX_BODY_BYTES = 64 * 1024  # the largest valid body here (/send-email) is about 40 KB


class BodyLimit:
    """Answer 413 once a request body passes MAX_BODY_BYTES, declared or chunked.

    The bytes are counted as they arrive, so a false Content-Length or a chunked
    upload cannot get past it. (FastAPI's own `max_body_size` counts too, but
    answers a declared excess in plain text, not JSON.)
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                # FastAPI turns it into {"detail": ...} like any HTTPException.
                raise HTTPException(413, f"request body larger than {MAX_BODY_BYTES} bytes")
            return message

        await self.app(scope, counted, send)


app.add_middleware(BodyLimit)
# --8<-- [end:body_limit]
# BodyLimit answers 413 on every route of this app, the routers' included.
app.include_router(signup_background.router, prefix="/q27/background", responses=answers(413))
app.include_router(signup_celery.router, prefix="/q27/celery", responses=answers(413))
app.include_router(choosing.router, prefix="/q27/choosing", responses=answers(413))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is a 422, not ignored


# --8<-- [start:send_email]
class EmailIn(Strict):
    to: Address
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(max_length=10_000)


class Queued(BaseModel):
    task_id: str
    status_url: str


@app.post("/send-email", status_code=202, responses=answers(400, 413, 503))
def send_email_endpoint(mail: EmailIn) -> Queued:
    # A plain `def` runs in FastAPI's threadpool: publishing to Redis is
    # blocking I/O and must not stall the event loop.
    task = publish(send_email.delay, mail.to, mail.subject, mail.body)
    return Queued(task_id=task.id, status_url=f"/task/{task.id}")
# --8<-- [end:send_email]


# --8<-- [start:task_status]
class TaskStatus(BaseModel):
    task_id: str
    status: str
    result: Any = None
    error: str | None = None
    note: str | None = None


@app.get("/task/{task_id}", responses=answers(503))
def get_task_status(task_id: UUID) -> TaskStatus:
    # One read of celery-task-meta-<id>: state and result come from the same
    # snapshot (calling failed() then ready() is two reads, and races).
    meta = read_meta(celery.backend, str(task_id))
    state, result = meta["status"], meta.get("result")
    status = TaskStatus(task_id=str(task_id), status=state)
    if state == "SUCCESS":
        status.result = result
    elif isinstance(result, BaseException):  # FAILURE, or RETRY with the last error
        status.error = f"{type(result).__name__}: {result}"
    elif state == "PENDING":
        status.note = "PENDING means unknown to the backend: not started yet, or no such task."
    return status
# --8<-- [end:task_status]


# --8<-- [start:process_image]
# A name inside the media folder, as the schema states it: portable characters in segments
# separated by "/", none starting with a dot (so no "..", no hidden files, nothing absolute).
# safe_path still checks where a name lands: a symlink can lead out.
NAME_PATTERN = r"^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$"


class ImageIn(Strict):
    name: str = Field(min_length=1, max_length=255, pattern=NAME_PATTERN,
                      examples=["sample.jpg"])
    width: int = Field(800, ge=16, le=4096)


# Pillow only warns from 89 M pixels and refuses from 179 M: a 100 M-pixel PNG
# of a few hundred bytes would still reach the worker and take ~300 MB to decode.
MAX_PIXELS = 40_000_000


def check_image(path: Path, name: str) -> None:
    """Refuse what is not an image, or too big to decode, before it is queued."""
    try:
        with Image.open(path) as img:  # reads the header only
            pixels = img.width * img.height
            img.verify()  # walks the file's structure without decoding it
    except Image.DecompressionBombError as exc:  # Pillow's own guard
        raise HTTPException(413, f"{name!r}: {exc}") from exc
    except (UnidentifiedImageError, SyntaxError, OSError) as exc:
        raise HTTPException(415, f"{name!r} is not an image Pillow can open") from exc
    if pixels > MAX_PIXELS:
        raise HTTPException(413, f"{name!r} has {pixels} pixels, over the {MAX_PIXELS} limit")


@app.post("/process-image", status_code=202,
          responses=answers(400, 404, 413, 415, 503))
def process_image_endpoint(image: ImageIn) -> Queued:
    try:
        path = media.safe_path(image.name)
    except media.UnsafePath as exc:
        raise HTTPException(400, str(exc)) from exc
    if not path.is_file():
        raise HTTPException(404, f"no file {image.name!r} in the media folder")
    check_image(path, image.name)
    task = publish(process_image.delay, image.name, image.width)
    return Queued(task_id=task.id, status_url=f"/task/{task.id}")
# --8<-- [end:process_image]


@app.get("/health")
def health() -> dict:
    return {"status": "ok"}
