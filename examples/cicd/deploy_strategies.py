"""Q53: blue-green, canary and rolling deploys, driven through HAProxy's runtime API.

Nothing reloads: each step is one command on HAProxy's admin socket (`stats socket … level
admin` in haproxy.cfg), the way a deploy script changes where traffic goes. A server's state is
`ready` (in rotation), `drain` (no new requests; those in flight finish) or `maint` (out).
"""

from __future__ import annotations

import csv
import io
import socket
import time
from collections.abc import Callable, Sequence


# --8<-- [start:api]
class RuntimeAPI:
    """HAProxy's runtime API on its admin socket, for the servers of one backend."""

    def __init__(self, socket_path: str, backend: str = "be"):
        self.socket_path, self.backend = socket_path, backend

    def command(self, line: str) -> str:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            s.connect(self.socket_path)
            s.sendall(line.encode() + b"\n")
            return b"".join(iter(lambda: s.recv(65536), b"")).decode()

    def set(self, server: str, what: str) -> None:
        """`state ready|drain|maint` or `weight N`; HAProxy answers nothing when it agrees."""
        answer = self.command(f"set server {self.backend}/{server} {what}").strip()
        if answer:
            raise RuntimeError(f"HAProxy refused {what!r} for {server}: {answer}")

    def stats(self) -> dict[str, dict[str, str]]:
        """`show stat`: per server, its status, weight, sessions now (scur), requests sent
        (stot) and 5xx answers (hrsp_5xx)."""
        rows = csv.DictReader(io.StringIO(self.command("show stat").lstrip("# ")))
        return {r["svname"]: r for r in rows
                if r["pxname"] == self.backend and r["svname"] not in ("FRONTEND", "BACKEND")}
# --8<-- [end:api]


# --8<-- [start:blue_green]
def blue_green_switch(api: RuntimeAPI, live: str, idle: str) -> None:
    """Send new requests to `idle` at once; those already on `live` finish there."""
    api.set(idle, "state ready")
    api.set(live, "state drain")
# --8<-- [end:blue_green]


# --8<-- [start:canary]
def start_canary(api: RuntimeAPI, stable: str, canary: str, percent: int) -> None:
    """Weighted round-robin: the canary gets `percent` of new requests."""
    api.set(stable, f"weight {100 - percent}")
    api.set(canary, f"weight {percent}")
    api.set(canary, "state ready")


def guard_canary(api: RuntimeAPI, canary: str, max_errors: int, watch_for: float,
                 every: float = 0.1) -> bool:
    """Watch the canary's 5xx answers; at `max_errors`, take it out of rotation (the
    rollback) and return True. False if it stayed under the budget for `watch_for` s."""
    start = int(api.stats()[canary]["hrsp_5xx"])
    deadline = time.monotonic() + watch_for
    while time.monotonic() < deadline:
        if int(api.stats()[canary]["hrsp_5xx"]) - start >= max_errors:
            api.set(canary, "state maint")
            return True
        time.sleep(every)
    return False
# --8<-- [end:canary]


# --8<-- [start:rolling]
def drain(api: RuntimeAPI, server: str, timeout: float = 30) -> None:
    """No new requests to `server`, then wait until it has none in flight."""
    api.set(server, "state drain")
    deadline = time.monotonic() + timeout
    while int(api.stats()[server]["scur"]) > 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{server} still has requests in flight after {timeout} s")
        time.sleep(0.05)


def rolling_update(api: RuntimeAPI, servers: Sequence[str],
                   replace: Callable[[str], None], timeout: float = 30) -> None:
    """One server at a time: drain it, replace its process (`replace` stops the old release
    and returns once the new one answers its health check), put it back."""
    for server in servers:
        drain(api, server, timeout)
        replace(server)
        api.set(server, "state ready")
        deadline = time.monotonic() + timeout
        while not api.stats()[server]["status"].startswith("UP"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{server} is not UP {timeout} s after its replacement")
            time.sleep(0.05)
# --8<-- [end:rolling]
