"""Real `celery` worker and Beat subprocesses, run from examples/celery/ as a reader would."""

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from .waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "celery"  # the Celery section's app root: commands run from here
CELERY = str(Path(sys.executable).with_name("celery"))
# Faster start for tests (about 1 s instead of 3 s); none changes task behaviour.
QUICK = ["--without-mingle", "--without-gossip", "--without-heartbeat"]
# A bound, not an expectation: a worker is ready in 1-3 s, but a prefork worker whose
# children start under coverage on a busy 2-core machine has been seen to need 15 s.
READY_S = 60


class Proc:
    """A subprocess whose output goes to a log file the test can read and wait on."""

    def __init__(self, argv: list[str], env: dict, log: Path, cwd: Path = EXAMPLES):
        self.argv, self.env, self.log_path, self.cwd = argv, env, log, cwd
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Proc":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv, cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT,
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
        """SIGTERM (a warm shutdown, so coverage data is saved), then SIGKILL the group.

        `timeout` is a bound, not an expectation: workers stopped in 1-5 s over a whole
        run. A SIGKILL also loses the coverage data that pool children write on their way
        out, so a loaded machine gets time. Whatever had to be killed is noted in the log.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._note(f"still running {timeout} s after SIGTERM")
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, 0)  # raises unless some process of the group is left
            self._note("processes of its group were left: SIGKILL")
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        return self.proc.returncode

    def _note(self, what: str) -> None:
        with open(self.log_path, "a") as out:
            out.write(f"[tests] {what}\n")


def worker(env: dict, log: Path, *args: str, app: str = "celery_app", name: str = "w1") -> Proc:
    """`celery -A <app> worker` on every queue the routes name; ready when it says so."""
    argv = [CELERY, "-A", app, "worker", "-Q", "celery,emails,images", "-n", f"{name}@%h",
            "--loglevel=info", *QUICK, *args]
    return Proc(argv, env, log).start().ready(r"ready\.")


def beat(env: dict, log: Path, schedule: Path, app: str = "celery_app") -> Proc:
    argv = [CELERY, "-A", app, "beat", "-s", str(schedule), "--loglevel=info"]
    return Proc(argv, env, log).start().ready(r"beat: Starting")
