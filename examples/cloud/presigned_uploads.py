"""Uploads that never pass through the API: it checks the request, signs a short-lived PUT
URL, and the browser sends the file straight to object storage.

    AWS_ENDPOINT_URL=http://127.0.0.1:4568 AWS_ACCESS_KEY_ID=S3RVER \\
        AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1 \\
        uvicorn presigned_uploads:app --port 8000

Settings: UPLOAD_BUCKET (default guide-uploads), UPLOAD_URL_SECONDS (how long a signed URL
works, default 300), and boto3's own AWS_* variables. Open http://127.0.0.1:8000/ to upload.
"""

import logging
import os
import uuid

import boto3
from botocore.config import Config
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel

BUCKET = os.environ.get("UPLOAD_BUCKET", "guide-uploads")
URL_SECONDS = int(os.environ.get("UPLOAD_URL_SECONDS", "300"))
MAX_BYTES = 5 * 1024 * 1024
ALLOWED_TYPES = {"image/png", "image/jpeg", "application/pdf"}
log = logging.getLogger("uvicorn.error")
# A session of its own: boto3's default session keeps the first credentials it resolved.
s3 = boto3.session.Session().client("s3", config=Config(signature_version="s3v4",
                                                        s3={"addressing_style": "path"}))
app = FastAPI(title="uploads")


class UploadRequest(BaseModel):
    filename: str
    content_type: str
    size: int


# --8<-- [start:sign]
@app.post("/uploads", responses={413: {"description": "The file is too large"},
                                 415: {"description": "This type of file is not accepted"}})
def sign_upload(upload: UploadRequest) -> JSONResponse:
    """Check what the client says it will send, then sign a PUT for exactly that."""
    if upload.content_type not in ALLOWED_TYPES:
        return JSONResponse({"detail": f"{upload.content_type} is not accepted"}, 415)
    if not 0 < upload.size <= MAX_BYTES:
        return JSONResponse({"detail": f"size must be 1 to {MAX_BYTES} bytes"}, 413)
    key = f"uploads/{uuid.uuid4()}/{os.path.basename(upload.filename)}"
    url = s3.generate_presigned_url(
        "put_object", ExpiresIn=URL_SECONDS,
        Params={"Bucket": BUCKET, "Key": key, "ContentType": upload.content_type,
                "ContentLength": upload.size})
    log.info("signed a PUT of %d bytes for %s", upload.size, key)
    return JSONResponse({"key": key, "url": url, "expires_in": URL_SECONDS})


def download_url(key: str, seconds: int = URL_SECONDS) -> str:
    return s3.generate_presigned_url("get_object", ExpiresIn=seconds,
                                     Params={"Bucket": BUCKET, "Key": key})
# --8<-- [end:sign]


# --8<-- [start:page]
PAGE = """<!doctype html>
<title>Upload</title>
<link rel="icon" href="data:,">
<input type="file" id="file"> <button id="send">Upload</button> <output id="result"></output>
<script>
document.getElementById("send").onclick = async () => {
  const file = document.getElementById("file").files[0];
  const signed = await fetch("/uploads", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({filename: file.name, content_type: file.type, size: file.size})});
  if (!signed.ok) {
    document.getElementById("result").textContent = "refused: " + signed.status;
    return;
  }
  const {key, url} = await signed.json();
  // Straight to storage: the bytes never pass through the API.
  const put = await fetch(url, {method: "PUT", headers: {"Content-Type": file.type}, body: file});
  const result = put.ok ? "stored " + key : "failed: " + put.status;
  document.getElementById("result").textContent = result;
};
</script>
"""


@app.get("/", response_class=HTMLResponse)
def upload_page() -> str:
    return PAGE
# --8<-- [end:page]
