"""s3rver (npm), an S3-compatible server on a free loopback port, its data in a temp folder.

    server = S3rver(buckets={"guide-uploads": cors_xml}).start()
    server.url          # http://127.0.0.1:PORT: boto3's endpoint_url (AWS_ENDPOINT_URL)
    server.log          # what it printed: `Stored object "<key>" in bucket "<name>" ...`
    server.stop()

Credentials: access key S3RVER, secret S3RVER. s3rver enforces presigned-URL expiry
(403 "Request has expired") and bucket CORS rules; it does NOT verify SigV4 signatures
(its source: "Signature version 4 calculation is unimplemented"), so nothing a signature
covers (the Content-Type, the Content-Length, the key) is checked on upload.
tools/node-deps installs it into tools/node/node_modules/ the first time it is needed.
"""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

from .paths import TOOLS
from .server import Server

BIN = TOOLS / "node" / "node_modules" / ".bin" / "s3rver"
ACCESS_KEY = SECRET_KEY = "S3RVER"


def install() -> Path:
    """tools/node-deps, once, even with several test processes asking at the same time."""
    with open(TOOLS / "node" / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not BIN.exists():
            subprocess.run([str(TOOLS / "node-deps")], check=True, timeout=600)
    return BIN


class S3rver(Server):
    program = "s3rver"

    def __init__(self, buckets: dict[str, str | None]):
        super().__init__()
        self.buckets = buckets  # name -> a CORS configuration (XML), or None

    def argv(self) -> list[str]:
        argv = [str(install()), "-d", str(self.root / "data"), "-a", "127.0.0.1",
                "-p", str(self.port), "--no-vhost-buckets"]
        for name, cors in self.buckets.items():
            configs = []
            if cors:
                configs = [self.root / f"{name}-cors.xml"]
                configs[0].write_text(cors)
            argv += ["--configure-bucket", name, *map(str, configs)]
        return argv
