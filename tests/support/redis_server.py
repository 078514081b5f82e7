"""A private redis-server on a free port, which a test may flush, kill and restart."""

import shutil
import signal
import subprocess
from pathlib import Path

import redis

from .waiting import free_port, wait_until


class RedisServer:
    def __init__(self, workdir: Path, appendonly: bool = False, port: int | None = None):
        self.workdir = workdir
        self.appendonly = appendonly
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def client(self, db: int = 0) -> redis.Redis:
        return redis.Redis(port=self.port, db=db, socket_timeout=5)

    def start(self) -> "RedisServer":
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not on PATH: run .ci/run or apt-get install it")
        self.workdir.mkdir(parents=True, exist_ok=True)
        # appendfsync always: a kill -9 right after a write keeps the write.
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.appendonly else []
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", *aof, "--dir", str(self.workdir), "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._ping, 5, f"redis-server on port {self.port}")
        return self

    def _ping(self) -> bool:
        try:
            return self.client().ping()
        except redis.ConnectionError:
            return False

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the server abruptly (SIGKILL: no save, no goodbye)."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)

    def restart(self) -> "RedisServer":
        self.kill()
        return self.start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
