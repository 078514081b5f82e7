"""Waiting in a test for something another process does (a Celery task, a worker, a server),
for Q44: poll a condition until it holds or a deadline passes, instead of sleeping and hoping.
"""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


# --8<-- [start:wait_for]
def wait_for(check: Callable[[], T], timeout: float = 10.0, interval: float = 0.01) -> T:
    """Call `check` until it returns something truthy, and return that; after `timeout`
    seconds, raise TimeoutError. A fast machine waits a few milliseconds, a slow one longer,
    and a real failure still ends the test."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout} s: {check}")
        time.sleep(interval)
    return value
# --8<-- [end:wait_for]
