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

import shutil
import sys
from pathlib import Path

from .server import Server


class MotoServer(Server):
    program = "moto_server"

    def __init__(self, no_auth_actions: int | None = None):
        super().__init__()
        self.no_auth_actions = no_auth_actions

    def argv(self) -> list[str]:
        exe = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or \
            shutil.which("moto_server")
        if exe is None:
            raise RuntimeError("moto_server is not installed: pip install 'moto[server]'")
        return [exe, "-H", "127.0.0.1", "-p", str(self.port)]

    def environment(self) -> dict:
        env = super().environment()
        if self.no_auth_actions is not None:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self.no_auth_actions)
        return env
