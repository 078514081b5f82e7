"""Helpers for the Q27 proofs: a bounded "it never happens", uvicorn, and CLI runs."""

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .celery_procs import CELERY, EXAMPLES, Proc
from .redis_server import RedisServer
from .waiting import free_port

UVICORN = str(Path(sys.executable).with_name("uvicorn"))


@contextlib.contextmanager
def own_broker(base_env: dict, redis: RedisServer, **extra: str) -> Iterator[dict]:
    """Point this process and its subprocesses at `redis` (db 0 broker, db 1 results).

    Celery reads CELERY_BROKER_URL and CELERY_RESULT_BACKEND from os.environ before
    any conf.update(), so a demo app in the test process only follows its own
    Redis while these are set. The previous values come back on exit.
    """
    urls = {"CELERY_BROKER_URL": redis.url(0), "CELERY_RESULT_BACKEND": redis.url(1)}
    saved = {key: os.environ.get(key) for key in urls}
    os.environ.update(urls)
    try:
        yield {**base_env, **urls, **extra}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def together(*starts: Callable[[], object]) -> list:
    """Run slow starts (or stops) side by side, e.g. two workers that each take ~1 s."""
    with ThreadPoolExecutor(len(starts)) as pool:
        return [f.result() for f in [pool.submit(start) for start in starts]]


def never(check: Callable[[], object], within: float, what: str) -> None:
    """Watch `check` for `within` seconds and fail as soon as it becomes truthy.

    The opposite of wait_until: a bounded observation window for "this must not happen".
    """
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            raise AssertionError(f"{what} happened (within {within} s): {value!r}")
        if time.monotonic() > deadline:
            return
        time.sleep(0.05)


def uvicorn(env: dict, log: Path, app: str = "api:app", *args: str) -> Proc:
    """`uvicorn <app> <args>` from examples/ on a free port, ready when it says so.

    The port is on the returned Proc as `.port`, and the base URL as `.url`.
    """
    port = free_port()
    proc = Proc([UVICORN, app, "--host", "127.0.0.1", "--port", str(port), *args], env, log).start()
    proc.port, proc.url = port, f"http://127.0.0.1:{port}"
    proc.ready(r"Application startup complete")
    return proc


def celery_json(env: dict, app: str, *args: str, timeout: float = 30) -> object:
    """Run `celery -A <app> <args> --json` from examples/ and return its parsed output."""
    out = subprocess.run([CELERY, "-A", app, *args, "--json"], cwd=EXAMPLES, env=env,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise AssertionError(f"celery {' '.join(args)} exited {out.returncode}:\n{out.stderr}")
    return json.loads(out.stdout)
