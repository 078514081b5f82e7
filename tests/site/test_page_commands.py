"""Every shell command a page shows runs, against a native copy of the sandbox.

The commands are read from every ```bash block of every page under docs/, with the
snippets expanded as the build expands them, so a fragment of docs/_includes/ counts where
a page pulls it in (a fragment no page includes yet is read on its own). One line is one
command (a trailing backslash continues it; `#` lines are comments). Commands run from
examples/ unless they start with `docker compose`, `make` or `cd`, as the pages say.

The stack they run against is the compose file's own: `support.sandbox.NativeStack` starts
the worker, the API and Flower from their compose commands, on a private redis-server and
SMTP server. How each kind of command is run:

- `docker compose exec|run SERVICE cmd…`: the inner command runs natively with that
  service's environment, from examples/ (the image's WORKDIR). Compose is also run on the
  whole line, which checks its flags and the service name.
- other `docker compose …` (up, down, logs, ps, stop…): no engine runs here, so these are
  validated instead of run: `docker compose config -q` must pass, and Compose itself must
  accept the line up to the point where it needs the engine ("Cannot connect to the Docker
  daemon"); an unknown flag or service fails.
- long-running programs (celery worker/beat/flower, uvicorn, mkdocs serve, make docs,
  redis-cli MONITOR…) are started, must print their ready line, and are stopped. Ports come
  from the environment (UVICORN_PORT, FLOWER_PORT), or a free one replaces the number of an
  explicit `--port`; `mkdocs serve` and `make docs`, whose port is fixed, run in a private
  network namespace; Beat's schedule goes to a temp file (CELERY_BEAT_SCHEDULE).
- `make test` and `make bench` are checked with `make -n` (the suite can't run itself);
  other targets run. `make` never reinstalls the venv here (`-o .venv/.installed`).
- everything else runs in one bash session per block, so a variable set on one line is
  there on the next, as in a reader's terminal. Blocks are independent of each other and
  run side by side; within a block, commands run in the order shown.

A slow command shown on several pages (a worker, `celery … inspect stats`) runs once and
its other places share that run; they are reported as such.

Only values Docker or the reader's machine would supply are rewritten: `127.0.0.1:8000`
and `localhost:8000` (and 5555) become the native ports; `redis-cli` gets `-p <port>`
of the private Redis; paths under a volume's mount point (/app/media) become the temp
folder that stands for the volume. Mailpit's API (8025) has no native stand-in: a command
that needs it is counted as not run and listed.

Every command must exit 0. The test prints each command with its exit code and time, and
the counts: shown, run natively, validated by Compose or make -n, not run.
"""

import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from support import docs_pages
from support.celery_procs import EXAMPLES, ROOT, Proc
from support.sandbox import (
    BIN,
    DAEMON_DOWN,
    Clock,
    NativeStack,
    compose,
    native_stack,
)
from support.untraced import untraced
from support.waiting import free_port

# No example code runs in this process.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("untraced_module")]

SHELL_LANGS = {"bash", "sh", "shell", "console"}
COMPOSE = re.compile(r"^docker(?:\s+compose|-compose)\b")
ASSIGNMENTS = re.compile(r"^((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)(.*)$", re.S)
EXEC = re.compile(
    r"^docker(?:\s+compose|-compose)\s+(?:exec|run)\s+"
    r"(?:(?:-e|--env|-u|--user|-w|--workdir|--index)(?:\s+|=)\S+\s+|--?[A-Za-z][-\w]*\s+)*"
    r"(?P<service>[a-z0-9][-a-z0-9_]*)\s+(?P<inner>.+)$", re.S)
