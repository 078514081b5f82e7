"""A server program that a test owns, run one way for every kind of server.

    class Thing(Server):
        program = "thing"                         # its name in messages, folders and logs

        def argv(self) -> list[str]:           # may write its config into self.root first
            return ["thing", "--port", str(self.port)]

        def ready(self) -> bool:                  # default: its port accepts a connection
            ...

    with Thing() as server:                       # or server = Thing().start() ... .stop()
        server.url, server.log

It listens on a free loopback port and keeps its files and its output in a temporary folder.
`start()` waits, with a bound, until it is ready, and fails at once, with its output, if it
exits first. `stop()` signals it, reaps its whole process group (support.celery_procs.Proc)
and removes the folder; it may be called twice, and after a failed start.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .celery_procs import Proc
from .untraced import untraced
from .waiting import free_port, port_open, wait_until


class Server:
    program = "server"
    ready_within = 30.0  # a bound, not an expectation: a busy machine takes longer
    stop_within = 10.0

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.root: Path | None = None
        self.proc: Proc | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return self.proc.log if self.proc else ""

    def argv(self) -> list[str]:
        raise NotImplementedError

    def environment(self) -> dict:
        return untraced()

    def user(self) -> str | None:
        """The user it runs as (None: this process's own)."""
        return None

    def ready(self) -> bool:
        return port_open(self.port)

    def start(self):
        self.root = Path(tempfile.mkdtemp(prefix=f"guide-{self.program}-"))
        try:
            self.proc = Proc(self.argv(), self.environment(),
                             self.root / f"{self.program}.log", cwd=self.root,
                             user=self.user()).start()
            wait_until(self._answers, self.ready_within, f"{self.program} on port {self.port}")
        except BaseException:
            self.stop()
            raise
        return self

    def _answers(self) -> bool:
        if self.proc.proc.poll() is not None:
            raise RuntimeError(f"{self.program} exited {self.proc.proc.returncode}:\n"
                               f"{self.log[-2000:]}")
        return self.ready()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.stop(self.stop_within)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
