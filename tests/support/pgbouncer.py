"""A private PgBouncer in front of a private PostgreSQL, on a free port, in a temporary folder.

    bouncer = PgBouncer(postgres, pool_mode="transaction", pool_size=1).start()
    url = bouncer.url("q38")     # postgresql+psycopg://postgres@127.0.0.1:PORT/q38
    ...
    bouncer.stop()               # SIGTERM (SIGKILL if it overruns), then the folder is removed

PgBouncer refuses to run as root, so as root it runs as the `postgres` user, as the cluster
does (support.postgres). It trusts every client (`auth_type = trust`, the users listed in its
auth file), like the cluster it fronts: both live for one test run on loopback.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

from .postgres import SUPERUSER, PostgresServer, _run_as
from .waiting import free_port, wait_until


def binary() -> str:
    """pgbouncer from the PATH, else Debian's /usr/sbin (off a non-root user's PATH)."""
    found = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer",) if os.access(p, os.X_OK)), None)
    if not found:
        raise FileNotFoundError("pgbouncer not found: run tools/system-deps "
                                "(Debian: apt-get install pgbouncer)")
    return found


class PgBouncer:
    def __init__(self, server: PostgresServer, pool_mode: str = "transaction",
                 pool_size: int = 2):
        self.server, self.pool_mode, self.pool_size = server, pool_mode, pool_size
        self.port = free_port()
        self.user = _run_as()
        self.root: Path | None = None
        self.proc: subprocess.Popen | None = None

    def url(self, dbname: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    @property
    def log(self) -> str:
        path = self.root / "pgbouncer.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def start(self) -> PgBouncer:
        self.root = Path(tempfile.mkdtemp(prefix="guide-pgbouncer-"))
        ini = self.root / "pgbouncer.ini"
        (self.root / "users.txt").write_text(f'"{SUPERUSER}" ""\n')
        ini.write_text("\n".join([
            "[databases]",
            f"* = host=127.0.0.1 port={self.server.port}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {self.root / 'users.txt'}",
            f"pool_mode = {self.pool_mode}",
            f"default_pool_size = {self.pool_size}",
            f"logfile = {self.root / 'pgbouncer.log'}",
            "", ]))
        if self.user:
            entry = pwd.getpwnam(self.user)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.proc = subprocess.Popen([binary(), str(ini)], user=self.user, cwd=self.root,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(self._accepting, 15, f"pgbouncer on port {self.port}")
        except BaseException:
            self.stop()
            raise
        return self

    def _accepting(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"pgbouncer exited {self.proc.returncode}:\n{self.log[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port),
                                                                    timeout=1):
            return True
        return False

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited in 10 s; reaped; folder removed."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