NOT_HERE = {  # commands that need something this machine doesn't have
    r"(localhost|127\.0\.0\.1):8025": "needs Mailpit's API, which has no native stand-in",
    r"^git\s+clone\b": "needs the network",
    r"^(sudo\s+)?(apt|apt-get|brew)\b": "installs system packages",
    r"^(pip|pip3|python3? -m pip)\s+install\b": "installs packages",
    r"^(open|xdg-open)\b": "opens a desktop application",
}
# What a long-running program prints once it is ready, keyed by how its command starts.
LONG_RUNNING = [
    (r"^celery\b.*\bworker\b", r"ready\."),
    (r"^celery\b.*\bbeat\b", r"beat: Starting"),
    (r"^celery\b.*\bflower\b", r"Visit me at http"),
    (r"^celery\b.*\bevents\b", r"evdump|Events of group|capture"),
    (r"^uvicorn\b", r"Application startup complete"),
    (r"^(fastapi)\s+(dev|run)\b", r"Application startup complete"),
    (r"^(\.venv/bin/)?mkdocs\s+serve\b", r"Serving on"),
    (r"^make\s+docs\b", r"Serving on"),
    (r"^redis-cli\b.*\b(?i:monitor|p?subscribe)\b", r"^OK|Reading messages"),
    (r"^tail\s+-f\b", r""),
]
COMMAND_TIMEOUT = 30


@dataclass
class Command:
    page: str
    line: int
    text: str
    kind: str = ""  # shell | exec | compose | long | make | not-run
    how: str = ""  # what was run, when it differs from the text
    service: str = ""  # for docker compose exec
    mode: str = ""  # native | validated | not run
    rc: int | None = None
    output: str = ""
    seconds: float = 0.0
    reason: str = ""
    key: tuple | None = None  # what runs; identical keys run once
    first: "Command | None" = None  # the earlier identical command whose run this shares

    def where(self) -> str:
        return f"{self.page}:{self.line}"


@dataclass
class Block:
    page: str
    line: int
    commands: list[Command] = field(default_factory=list)


def commands_of(body: str, page: str, line: int, prompts_only: bool = False) -> list[Command]:
    """The commands of a block; in a ```console block, only the lines after a `$ ` prompt."""
    found, pending = [], ""
    for n, raw in enumerate(body.split("\n"), line + 1):
        text = raw.strip()
        if prompts_only and not pending:
            if not text.startswith("$ "):
                continue  # output
            text = text[2:]
        if pending:
            text = pending + " " + text
            pending = ""
        if not text or text.startswith("#"):
            continue
        if text.endswith("\\"):
            pending = text[:-1].rstrip()
            continue
        found.append(Command(page, n, text.removeprefix("$ ")))
    return found


def shown_blocks() -> list[Block]:
    """Every bash block of every page (snippets expanded), plus fragments no page includes."""
    blocks, included = [], set()
    # The Databases pages' commands need PostgreSQL, which this stack lacks: they run in
    # tests/databases/test_page_commands.py, against the section's private cluster.
    sources = [(page, docs_pages.raw(page)) for page in docs_pages.pages()
               if not page.startswith("databases/")]
    for _, raw in sources:
        included.update(re.findall(r"docs/(_includes/[\w.-]+\.md)", raw))
    sources += [(f"_includes/{p.name}", "") for p in sorted(docs_pages.INCLUDES.glob("*.md"))
                if f"_includes/{p.name}" not in included]
    for page, _ in sources:
        for fence in docs_pages.fences(docs_pages.expanded(page), page):
            if fence.lang in SHELL_LANGS:
                block = Block(page, fence.line, commands_of(fence.body, page, fence.line,
                                                            fence.lang == "console"))
                if block.commands:
                    blocks.append(block)
    return blocks


def split_assignments(text: str) -> tuple[dict[str, str], str]:
    """`A=1 B=2 cmd…` -> ({"A": "1", "B": "2"}, "cmd…")."""
    assignments, rest = ASSIGNMENTS.match(text).groups()
    return dict(a.split("=", 1) for a in assignments.split()), rest


def long_running(text: str) -> str | None:
    """The ready line of a program that runs until stopped, or None."""
    for pattern, ready in LONG_RUNNING:
        if re.search(pattern, text.strip()):
            return ready
    return None


