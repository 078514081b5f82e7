"""A small, bounded HTTP load generator for loopback: N requests, at most C at a time, and a
deadline, counting what came back.

    from support.load import run_load

    result = run_load("http://127.0.0.1:8080/work", requests=200, concurrency=8, deadline=20,
                      at={60: kill_one_instance})
    result.statuses        # Counter({200: 187, 503: 13}): HTTP status -> count
    result.errors          # Counter({"ConnectionRefusedError": 2}): no HTTP answer at all
    result.failed          # 15: every request that did not answer 2xx
    result.unsent          # requests never started because the deadline passed
    result.elapsed         # seconds

Each request opens its own connection (`Connection: close`), so a load balancer in front
picks a server per request. `at={k: action}` calls `action()` once, as soon as k requests
have finished (from the thread that finished the k-th): the way to kill or stop something
in the middle of the load. `headers` go on every request; `timeout` bounds each one.
Nothing leaves 127.0.0.1 unless the URL says so; keep it that way.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    unsent: int = 0
    elapsed: float = 0.0

    @property
    def sent(self) -> int:
        return sum(self.statuses.values()) + sum(self.errors.values())

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def failed(self) -> int:
        return self.sent - self.ok


def request(url: str, method: str = "GET", headers: Mapping[str, str] | None = None,
            body: bytes | None = None, timeout: float = 10.0) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body). Raises OSError when there is no
    HTTP answer (refused, reset, timed out)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def run_load(url: str, *, requests: int, concurrency: int = 4, deadline: float = 30.0,
             timeout: float = 10.0, method: str = "GET", headers: Mapping[str, str] | None = None,
             at: Mapping[int, Callable[[], None]] | None = None) -> LoadResult:
    result = LoadResult()
    lock = threading.Lock()
    finished = 0
    actions = dict(at or {})
    t0 = time.monotonic()
    stop_at = t0 + deadline

    def one(_: int) -> None:
        nonlocal finished
        if time.monotonic() > stop_at:
            with lock:
                result.unsent += 1
            return
        try:
            status, _body = request(url, method, headers, timeout=timeout)
        except (OSError, http.client.HTTPException) as exc:
            with lock:
                result.errors[type(exc).__name__] += 1
        else:
            with lock:
                result.statuses[status] += 1
        with lock:
            finished += 1
            action = actions.pop(finished, None)
        if action is not None:
            action()

    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(requests)))
    result.elapsed = time.monotonic() - t0
    return result
