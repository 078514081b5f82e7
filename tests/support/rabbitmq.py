"""A private RabbitMQ node (Debian's rabbitmq-server) on free ports, which a test may restart.

The machine may run a RabbitMQ of its own (node rabbit@<host>, AMQP on 5672, distribution
on 25672, epmd on 4369). This node shares nothing with it: its own node name, AMQP port,
distribution port, epmd port (so a node started where none runs leaves no epmd behind),
data, logs, plugins file, feature-flags file, config and Erlang cookie, all in a temp
directory owned by the `rabbitmq` user, whom the server runs as. Without the feature-flags
file the node dies with `failed_to_create_feature_flags_file_directory`.
"""

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from .waiting import free_port, port_open, wait_until

SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # the script, without Debian's su wrapper
CTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
EPMD = "epmd"
USER = "rabbitmq"
READY_S = 120  # a bound: about 4 s on an idle 2-core machine, 45 s seen on a loaded one


def as_rabbitmq() -> dict:
    """Popen arguments that run a program as the rabbitmq user (root switches to it; that
    user itself runs as is; anyone else can't run Debian's server)."""
    if os.geteuid() == 0:
        return {"user": USER, "group": USER}
    if os.geteuid() == pwd.getpwnam(USER).pw_uid:
        return {}
    raise RuntimeError("the RabbitMQ node runs as the rabbitmq user: run the tests as root "
                       "(as .ci/run does) or as rabbitmq")


class RabbitMQ:
    """`start()`, `url()`, `restart()`, `stop()`, and the queues' state through rabbitmqctl."""

    def __init__(self, consumer_timeout_ms: int | None = None, tick_ms: int | None = None):
        # Not under pytest's tmp_path: its folders are private to root, and the node runs as
        # the rabbitmq user, who must reach its files. stop() removes this folder.
        self.workdir = Path(tempfile.mkdtemp(prefix="guide-rabbitmq-"))
        self.consumer_timeout_ms = consumer_timeout_ms
        self.tick_ms = tick_ms  # how often a channel checks its consumer timeout
        self.port, self.dist_port, self.epmd_port = free_port(), free_port(), free_port()
        self.name = f"guide-{uuid.uuid4().hex[:8]}@localhost"
        self.proc: subprocess.Popen | None = None
        self.started_in: float | None = None  # seconds from spawn to AMQP accepting

    # -- where things are -------------------------------------------------------------------
    def url(self, vhost: str = "") -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/{vhost}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.out"

    def env(self) -> dict[str, str]:
        w = self.workdir
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(w),  # the Erlang cookie is created here, and rabbitmqctl reads it
            "LANG": "C.UTF-8",
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_MNESIA_BASE": str(w / "mnesia"),
            "RABBITMQ_LOG_BASE": str(w / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(w / "enabled_plugins"),
            "RABBITMQ_FEATURE_FLAGS_FILE": str(w / "feature_flags"),
            "RABBITMQ_CONFIG_FILE": str(w / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(w / "advanced.config"),
            "RABBITMQ_PID_FILE": str(w / "server.pid"),
        }

    # -- life cycle -------------------------------------------------------------------------
    def _prepare(self) -> None:
        w = self.workdir
        (w / "mnesia").mkdir(parents=True, exist_ok=True)
        (w / "log").mkdir(exist_ok=True)
        (w / "enabled_plugins").write_text("[].\n")
        conf = ["listeners.tcp.default = " + f"127.0.0.1:{self.port}",
                "loopback_users = none"]
        if self.consumer_timeout_ms is not None:
            conf.append(f"consumer_timeout = {self.consumer_timeout_ms}")
        (w / "rabbitmq.conf").write_text("\n".join(conf) + "\n")
        advanced = f"{{channel_tick_interval, {self.tick_ms}}}" if self.tick_ms else ""
        (w / "advanced.config").write_text(f"[{{rabbit, [{advanced}]}}].\n")
        if os.geteuid() == 0:  # hand the folder to the user the node runs as
            user = pwd.getpwnam(USER)
            for path in [w, *w.rglob("*")]:
                os.chown(path, user.pw_uid, user.pw_gid)

    def start(self) -> "RabbitMQ":
        if not SERVER.exists():
            raise RuntimeError("rabbitmq-server is not installed: run .ci/run or apt-get it")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._prepare()
        began = time.monotonic()
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                [str(SERVER)], cwd=self.workdir, env=self.env(), stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, **as_rabbitmq())
        try:
            wait_until(self._accepting, READY_S, f"RabbitMQ node {self.name} on {self.port}")
        except BaseException:
            self.halt()
            raise
        self.started_in = time.monotonic() - began
        return self

    def _accepting(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"rabbitmq-server exited {self.proc.returncode}:\n"
                               f"{self.log_path.read_text(errors='replace')[-3000:]}")
        if not port_open(self.port):
            return False
        # The listener opens before the node has finished booting: a real AMQP handshake.
        import amqp

        conn = amqp.Connection(f"127.0.0.1:{self.port}", connect_timeout=2)
        try:
            conn.connect()
            conn.close()
            return True
        except (OSError, amqp.exceptions.AMQPError):
            return False
        finally:
            conn.collect()  # the socket, whichever way the attempt went

    def stop(self) -> None:
        """Stop the node for good, and remove its folder."""
        self.halt()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def halt(self) -> None:
        """A clean shutdown (SIGTERM: the script runs the node's own stop), then the epmd
        this node started, if it started one. The data stays: start() brings it back."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            if self.proc:
                os.killpg(self.proc.pid, signal.SIGKILL)  # nothing of its group is left
        if shutil.which(EPMD):
            subprocess.run([EPMD, "-port", str(self.epmd_port), "-kill"],
                           capture_output=True, timeout=10)

    def restart(self) -> "RabbitMQ":
        """Stop the node and start it again: same name, ports and data directory."""
        self.halt()
        return self.start()

    # -- state --------------------------------------------------------------------------------
    def ctl(self, *args: str, timeout: float = 90) -> str:
        """`rabbitmqctl -n <this node> …`, as the rabbitmq user, with this node's cookie.
        Each call starts an Erlang VM of its own: on a loaded 2-core machine that alone
        has taken over 30 s."""
        out = subprocess.run([str(CTL), "-n", self.name, *args], env=self.env(),
                             cwd=self.workdir, capture_output=True, text=True, timeout=timeout,
                             **as_rabbitmq())
        if out.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} exited {out.returncode}:\n"
                               f"{out.stdout}{out.stderr}")
        return out.stdout

    def queues(self, *columns: str) -> dict[str, dict[str, str]]:
        """{queue: {column: value}} from `rabbitmqctl list_queues`, e.g. ("messages_ready",
        "messages_unacknowledged", "durable", "arguments")."""
        cols = ["name", *(columns or ("messages_ready", "messages_unacknowledged"))]
        text = self.ctl("list_queues", "-q", "--no-table-headers", *cols)
        rows = {}
        for line in text.splitlines():
            values = line.split("\t")
            if len(values) == len(cols):
                rows[values[0]] = dict(zip(cols[1:], values[1:], strict=True))
        return rows