class Runner:
    def __init__(self, stack: NativeStack, workdir):
        self.stack, self.workdir = stack, workdir
        self.published = {}  # published host port -> service
        for name, service in stack.services.items():
            for port in service.get("ports", []):
                self.published[int(port["published"])] = name

    # -- rewrites: only what Docker or the reader's machine supplies ---------------------------
    def localize(self, text: str) -> str:
        def port(m):
            service = self.published.get(int(m[2]))
            if service in self.stack.procs:
                return f"127.0.0.1:{self.stack.native_port(service)}"
            return m[0]

        text = re.sub(r"\b(localhost|127\.0\.0\.1):(\d+)\b", port, text)
        # The reader's Redis on 6379 (or the sandbox's, through exec) is the private one.
        text = re.sub(r"\b(localhost|127\.0\.0\.1):6379\b",
                      f"127.0.0.1:{self.stack.redis_port}", text)
        text = re.sub(r"(\bredis-cli\b[^;&|]*?\s-p\s+)6379\b", rf"\g<1>{self.stack.redis_port}",
                      text)
        text = re.sub(r"(^|[\s;&|(])redis-cli\b(?![^;&|]*\s-p\s)",
                      rf"\g<1>redis-cli -p {self.stack.redis_port}", text)
        for target, folder in self.stack.volumes.items():
            text = re.sub(rf"(?<![\w/]){re.escape(target)}(?![\w-])", str(folder), text)
        return text

    def env(self, service: str = "worker") -> dict:
        env = self.stack.env(service if service in self.stack.procs else "worker")
        return {**env, "CELERY_BEAT_SCHEDULE": str(self.workdir / "page-beat-schedule"),
                "UVICORN_PORT": str(free_port()), "FLOWER_PORT": str(free_port())}

    # -- classification -------------------------------------------------------------------------
    def classify(self, cmd: Command) -> None:
        _, rest = split_assignments(cmd.text)
        for pattern, reason in NOT_HERE.items():
            if re.search(pattern, cmd.text if "8025" in pattern else rest):
                cmd.kind, cmd.mode, cmd.reason = "not-run", "not run", reason
                return
        cmd.mode = "native"
        if COMPOSE.match(rest):
            m = EXEC.match(rest)
            if m and m["service"] in self.stack.services:
                cmd.service = m["service"]
                cmd.how = self.localize(m["inner"])
                cmd.kind = "long" if long_running(m["inner"]) else "exec"
            else:
                cmd.kind, cmd.mode = "compose", "validated"
                if m:  # Compose itself only finds out once it asks the engine for a container
                    cmd.reason = f"Compose rejects the line: no service {m['service']!r}"
        elif re.match(r"^make\s+docs\b", rest):
            cmd.kind = "long"
        elif re.match(r"^make\b", rest):
            cmd.kind = "make"
            targets = set(shlex.split(rest)[1:])
            if targets & {"test", "bench"}:
                cmd.mode = "validated"
        else:
            cmd.kind = "long" if long_running(rest) else "shell"
            cmd.how = self.localize(cmd.text)

    # -- running ----------------------------------------------------------------------------------
    def key(self, cmd: Command) -> tuple | None:
        """The slow commands shown several times run once: long-running programs, Compose
        validations, make, and `celery …` one-shots (each costs a Python start and a wait
        for replies). `celery … inspect stats` typed in a shell and the same command through
        `docker compose exec worker` are one run: the worker's environment is the shell's.
        Anything else runs at each place it is shown, in its own block's order.
        """
        text = cmd.how or cmd.text
        if "$" in text:
            return None
        if cmd.kind in ("shell", "exec") and not text.startswith("celery "):
            return None
        environment = self.stack.services.get(cmd.service or "worker", {}).get("environment")
        group = "run" if cmd.kind in ("shell", "exec") else cmd.kind
        return (group, frozenset((environment or {}).items()), text)

    @functools.cache  # noqa: B019 (one Runner per test)
    def compose_accepts(self, text: str) -> tuple[bool, str, str]:
        """Compose's verdict on a line: config passes, and it fails only for want of an engine."""
        env, rest = split_assignments(text)
        args = shlex.split(COMPOSE.sub("", rest, count=1), comments=True)
        config = self.config_passes(tuple(sorted(env.items())))
        out = compose(*args, env=env)
        ok = config.returncode == 0 and (out.returncode == 0 or DAEMON_DOWN in out.stderr)
        output = (config.stdout + config.stderr + out.stdout + out.stderr).strip()
        return ok, output, f"docker compose config -q && docker compose {shlex.join(args)}"

    @functools.cache  # noqa: B019
    def config_passes(self, env: tuple) -> subprocess.CompletedProcess:
        return compose("config", "-q", env=dict(env))

    def validate_compose(self, cmd: Command) -> None:
        ok, cmd.output, how = self.compose_accepts(cmd.text)
        cmd.rc, cmd.how = (0 if ok else 1), f"validated: {how}"

    def run_make(self, cmd: Command) -> None:
        words = shlex.split(cmd.text, comments=True)
        dry = ["-n"] if cmd.mode == "validated" else []
        argv = ["make", "-o", ".venv/.installed", *dry, *words[1:]]
        cmd.how = shlex.join(argv)
        out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=180,
                             env=untraced({**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}))
        cmd.rc, cmd.output = out.returncode, (out.stdout + out.stderr).strip()

    def run_long(self, cmd: Command) -> None:
        text, cwd = cmd.how or cmd.text, EXAMPLES
        ready = long_running(text)
        if re.match(r"^make\s+docs\b", text):
            text = "make -o .venv/.installed docs"
        # A port the command names itself is one the reader's machine supplies: a free one.
        text = re.sub(r"(--port[= ])\d+\b", lambda m: f"{m[1]}{free_port()}", text)
        if re.match(r"^(make\s+docs|(\.venv/bin/)?mkdocs\s+serve)\b", text):
            # A fixed port (8000): a network namespace of its own, where 8000 is free.
            cwd = ROOT
            argv = ["unshare", "--net", "bash", "-c", f"ip link set lo up && exec {text}"]
        else:
            argv = ["bash", "-c", f"exec {text}"]
        cmd.how = shlex.join(argv)
        log = self.workdir / f"long-{cmd.line}-{time.monotonic_ns()}.log"
        proc = Proc(argv, self.env(cmd.service or "worker"), log, cwd=cwd).start()
        try:
            if ready:
                proc.wait_for_log(ready, 60)
            cmd.rc, note = 0, f"ready ({ready!r} seen), then stopped"
        except (TimeoutError, RuntimeError) as exc:
            cmd.rc, note = 1, str(exc)[-1500:]
        finally:
            proc.stop()
        cmd.output = f"{note}\n{proc.log[-800:]}"

    def run_session(self, commands: list[Command]) -> None:
        """The block's shell and exec commands, in order, in one bash process."""
        if not commands:
            return
        session_env = self.env()
        script = ["exec 2>&1 </dev/null"]
        for i, cmd in enumerate(commands):
            line = cmd.how
            if cmd.kind == "exec":
                # The service's own environment, from examples/ (the image's WORKDIR).
                exports = [f"export {k}={shlex.quote(v)};"
                           for k, v in self.env(cmd.service).items()
                           if k not in ("UVICORN_PORT", "FLOWER_PORT") and session_env.get(k) != v]
                line = f"( {' '.join(exports)} cd {shlex.quote(str(EXAMPLES))} && {line} )"
                cmd.how = line
            script += ["__t=$(date +%s.%N)", line,
                       f"printf '\\n@@done {i} %s %s %s\\n' $? $__t $(date +%s.%N)"]
        timeout = COMMAND_TIMEOUT * len(commands)
        proc = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=EXAMPLES, env=session_env,
                                stdout=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            out += f"\n(killed: the block took longer than {timeout} s)"
        parts = re.split(r"^@@done (\d+) (-?\d+) ([\d.]+) ([\d.]+)$", out, flags=re.M)
        for k in range(1, len(parts) - 1, 5):
            cmd = commands[int(parts[k])]
            cmd.rc, cmd.seconds = int(parts[k + 1]), float(parts[k + 3]) - float(parts[k + 2])
            cmd.output = parts[k - 1].strip()
        for cmd in commands:
            if cmd.rc is None:
                cmd.rc, cmd.output = -1, out[-2000:]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("page-commands")
    clock = Clock("page commands, against the compose file's services run natively")
    # Untraced: these processes run lines the example tests already measure, and tracing
    # roughly doubles the CPU of each of the forty-odd Python programs the pages start.
    with native_stack(workdir, clock, traced=False) as native:
        services = ["worker", "api", "flower"]
        native.start(*services)
        native.wait_all_healthy(*services)
        yield native


