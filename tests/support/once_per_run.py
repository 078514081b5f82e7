"""Do an expensive demonstration once per test run, even when pytest-xdist splits its tests.

With `-n 2`, the tests of one module may land on both workers, and a
module-scoped fixture would then run twice. Here the first worker to arrive
produces the text under a file lock; the other waits and reads it.
"""

import fcntl
import os
from collections.abc import Callable
from pathlib import Path


def run_dir(tmp_path_factory) -> Path:
    """A directory private to this test run and shared by its xdist workers."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once_per_run(tmp_path_factory, name: str, produce: Callable[[Path], str]) -> str:
    """`produce(workdir)`'s text, computed by whichever worker asks first."""
    root = run_dir(tmp_path_factory)
    done = root / f"{name}.out"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            work = root / f"{name}.work"
            work.mkdir(exist_ok=True)
            done.write_text(produce(work))
        return done.read_text()
