"""Helpers for the proofs: slow steps side by side, and a bounded "it never happens"."""

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor


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