def plan(runner: Runner, blocks: list[Block]) -> tuple[list[Command], list[list[Command]]]:
    """Classify every command; return the jobs to run alone and each block's shell session."""
    jobs, sessions, seen = [], [], {}
    for block in blocks:
        session = []
        for cmd in block.commands:
            runner.classify(cmd)
            if cmd.service:  # docker compose exec: Compose checks the service and the flags
                m = EXEC.match(split_assignments(cmd.text)[1])
                ok, output, _ = runner.compose_accepts(m[0][: m.start("inner")] + "true")
                if not ok:
                    cmd.reason = f"Compose rejects the line: {output}"
            if cmd.mode == "not run":
                continue
            cmd.key = runner.key(cmd)
            if cmd.key in seen:
                cmd.first = seen[cmd.key]
            elif cmd.kind in ("shell", "exec"):
                session.append(cmd)
            else:
                jobs.append(cmd)
            if cmd.key:
                seen.setdefault(cmd.key, cmd)
        sessions.append(session)
    return jobs, sessions


def run_job(runner: Runner, cmd: Command) -> None:
    start = time.monotonic()
    {"compose": runner.validate_compose, "make": runner.run_make,
     "long": runner.run_long}[cmd.kind](cmd)
    cmd.seconds = time.monotonic() - start


