"""A private PostgreSQL cluster: initdb and pg_ctl in a temporary folder, on a free port.

The machine may run a PostgreSQL of its own on 5432; the tests never touch it. A
`PostgresServer` owns everything it starts:

    server = PostgresServer().start()       # initdb + pg_ctl -w start, ~1 s
    url = server.create_database("q35")      # a fresh, empty database, no psql needed
    ...                                       # postgresql+psycopg://postgres@127.0.0.1:PORT/q35
    server.stop()                             # pg_ctl stop -m fast, then the folder is removed

The cluster trades durability for speed (fsync, synchronous_commit and full_page_writes
off): it lives for one test session and is thrown away. It listens on 127.0.0.1 and on a
unix socket inside its own folder, never in /run/postgresql.

initdb refuses to run as root, so as root the binaries run as the `postgres` user (Debian's
postgresql package creates it) and the folder is created outside pytest's 0700 temp tree.
Debian keeps the binaries in /usr/lib/postgresql/<major>/bin, off the PATH: both are looked up.

Why not pytest-postgresql: its `postgresql_proc` runs `pg_ctl initdb` as the current user with
no way to switch, and initdb refuses root, which is who runs the tests here and in CI; its data
folder goes under pytest's temp tree, which another user cannot enter; its cluster lives inside
a pytest fixture, where this class also serves a stack started outside one; and it adds
mirakuru and port-for for what is, here, two subprocess calls and a free port.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .waiting import free_port, wait_until

SUPERUSER = "postgres"
PREFIX = "guide-pg-"  # each cluster's folder, in the system's temporary folder
OWNER = "owner.pid"  # in it: the test process that started the cluster
# Durability off, and nothing the tests don't need: a throwaway cluster.
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
    "shared_buffers": "32MB",
    # The deadlock demonstration waits this long before PostgreSQL checks for a cycle.
    "deadlock_timeout": "100ms",
    "log_min_messages": "warning",
}


def binary(name: str) -> str:
    """initdb, pg_ctl…: from the PATH, else the newest /usr/lib/postgresql/<major>/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(Path(p).parts[4]))
    if not candidates:
        raise FileNotFoundError(
            f"{name} not found: install PostgreSQL's server (Debian: apt-get install postgresql)")
    return candidates[-1]


def _run_as() -> str | None:
    """The user the server runs as: `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError as exc:
        raise RuntimeError("running as root, and there is no `postgres` user to run as") from exc
    return SUPERUSER


class PostgresServer:
    """One private cluster. `start()`, `url(dbname)`, `create_database(name)`, `stop()`."""

    def __init__(self, port: int | None = None, **settings: str):
        self.port = port or free_port()
        self.settings = {**SETTINGS, **settings}
        self.user = _run_as()
        self.root: Path | None = None
        self.started_in: float | None = None  # seconds from initdb to accepting connections

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root

    @property
    def log(self) -> str:
        path = self.root / "server.log" if self.root else None
        return path.read_text(errors="replace") if path and path.exists() else ""

    def _run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                             user=self.user, cwd=self.root, env=_server_env())
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} exited {out.returncode}:\n"
                               f"{out.stdout}{out.stderr}\n{self.log[-2000:]}")
        return out

    def start(self) -> PostgresServer:
        t0 = time.monotonic()
        sweep_orphans()
        self.root = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self.root / OWNER).write_text(str(os.getpid()))
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        try:
            self._run(binary("initdb"), "-D", str(self.data), "-U", SUPERUSER, "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")
            options = " ".join([f"-p {self.port}", f"-k {self.socket_dir}"]
                               + [f"-c {k}={v}" for k, v in self.settings.items()])
            self._run(binary("pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
                      "-o", options, "-w", "-t", "60", "start")
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - t0
        return self

    # -- addresses ----------------------------------------------------------------------------
    def url(self, dbname: str = "postgres", driver: str = "postgresql+psycopg") -> str:
        """A SQLAlchemy URL (driver `postgresql` gives the libpq form psycopg takes)."""
        return f"{driver}://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres", **kwargs):
        import psycopg

        return psycopg.connect(self.url(dbname, driver="postgresql"), **kwargs)

    def create_database(self, name: str) -> str:
        """A fresh empty database (dropped first if it exists); returns its SQLAlchemy URL."""
        from psycopg import sql

        with self.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        from psycopg import sql

        with self.connect(autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))

    def cpu_seconds(self) -> float | None:
        """CPU the server has used so far: the postmaster and its exited backends (Linux)."""
        pid = self._postmaster_pid()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError, TypeError):
            return None
        ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        return ticks / os.sysconf("SC_CLK_TCK")

    # -- stopping -----------------------------------------------------------------------------
    def _postmaster_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def stop(self) -> None:
        """Fast shutdown (open sessions are ended); SIGKILL if that overruns. Idempotent."""
        if self.root is None:
            return
        pid = self._postmaster_pid()
        if pid:
            with contextlib.suppress(Exception):
                subprocess.run([binary("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w",
                                "-t", "30", "stop"], capture_output=True, timeout=40,
                               user=self.user, cwd=self.root, env=_server_env())
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                with contextlib.suppress(TimeoutError):
                    wait_until(lambda: not _alive(pid), 10, f"postmaster {pid} to exit")
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None


def sweep_orphans() -> None:
    """Stop and remove the clusters whose test process is gone (a run killed with SIGKILL
    never reaches `stop()`, and a postmaster outlives it)."""
    for root in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        try:
            owner = int((root / OWNER).read_text())
        except (OSError, ValueError):
            continue  # not ours to judge: being created, or from before owners were noted
        if _alive(owner):
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int((root / "data" / "postmaster.pid").read_text().split()[0])
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
                wait_until(lambda pid=pid: not _alive(pid), 10, f"postmaster {pid} to exit")
        shutil.rmtree(root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is not ours to reap (pg_ctl started it detached), but it is gone.
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    return False


def _server_env() -> dict[str, str]:
    """The environment for initdb/pg_ctl: no PG* variables that would aim them elsewhere,
    no coverage hook (they are not Python), a C locale."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PG", "COV_CORE", "COVERAGE_"))}
    env.update(LC_ALL="C", LANG="C")
    return env


def halt(server: PostgresServer) -> None:
    """Stop the server and keep its data: what a database outage looks like to a client."""
    server._run(binary("pg_ctl"), "-D", str(server.data), "-m", "fast", "-w", "-t", "30", "stop")


def resume(server: PostgresServer) -> None:
    """Start a halted server again, on the same port, with the same data."""
    options = " ".join([f"-p {server.port}", f"-k {server.socket_dir}"]
                       + [f"-c {k}={v}" for k, v in server.settings.items()])
    server._run(binary("pg_ctl"), "-D", str(server.data), "-l", str(server.root / "server.log"),
                "-o", options, "-w", "-t", "60", "start")
