"""A subprocess with its output in a log file the test can wait on, always reaped.

support.stack starts every program through it; so does support.sandbox.
"""

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

from .paths import EXAMPLES, ROOT  # noqa: F401 (ROOT: for the modules that import it here)
from .waiting import wait_until

# A faster start: no waiting for other nodes (mingle), no gossip, no heartbeats. None of them
# changes how a task runs.
QUICK = ["--without-mingle", "--without-gossip", "--without-heartbeat"]
# A bound, not an expectation: a prefork worker whose children start under coverage on a
# busy machine takes many times its usual second or two.
READY_S = 60


class Proc:
    """A subprocess whose output goes to a log file the test can read and wait on."""

    def __init__(self, argv: list[str], env: dict, log: Path, cwd: Path = EXAMPLES,
                 stop_signal: int = signal.SIGTERM, user: str | None = None):
        self.argv, self.env, self.log_path, self.cwd = argv, env, log, cwd
        self.user = user  # None: this process's own
        # uvicorn wants SIGINT: after SIGTERM it re-raises the signal and dies without
        # running atexit, where coverage saves; after SIGINT it exits normally.
        self.stop_signal = stop_signal
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Proc":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                user=self.user,
                start_new_session=True,  # its own process group, so nothing is left behind
            )
        return self

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_for_log(self, pattern: str, timeout: float = READY_S) -> re.Match:
        def seen():
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"{self.argv[:3]} exited {self.proc.returncode}:\n{self.log}")
            return re.search(pattern, self.log)

        return wait_until(seen, timeout, f"{pattern!r} in {self.log_path.name}")

    def ready(self, pattern: str, timeout: float = READY_S) -> "Proc":
        """Wait for `pattern` in the log; a process that never gets there is reaped, not leaked."""
        try:
            self.wait_for_log(pattern, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def children(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self, timeout: float = 30) -> int | None:
        """The stop signal (a warm shutdown, so coverage data is saved), then SIGKILL the group.

        `timeout` is a bound, not an expectation. A SIGKILL loses the coverage data that
        pool children write on their way out, so a loaded machine gets time. Whatever had
        to be killed is noted in the log.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._note(f"still running {timeout} s after signal {self.stop_signal}")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 0)  # raises unless some process of the group is left
            self._note("processes of its group were left: SIGKILL")
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        return self.proc.returncode

    def _note(self, what: str) -> None:
        with open(self.log_path, "a") as out:
            out.write(f"[tests] {what}\n")

