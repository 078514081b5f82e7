"""A private Unleash flag server (npm's unleash-server 6.x, on Debian's Node) on a free port,
storing its flags in a database of the suite's private PostgreSQL.

    server = UnleashServer(database_url).start()   # ~5 s warm; its first start migrates
    server.url                                      # http://127.0.0.1:PORT/api (clients' URL)
    server.admin("POST", "/projects/default/features", {"name": "f"})   # the admin API
    server.stop()                                   # SIGTERM, then SIGKILL if it overruns

tools/node-deps installs the server into tools/node/node_modules (npm ci). The tokens are
the fixed ones it is told to create at start: an admin token, and a client token for the
`development` environment of the `default` project.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import httpx

from .paths import ROOT
from .waiting import free_port, wait_until

SERVER = ROOT / "tools" / "node" / "node_modules" / "unleash-server" / "dist" / "server.js"
ADMIN_TOKEN = "*:*.guide-admin-token"
CLIENT_TOKEN = "default:development.guide-client-token"


class UnleashServer:
    def __init__(self, database_url: str, port: int | None = None):
        # node-postgres reads a libpq URL: postgres://user@host:port/db
        self.database_url = database_url.replace("postgresql+psycopg://", "postgres://")
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.root: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def log(self) -> str:
        path = self.root / "unleash.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def start(self, timeout: float = 120) -> UnleashServer:
        node = shutil.which("node")
        if node is None or not SERVER.exists():
            raise RuntimeError("unleash-server is not installed: run tools/node-deps")
        self.root = Path(tempfile.mkdtemp(prefix="guide-unleash-"))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NODE_", "npm_"))}
        env.update(DATABASE_URL=self.database_url, DATABASE_SSL="false", PORT=str(self.port),
                   INIT_ADMIN_API_TOKENS=ADMIN_TOKEN, INIT_CLIENT_API_TOKENS=CLIENT_TOKEN,
                   LOG_LEVEL="warn", CHECK_VERSION="false", SEND_TELEMETRY="false", TZ="UTC")
        with open(self.root / "unleash.log", "wb") as out:
            self.proc = subprocess.Popen([node, str(SERVER)], env=env, cwd=self.root,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        try:
            wait_until(self._ready, timeout, f"unleash-server on port {self.port}")
        except BaseException:
            self.stop()
            raise
        return self

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"unleash-server exited {self.proc.returncode}:\n{self.log}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def admin(self, method: str, path: str, body: dict | None = None) -> httpx.Response:
        """One admin API call (`path` under /api/admin); raises on an error status."""
        response = httpx.request(method, f"{self.url}/admin{path}", json=body, timeout=10,
                                 headers={"Authorization": ADMIN_TOKEN})
        response.raise_for_status()
        return response

    def stop(self) -> None:
        """Idempotent: SIGTERM to its process group, SIGKILL if it outlives 20 s."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
