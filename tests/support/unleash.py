"""A private Unleash flag server (npm's unleash-server 6.x, on Debian's Node) on a free port,
storing its flags in a database of the suite's private PostgreSQL.

    server = UnleashServer(database_url).start()   # ~5 s warm; its first start migrates
    server.url                                      # http://127.0.0.1:PORT/api (clients' URL)
    server.admin("POST", "/projects/default/features", {"name": "f"})   # the admin API
    server.stop()                                   # SIGTERM, SIGKILL if it overruns 20 s

tools/node-deps installs the server into tools/node/node_modules (npm ci). The tokens are
the fixed ones it is told to create at start: an admin token, and a client token for the
`development` environment of the `default` project.
"""

from __future__ import annotations

import shutil

import httpx

from .paths import ROOT
from .server import Server

SERVER = ROOT / "tools" / "node" / "node_modules" / "unleash-server" / "dist" / "server.js"
ADMIN_TOKEN = "*:*.guide-admin-token"
CLIENT_TOKEN = "default:development.guide-client-token"


class UnleashServer(Server):
    program = "unleash"
    ready_within = 120.0  # its first start migrates a fresh database
    stop_within = 20.0

    def __init__(self, database_url: str, port: int | None = None):
        super().__init__(port)
        # node-postgres reads a libpq URL: postgres://user@host:port/db
        self.database_url = database_url.replace("postgresql+psycopg://", "postgres://")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def argv(self) -> list[str]:
        node = shutil.which("node")
        if node is None or not SERVER.exists():
            raise RuntimeError("unleash-server is not installed: run tools/node-deps")
        return [node, str(SERVER)]

    def environment(self) -> dict:
        env = {k: v for k, v in super().environment().items()
               if not k.startswith(("NODE_", "npm_"))}
        env.update(DATABASE_URL=self.database_url, DATABASE_SSL="false", PORT=str(self.port),
                   INIT_ADMIN_API_TOKENS=ADMIN_TOKEN, INIT_CLIENT_API_TOKENS=CLIENT_TOKEN,
                   LOG_LEVEL="warn", CHECK_VERSION="false", SEND_TELEMETRY="false", TZ="UTC")
        return env

    def ready(self) -> bool:
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
