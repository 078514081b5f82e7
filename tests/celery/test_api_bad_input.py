"""Bad input: every endpoint of examples/celery/api.py answers with a 4xx and a JSON message.

Nothing of it reaches the broker (LPUSH is counted on the Redis server itself),
sends a mail, creates a user, or touches a file outside MEDIA_DIR.
"""

import json
import struct
import uuid
import zlib

import pytest
from PIL import Image

from support.broker_watch import NothingPublished
from support.task_api import poll_status

# One valid body per endpoint that takes one, and a field of each with a wrong type.
VALID = {
    "/send-email": ({"to": "ok@example.com", "subject": "s", "body": "b"}, "subject", 5),
    "/process-image": ({"name": "photo.png", "width": 100}, "width", "wide"),
    "/q27/background/signup": ({"email": "ok@example.com"}, "email", ["a"]),
    "/q27/celery/signup": ({"email": "ok@example.com"}, "email", 42),
    "/q27/choosing/order": ({"id": 1, "email": "ok@example.com"}, "id", "one"),
}
EMAIL_FIELD = {"/send-email": "to", "/q27/background/signup": "email",
               "/q27/celery/signup": "email", "/q27/choosing/order": "email"}


@pytest.fixture
def untouched(client, stack):
    """Around each test: no message published, no mail sent, no user created."""
    import users

    known = dict(users.USERS)
    with NothingPublished(stack.redis.client(0)):
        yield client
    assert stack.smtp.to("ok@example.com") == []  # the only deliverable address in these bodies
    assert known == users.USERS


def detail(response, status: int):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()["detail"]


@pytest.mark.parametrize("url", VALID)
def test_missing_fields(untouched, url):
    body, _, _ = VALID[url]
    errors = detail(untouched.post(url, json={}), 422)
    required = {field for field in body if field not in ("width",)}  # width has a default
    assert {(e["type"], e["loc"][-1]) for e in errors} == {("missing", f) for f in required}


@pytest.mark.parametrize("url", VALID)
def test_wrong_types(untouched, url):
    body, field, wrong = VALID[url]
    [error] = detail(untouched.post(url, json={**body, field: wrong}), 422)
    assert error["loc"] == ["body", field]
    assert error["msg"].startswith("Input should be a valid")


@pytest.mark.parametrize("url", VALID)
def test_unknown_fields(untouched, url):
    body, _, _ = VALID[url]
    [error] = detail(untouched.post(url, json={**body, "is_admin": True}), 422)
    assert (error["type"], error["loc"], error["msg"]) == (
        "extra_forbidden", ["body", "is_admin"], "Extra inputs are not permitted")


@pytest.mark.parametrize("url", VALID)
@pytest.mark.parametrize("raw", [b'{"to": "a@example.com", ', b"not json", b"{'single': 1}"])
def test_malformed_json(untouched, url, raw):
    [error] = detail(untouched.post(url, content=raw,
                                    headers={"content-type": "application/json"}), 422)
    assert (error["type"], error["msg"]) == ("json_invalid", "JSON decode error")


@pytest.mark.parametrize("url", VALID)
def test_not_an_object(untouched, url):
    [error] = detail(untouched.post(url, json=["a", "list"]), 422)
    assert error["loc"] == ["body"]


@pytest.mark.parametrize("url", VALID)
def test_a_body_not_declared_as_json(untouched, url):
    body, _, _ = VALID[url]
    raw = json.dumps(body).encode()  # valid JSON, sent as text/plain
    [error] = detail(untouched.post(url, content=raw, headers={"content-type": "text/plain"}),
                     422)
    assert (error["loc"], error["type"]) == (["body"], "model_attributes_type")


@pytest.mark.parametrize("url", EMAIL_FIELD)
@pytest.mark.parametrize("bad", ["plainaddress", "a@b", "two@@example.com", "x" * 300 + "@e.com"])
def test_invalid_email(untouched, url, bad):
    body, _, _ = VALID[url]
    field = EMAIL_FIELD[url]
    [error] = detail(untouched.post(url, json={**body, field: bad}), 422)
    assert error["loc"] == ["body", field]
    assert "not a valid email address" in error["msg"]


@pytest.mark.parametrize("url", VALID)
def test_oversized_body_with_content_length(untouched, url):
    import api

    body, _, _ = VALID[url]
    padded = {**body, "pad": "x" * api.MAX_BODY_BYTES}
    message = detail(untouched.post(url, json=padded), 413)
    assert message == f"request body larger than {api.MAX_BODY_BYTES} bytes"


