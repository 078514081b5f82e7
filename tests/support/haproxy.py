"""A private HAProxy (Debian's `haproxy`) in front of a list of backend servers, on loopback.

    from support.haproxy import HAProxy

    with HAProxy([port_a, port_b], check="/readyz", redispatch=True, retries=2) as lb:
        lb.url                              # http://127.0.0.1:PORT, the frontend
        lb.servers                          # ["s1", "s2"]: one name per backend, in order
        lb.states()                         # {"s1": "UP", "s2": "DOWN"}: HAProxy's own words
        lb.wait_for("s2", "DOWN")           # bounded wait until a server reaches a state
        lb.set_state("s1", "drain")         # ready | drain | maint, through the runtime API
        lb.set_weight("s1", 0)              # 0..256, through the runtime API
        lb.command("show stat")             # any runtime API command; its answer as text
        lb.log                              # HAProxy's own output (one line per request)

One frontend, one backend named `be`, round-robin, HTTP mode, every request on its own
server connection (so round-robin is per request, and an access log line names the server
that answered it). Backends are ports on 127.0.0.1, or "host:port" strings.

- `check="/path"`: `option httpchk GET /path`, every server checked each `inter` seconds;
  `fall` failed checks take it out of rotation, `rise` good ones put it back. Without
  `check`, HAProxy sends to a dead server until a request to it fails.
- `redispatch=True`, `retries=N`: a request whose connection fails is retried up to N times,
  the last try on another server (`option redispatch`).

Everything lives in a temporary folder (the config, the admin socket), HAProxy runs in the
foreground as a child of the test, and `stop()` (or leaving the `with`) kills it, reaps it
and removes the folder. Nothing reloads: weights and states change through the runtime API
(`stats socket ... level admin`), as an operator's script would.
"""

from __future__ import annotations

import csv
import io
import shutil
import socket
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .server import Server
from .waiting import port_open, wait_until

BACKEND = "be"
STATES = {"ready", "drain", "maint"}


class HAProxy(Server):
    program = "haproxy"
    ready_within = 10.0

    def __init__(self, backends: Sequence[int | str], *, check: str | None = None,
                 inter: float = 0.2, fall: int = 2, rise: int = 1, redispatch: bool = False,
                 retries: int = 0, timeout: float = 10.0, port: int | None = None):
        self.backends = [f"127.0.0.1:{b}" if isinstance(b, int) else b for b in backends]
        self.servers = [f"s{i}" for i in range(1, len(self.backends) + 1)]
        self.check, self.inter, self.fall, self.rise = check, inter, fall, rise
        self.redispatch, self.retries, self.timeout = redispatch, retries, timeout
        super().__init__(port)

    @property
    def socket_path(self) -> Path:
        return self.root / "admin.sock"

    def config(self) -> str:
        ms = int(self.inter * 1000)
        check = f" check inter {ms} fastinter {ms} downinter {ms} fall {self.fall} rise {self.rise}"
        servers = "\n".join(
            f"    server {name} {address}{check if self.check else ''}"
            for name, address in zip(self.servers, self.backends, strict=True))
        timeout_ms = int(self.timeout * 1000)
        return f"""\
global
    stats socket {self.socket_path} mode 600 level admin
    log stdout format raw local0 info
    maxconn 1000

defaults
    mode http
    log global
    option httplog
    option http-server-close
    timeout connect 1s
    timeout client {timeout_ms}
    timeout server {timeout_ms}
    retries {self.retries}
{"    option redispatch" if self.redispatch else "    no option redispatch"}

frontend fe
    bind 127.0.0.1:{self.port}
    default_backend {BACKEND}

backend {BACKEND}
    balance roundrobin
{f"    option httpchk GET {self.check}" if self.check else ""}
{servers}
"""

    # -- starting -----------------------------------------------------------------------------
    def argv(self) -> list[str]:
        exe = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin")
        if exe is None:
            raise RuntimeError("haproxy is not installed: run tools/system-deps "
                               "(Debian: apt-get install haproxy)")
        cfg = self.root / "haproxy.cfg"
        cfg.write_text(self.config())
        check = subprocess.run([exe, "-c", "-q", "-f", str(cfg)], capture_output=True,
                               text=True, timeout=30)
        if check.returncode:
            raise RuntimeError(f"haproxy rejected its config:\n{check.stdout}{check.stderr}")
        # -db: stay in the foreground, a child this process reaps.
        return [exe, "-db", "-f", str(cfg)]

    def ready(self) -> bool:
        return port_open(self.port) and self.socket_path.exists()

    # -- the runtime API --------------------------------------------------------------------
    def command(self, line: str) -> str:
        """One runtime API command over the admin socket; HAProxy's answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(str(self.socket_path))
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def _admin(self, line: str) -> None:
        answer = self.command(line).strip()
        if answer:  # a successful `set server` answers nothing
            raise RuntimeError(f"haproxy refused {line!r}: {answer}")

    def set_weight(self, server: str, weight: int) -> None:
        self._admin(f"set server {BACKEND}/{server} weight {weight}")

    def set_state(self, server: str, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {sorted(STATES)}")
        self._admin(f"set server {BACKEND}/{server} state {state}")

    def stats(self) -> dict[str, dict[str, str]]:
        """`show stat` for each backend server: its CSV row as a dict (status, weight,
        check_status, stot = requests sent to it, ...)."""
        text = self.command("show stat").lstrip("# ")
        rows = csv.DictReader(io.StringIO(text))
        return {row["svname"]: row for row in rows
                if row["pxname"] == BACKEND and row["svname"] in self.servers}

    def states(self) -> dict[str, str]:
        """Each server's status in HAProxy's words: UP, DOWN, DRAIN, MAINT, or a transition
        such as "UP 1/2" (up, one failed check of the `fall` allowed)."""
        return {name: row["status"] for name, row in self.stats().items()}

    def wait_for(self, server: str, status: str, timeout: float = 10.0) -> None:
        wait_until(lambda: self.states()[server] == status, timeout,
                   f"haproxy to report {server} {status} (now {self.states()})")

