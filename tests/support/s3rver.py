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
import shutil
import subprocess
import tempfile
from pathlib import Path

from .paths import TOOLS
from .waiting import free_port, port_open, wait_until

BIN = TOOLS / "node" / "node_modules" / ".bin" / "s3rver"
ACCESS_KEY = SECRET_KEY = "S3RVER"


def install() -> Path:
    """tools/node-deps, once, even with several test processes asking at the same time."""
    with open(TOOLS / "node" / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not BIN.exists():
            subprocess.run([str(TOOLS / "node-deps")], check=True, timeout=600)
    return BIN


class S3rver:
    def __init__(self, buckets: dict[str, str | None]):
        self.buckets = buckets  # name -> a CORS configuration (XML), or None
        self.port = free_port()
        self.root: Path | None = None
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        path = self.root / "s3rver.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def start(self) -> S3rver:
        exe = install()
        self.root = Path(tempfile.mkdtemp(prefix="guide-s3rver-"))
        argv = [str(exe), "-d", str(self.root / "data"), "-a", "127.0.0.1", "-p", str(self.port),
                "--no-vhost-buckets"]
        for name, cors in self.buckets.items():
            configs = []
            if cors:
                configs = [self.root / f"{name}-cors.xml"]
                configs[0].write_text(cors)
            argv += ["--configure-bucket", name, *map(str, configs)]
        with open(self.root / "s3rver.log", "wb") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: self.proc.poll() is not None or port_open(self.port), 30,
                       f"s3rver on port {self.port}")
            if self.proc.poll() is not None:
                raise RuntimeError(f"s3rver exited {self.proc.returncode}:\n{self.log}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
