"""moto's AWS stand-in as a real HTTP server (`moto_server`, from moto[server]) on a free port.

    server = MotoServer(no_auth_actions=4).start()   # the first 4 calls need no credentials
    server.url                                       # http://127.0.0.1:PORT (AWS_ENDPOINT_URL)
    server.stop()

With `no_auth_actions` set (INITIAL_NO_AUTH_ACTION_COUNT), moto checks every later call
against IAM: the access key must exist and its user's policies must allow the action, or
the answer is 403 AccessDenied. moto does not enforce presigned-URL expiry; see
support.s3rver for that.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from .untraced import untraced
from .waiting import free_port, port_open, wait_until


class MotoServer:
    def __init__(self, no_auth_actions: int | None = None):
        self.port = free_port()
        self.no_auth_actions = no_auth_actions
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or \
            shutil.which("moto_server")
        if exe is None:
            raise RuntimeError("moto_server is not installed: pip install 'moto[server]'")
        env = untraced()
        if self.no_auth_actions is not None:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self.no_auth_actions)
        self.proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(self.port)], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: self.proc.poll() is not None or port_open(self.port), 30,
                       f"moto_server on port {self.port}")
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited {self.proc.returncode}")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, 9)
                self.proc.wait()