@pytest.mark.timeout(300)
def test_every_page_command_runs(stack, tmp_path):
    blocks = shown_blocks()
    commands = [cmd for block in blocks for cmd in block.commands]
    assert commands, "no ```bash block found in docs/"
    runner = Runner(stack, tmp_path)
    jobs, sessions = plan(runner, blocks)
    # Blocks are independent (each one's commands run in order, in one shell), so they run
    # side by side with the long-running programs; most of the time is spent waiting.
    with ThreadPoolExecutor(4) as pool:
        futures = [pool.submit(run_job, runner, cmd) for cmd in jobs]
        futures += [pool.submit(runner.run_session, session) for session in sessions]
        for future in futures:
            future.result()

    for cmd in commands:
        if cmd.first:
            cmd.rc, cmd.output, cmd.how = cmd.first.rc, cmd.first.output, cmd.first.how
        if cmd.reason.startswith("Compose rejects"):
            cmd.rc = cmd.rc or 1
        status = "not run" if cmd.mode == "not run" else f"exit {cmd.rc}"
        if cmd.first:
            status += f", shares the run of {cmd.first.where()}"
        stack.clock(f"{cmd.where()} [{cmd.kind}, {cmd.mode}] {status} "
                    f"({cmd.seconds:.2f} s): {cmd.text}")
        if cmd.how and cmd.how != cmd.text:
            print(f"{'':14}ran: {cmd.how[:300]}")

    count = {mode: sum(c.mode == mode for c in commands)
             for mode in ("native", "validated", "not run")}
    repeats = sum(c.first is not None for c in commands)
    stack.clock(f"{len(commands)} commands shown in {len(blocks)} blocks: {count['native']} run "
                f"natively, {count['validated']} validated by Compose or make -n, "
                f"{count['not run']} not run; {repeats} repeat an earlier command and share "
                f"its run")
    for cmd in commands:
        if cmd.mode == "not run":
            print(f"  not run: {cmd.where()}: {cmd.text}  ({cmd.reason})")
    failures = [c for c in commands if c.mode != "not run" and c.rc != 0]
    assert not failures, "\n\n".join(
        f"{c.where()}: exit {c.rc}: {c.text}\n  ran: {c.how}\n  {c.reason}\n"
        f"  output: {c.output[-1500:]}" for c in failures)
    assert sum(count.values()) == len(commands)


def test_commands_are_found_in_pages_and_in_included_fragments():
    blocks = shown_blocks()
    pages = {b.page for b in blocks}
    assert "sandbox.md" in pages
    texts = [c.text for b in blocks for c in b.commands]
    assert "docker compose exec redis redis-cli MONITOR" in texts
    assert not any(t.startswith("#") for t in texts)
    # The sandbox fragments are pulled into the question pages, and read there.
    for n in (26, 27, 28):
        fragment = (docs_pages.INCLUDES / f"q{n}-sandbox.md").read_text()
        first = next(c.text for c in commands_of(fragment.split("```bash\n", 1)[1], "", 0))
        assert first in texts


