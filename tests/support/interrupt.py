"""Stopping uvicorn so that coverage data from the server process is kept.

uvicorn shuts down gracefully on SIGTERM, then raises the same signal again with
the default handler: the process dies without running atexit, where coverage
saves. After SIGINT the re-raised signal is a KeyboardInterrupt, and atexit runs.
"""

import contextlib
import signal
import subprocess

from .celery_procs import Proc


def interrupt(proc: Proc, timeout: float = 10) -> int | None:
    """SIGINT, wait up to `timeout` s, then Proc.stop() (SIGTERM/SIGKILL) whatever is left."""
    if proc.proc is not None and proc.proc.poll() is None:
        proc.proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.proc.wait(timeout)
    return proc.stop()