@pytest.mark.parametrize("url", VALID)
def test_oversized_chunked_body(untouched, url):
    import api

    chunks = (b" " * 8192 for _ in range(api.MAX_BODY_BYTES // 8192 + 1))  # no Content-Length
    response = untouched.post(url, content=chunks, headers={"content-type": "application/json"})
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert detail(response, 413) == f"request body larger than {api.MAX_BODY_BYTES} bytes"


def test_a_body_at_the_limit_is_still_read(untouched):
    import api

    # Whitespace is valid JSON padding: exactly MAX_BODY_BYTES, then a field error, not a 413.
    raw = b'{"to": "bad", "subject": "s", "body": "b"}'
    raw += b" " * (api.MAX_BODY_BYTES - len(raw))
    [error] = detail(untouched.post("/send-email", content=raw,
                                    headers={"content-type": "application/json"}), 422)
    assert error["loc"] == ["body", "to"]


def test_a_task_id_must_be_a_uuid(untouched):
    [error] = detail(untouched.get("/task/not-a-uuid"), 422)
    assert (error["type"], error["loc"]) == ("uuid_parsing", ["path", "task_id"])


# --- /process-image: names and files ------------------------------------------------------


def png_header(width: int, height: int) -> bytes:
    """A few bytes that declare a width x height PNG: what a decompression bomb looks like."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b""))
            + chunk(b"IEND", b""))


@pytest.fixture(scope="module")
def files(stack, tmp_path_factory):
    """Bad files inside a folder of MEDIA_DIR, and a real image outside it that links lead to."""
    outside = tmp_path_factory.mktemp("outside")
    Image.new("RGB", (64, 64), "red").save(outside / "secret.png")
    folder = stack.media / f"bad-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    (folder / "notes.png").write_text("this is text, whatever the name says")
    good = Image.new("RGB", (64, 64), "blue")
    good.save(folder / "good.png")
    corrupt = bytearray((folder / "good.png").read_bytes())
    corrupt[50] ^= 0xFF  # inside the image data: it opens, but verify() finds a bad CRC
    (folder / "corrupt.png").write_bytes(bytes(corrupt))
    (folder / "bomb.png").write_bytes(png_header(20_000, 20_000))  # 400 M pixels
    (folder / "huge.png").write_bytes(png_header(8_000, 6_000))  # 48 M pixels
    (folder / "escape.png").symlink_to(outside / "secret.png")
    (folder / "escape-dir").symlink_to(outside, target_is_directory=True)
    (folder / "inside.png").symlink_to(folder / "good.png")
    (folder / "subfolder").mkdir()
    return folder.name, outside


def outside_snapshot(outside):
    return sorted((p.name, p.stat().st_mtime_ns, p.read_bytes()) for p in outside.iterdir())


@pytest.mark.parametrize("name", ["/etc/passwd", "{dir}/../../../../etc/passwd", "..",
                                  "{dir}/nul\x00.png", ".env", "{dir}//good.png", ""])
def test_a_name_the_schema_does_not_allow_is_a_422(untouched, files, name):
    """The schema states what a name may be (a pattern): what it refuses never reaches
    safe_path, and whatever it allows is answered 2xx or 404 (tests/celery/test_api_openapi.py)."""
    folder, outside = files
    before = outside_snapshot(outside)
    [error] = detail(untouched.post("/process-image", json={"name": name.format(dir=folder)}),
                     422)
    assert error["loc"] == ["body", "name"]
    assert error["type"] in {"string_pattern_mismatch", "string_too_short"}
    assert outside_snapshot(outside) == before


@pytest.mark.parametrize(("name", "status", "says"), [
    ("{dir}/escape.png", 400, "points outside the media folder"),
    ("{dir}/escape-dir/secret.png", 400, "points outside the media folder"),
    ("{dir}/missing.png", 404, "no file"),
    ("{dir}/subfolder", 404, "no file"),
    ("{dir}/notes.png", 415, "is not an image Pillow can open"),
    ("{dir}/corrupt.png", 415, "is not an image Pillow can open"),
    ("{dir}/bomb.png", 413, "could be decompression bomb DOS attack"),
    ("{dir}/huge.png", 413, "has 48000000 pixels, over the 40000000 limit"),
])
def test_process_image_refuses(untouched, files, name, status, says):
    folder, outside = files
    before = outside_snapshot(outside)
    message = detail(untouched.post("/process-image", json={"name": name.format(dir=folder)}),
                     status)
    assert says in message
    assert outside_snapshot(outside) == before


@pytest.mark.parametrize("width", [0, 15, 4097, -1, 1.5])
def test_process_image_width_bounds(untouched, files, width):
    [error] = detail(untouched.post("/process-image",
                                    json={"name": f"{files[0]}/good.png", "width": width}), 422)
    assert error["loc"] == ["body", "width"]


def test_a_link_that_stays_inside_is_fine(client, files):
    folder, _ = files
    response = client.post("/process-image", json={"name": f"{folder}/inside.png", "width": 32})
    status = poll_status(client, response.json()["status_url"], "SUCCESS")
    assert status["result"] == {"output": f"resized/{folder}/good.png", "size": [32, 32]}


def test_a_task_that_raises_shows_as_failure_with_its_error(client):
    """A producer that skips the API's checks: the worker's exception reaches the reader."""
    from celery_app import process_image

    task = process_image.delay("gone.png")
    status = poll_status(client, f"/task/{task.id}", "FAILURE")
    # The file name is not part of OSError's args, so it does not survive serialization.
    assert status["error"] == "FileNotFoundError: [Errno 2] No such file or directory"
    assert status["result"] is None