def test_the_block_parser_joins_continuations_and_skips_comments():
    body = "# a comment\n\ncurl -s \\\n  http://127.0.0.1:8000/health\n$ docker compose ps\n"
    assert [c.text for c in commands_of(body, "p.md", 1)] == [
        "curl -s http://127.0.0.1:8000/health", "docker compose ps"]
    console = "$ redis-cli PING\nPONG\n$ docker compose \\\n  ps\nNAME  STATUS\n"
    assert [c.text for c in commands_of(console, "p.md", 1, prompts_only=True)] == [
        "redis-cli PING", "docker compose ps"]


def test_the_tools_the_pages_use_are_installed():
    for tool in ("curl", "redis-cli", "sed", "unshare", "ip"):
        assert shutil.which(tool), f"{tool} is missing: add its Debian package to .ci/run"


class FakeStack:
    """Just what Runner reads of a NativeStack, to check the rewrites without processes."""

    services = {
        "redis": {}, "worker": {"environment": {"A": "1"}}, "beat": {"environment": {"A": "1"}},
        "api": {"ports": [{"published": "8000"}], "environment": {"A": "1"}},
        "flower": {"ports": [{"published": "5555"}], "environment": {"A": "1", "F": "x"}},
        "mailpit": {"ports": [{"published": "8025"}]},
    }
    procs = {"worker": None, "api": None, "flower": None}
    redis_port = 7001
    volumes = {"/app/media": "/tmp/volumes/media"}

    def native_port(self, service: str) -> int:
        return {"api": 9001, "flower": 9002}[service]


@pytest.mark.parametrize("shown, runs", [
    ("curl -s http://127.0.0.1:8000/health", "curl -s http://127.0.0.1:9001/health"),
    ("curl -s localhost:5555/api/workers", "curl -s 127.0.0.1:9002/api/workers"),
    ("curl -s localhost:8025/api/v1/messages", "curl -s localhost:8025/api/v1/messages"),
    ("redis-cli KEYS '*'", "redis-cli -p 7001 KEYS '*'"),
    ("redis-cli -p 6379 PING", "redis-cli -p 7001 PING"),
    ("CELERY_BROKER_URL=redis://localhost:6379/0 celery -A celery_app inspect ping",
     "CELERY_BROKER_URL=redis://127.0.0.1:7001/0 celery -A celery_app inspect ping"),
    ("ls -l /app/media/resized", "ls -l /tmp/volumes/media/resized"),
    ("ls /app/mediafiles /opt/app/media", "ls /app/mediafiles /opt/app/media"),
])
def test_only_documented_values_are_rewritten(shown, runs, tmp_path):
    assert Runner(FakeStack(), tmp_path).localize(shown) == runs


@pytest.mark.parametrize("shown, kind, mode, service, how", [
    ("docker compose exec -T worker celery -A celery_app inspect ping", "exec", "native",
     "worker", "celery -A celery_app inspect ping"),
    ("docker compose exec redis redis-cli MONITOR", "long", "native", "redis",
     "redis-cli -p 7001 MONITOR"),
    ("docker compose logs -f worker", "compose", "validated", "", ""),
    ("CLEANUP_EVERY_SECONDS=10 docker compose up -d beat", "compose", "validated", "", ""),
    ("make test", "make", "validated", "", ""),
    ("make site", "make", "native", "", ""),
    ("make docs", "long", "native", "", ""),
    ("uvicorn api:app --reload", "long", "native", "", "uvicorn api:app --reload"),
    ("celery -A celery_app inspect stats", "shell", "native", "",
     "celery -A celery_app inspect stats"),
    ("curl -s http://localhost:8025/api/v1/messages", "not-run", "not run", "", ""),
    ("git clone https://example.org/guide.git", "not-run", "not run", "", ""),
])
def test_commands_are_classified(shown, kind, mode, service, how, tmp_path):
    cmd = Command("p.md", 1, shown)
    Runner(FakeStack(), tmp_path).classify(cmd)
    assert (cmd.kind, cmd.mode, cmd.service, cmd.how) == (kind, mode, service, how)
    assert cmd.reason == "" or mode == "not run"


def test_exec_into_a_missing_service_fails(tmp_path):
    cmd = Command("p.md", 1, "docker compose exec rabbitmq rabbitmqctl status")
    Runner(FakeStack(), tmp_path).classify(cmd)
    assert cmd.reason == "Compose rejects the line: no service 'rabbitmq'"
