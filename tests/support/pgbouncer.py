"""A private PgBouncer in front of a private PostgreSQL, on a free port, in a temporary folder.

    bouncer = PgBouncer(postgres, pool_mode="transaction", pool_size=1).start()
    url = bouncer.url("q38")     # postgresql+psycopg://postgres@127.0.0.1:PORT/q38
    ...
    bouncer.stop()               # SIGTERM (SIGKILL if it overruns), reaped, its folder removed

PgBouncer refuses to run as root, so as root it runs as the `postgres` user, as the cluster
does (support.postgres). It trusts every client (`auth_type = trust`, the users listed in its
auth file), like the cluster it fronts: both live for one test run on loopback.
"""

from __future__ import annotations

import os
import pwd
import shutil

from .postgres import SUPERUSER, PostgresServer, _run_as
from .server import Server


def binary() -> str:
    """pgbouncer from the PATH, else Debian's /usr/sbin (off a non-root user's PATH)."""
    found = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer",) if os.access(p, os.X_OK)), None)
    if not found:
        raise FileNotFoundError("pgbouncer not found: run tools/system-deps "
                                "(Debian: apt-get install pgbouncer)")
    return found


class PgBouncer(Server):
    program = "pgbouncer"
    ready_within = 15.0

    def __init__(self, server: PostgresServer, pool_mode: str = "transaction",
                 pool_size: int = 2):
        super().__init__()
        self.server, self.pool_mode, self.pool_size = server, pool_mode, pool_size

    def url(self, dbname: str, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def user(self) -> str | None:
        return _run_as()

    def argv(self) -> list[str]:
        ini = self.root / "pgbouncer.ini"
        (self.root / "users.txt").write_text(f'"{SUPERUSER}" ""\n')
        # No logfile: it logs to stderr, which is the server's log.
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
            "", ]))
        if self.user():
            entry = pwd.getpwnam(self.user())
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        return [binary(), str(ini)]
