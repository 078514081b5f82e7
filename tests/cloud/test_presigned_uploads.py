"""Q49: the API signs, Chromium uploads straight to a real S3-compatible server (s3rver), and
the API never sees the bytes; an expired URL is refused; what the API refuses to sign; and
what s3rver does not check."""

import importlib
import re

import pytest

from support.includes import write_observed
from support.load import request
from support.paths import ROOT
from support.s3rver import ACCESS_KEY, SECRET_KEY, S3rver
from support.site import launch
from support.waiting import free_port, wait_until

BUCKET = "guide-uploads"
CORS = (ROOT / "examples" / "cloud" / "upload_cors.xml").read_text()
OBSERVED: dict[str, str] = {}
REFUSED: list[int] = []
ROWS = ["browser", "expired", "refused", "unchecked"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    write_observed("q49-observed.md", ROWS, OBSERVED)


@pytest.fixture(scope="module")
def api_port():
    return free_port()


@pytest.fixture(scope="module")
def s3(api_port):
    # The reader's page is on port 8000; here the API's port is a free one.
    server = S3rver({BUCKET: CORS.replace("127.0.0.1:8000", f"127.0.0.1:{api_port}")}).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def aws(s3):
    env = {"AWS_ENDPOINT_URL": s3.url, "AWS_ACCESS_KEY_ID": ACCESS_KEY,
           "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_DEFAULT_REGION": "us-east-1"}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        yield env


@pytest.fixture(scope="module")
def uploads(aws):
    """The example in this process, its boto3 client aimed at s3rver."""
    import presigned_uploads

    return importlib.reload(presigned_uploads)


def test_chromium_uploads_straight_to_storage_and_the_api_never_sees_the_bytes(
        instances, aws, s3, api_port, uploads, tmp_path):
    api = instances("presigned_uploads:app", port=api_port, **aws)
    picture = tmp_path / "cat.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 1024)  # 256 KiB + 8
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(api.url)
            page.set_input_files("#file", str(picture))
            page.click("#send")
            page.wait_for_function(
                "document.getElementById('result').textContent !== ''", timeout=30_000)
            result = page.text_content("#result")
        finally:
            browser.close()
    assert result.startswith("stored uploads/"), result
    key = result.removeprefix("stored ")
    stored = uploads.s3.get_object(Bucket=BUCKET, Key=key)
    assert stored["Body"].read() == picture.read_bytes()
    assert stored["ContentType"] == "image/png"
    # The API's access log: the page and one signing request, nothing else; no PUT.
    wait_until(lambda: "POST /uploads" in api.log, 10, "the API's access log")
    requests = re.findall(r'"(\w+) (\S+) HTTP/1.1" (\d+)', api.log)
    assert requests == [("GET", "/", "200"), ("POST", "/uploads", "200")], requests
    assert f"signed a PUT of {picture.stat().st_size} bytes" in api.log
    assert f'Stored object "{key}" in bucket "{BUCKET}" successfully' in s3.log
    OBSERVED["browser"] = (
        f"| Chromium uploads a {picture.stat().st_size}-byte PNG through the page | "
        f"the API answered {len(requests)} requests (`GET /`, `POST /uploads`), no PUT; "
        "s3rver stored the same bytes with `Content-Type: image/png` |")


# A signature's time is in whole seconds, so a URL signed for 1 s may be expired 0.1 s
# later; a busy machine needs a few seconds between signing and the first GET.
EXPIRES_S = 3


def test_a_download_url_is_refused_after_it_expires(uploads):
    uploads.s3.put_object(Bucket=BUCKET, Key="uploads/report.pdf", Body=b"%PDF-1.7",
                          ContentType="application/pdf")
    url = uploads.download_url("uploads/report.pdf", seconds=EXPIRES_S)
    before = request(url)
    after = wait_until(lambda: (r := request(url))[0] != 200 and r, EXPIRES_S + 15,
                       "the URL to expire")
    assert before == (200, b"%PDF-1.7")
    assert after[0] == 403 and b"Request has expired" in after[1], after
    OBSERVED["expired"] = (f"| `GET` with a download URL signed for {EXPIRES_S} s, before and "
                           f"after | {before[0]}, then {after[0]} `AccessDenied: Request has "
                           "expired` |")


@pytest.mark.parametrize("ask, status", [
    ({"filename": "a.exe", "content_type": "application/x-msdownload", "size": 10}, 415),
    ({"filename": "big.png", "content_type": "image/png", "size": 50 * 1024 * 1024}, 413),
])
def test_the_api_refuses_to_sign_a_wrong_type_or_size(ask, status, uploads):
    from fastapi.testclient import TestClient

    with TestClient(uploads.app) as client:
        answer = client.post("/uploads", json=ask)
    assert answer.status_code == status and "url" not in answer.json()
    REFUSED.append(status)
    if len(REFUSED) == 2:
        OBSERVED["refused"] = ("| Ask to sign `application/x-msdownload`, then a 50 MiB PNG | "
                               f"{REFUSED[0]}, then {REFUSED[1]}; no URL in either answer |")

def test_s3rver_does_not_check_what_the_signature_covers(uploads):
    """Real S3 answers 403 SignatureDoesNotMatch when a signed header differs; s3rver does not
    verify SigV4 signatures at all, so only a test against real S3 could show that."""
    from fastapi.testclient import TestClient

    with TestClient(uploads.app) as client:
        signed = client.post("/uploads", json={"filename": "cat.png",
                                               "content_type": "image/png", "size": 5}).json()
    status, _ = request(signed["url"], "PUT", {"Content-Type": "text/html"},
                        body=b"<script>alert(1)</script>")
    stored = uploads.s3.head_object(Bucket=BUCKET, Key=signed["key"])
    assert status == 200 and stored["ContentType"] == "text/html"
    assert stored["ContentLength"] == 25  # 5 were signed
    OBSERVED["unchecked"] = ("| PUT with the URL signed for 5 bytes of `image/png`, sending 25 "
                             "bytes of `text/html` | s3rver: 200, stored as `text/html` "
                             "|")
