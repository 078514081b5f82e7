"""Every shell block on the site is checked the way its fence declares, one test per block.

A block declares its check with a data attribute on its fence, which attr_list keeps on
the rendered <div> (```` ```bash {data-check="native"} ````); a block without one, or with
an unknown one, fails. One line is one command (a trailing backslash continues it; `#`
lines are comments; in a ```console block only the lines after a `$ ` prompt count).

- `native`: run in order in one bash session, as in a reader's terminal, from the app root
  of the page's own section (tools/sections.py), against the services that section declares,
  which this module starts: Redis, and a private PostgreSQL (the `postgres` fixture) with a
  fresh database for each page, where the reader's `localhost:5432/<name>` points. In a Try
  it the app root is a copy: the files the page says to take, in an empty folder, with a
  Python that has only what the section's install line names (`support.try_it`). Elsewhere
  it is examples/<section>/; for Celery, with the sandbox's services run natively.
- `native-serve`: each line is a program that runs until stopped (a worker, uvicorn, an SMTP
  server, Flower). It is started the same way, must print its ready line (or open its
  port), and serves the page's later blocks until the module ends.
- `sandbox`: against the compose file's services run natively (`support.sandbox`):
  `docker compose exec|run [-w DIR] SERVICE cmd` runs `cmd` with that service's environment
  from the app root (the image's WORKDIR, or the examples folder `-w /app/<section>` names),
  once Compose has accepted the line's flags and service, with the compose file's
  `postgres` served by the private PostgreSQL; another `docker compose ...` line is checked
  by Compose (as `compose`); other lines run natively.
- `sandbox-serve`: as `native-serve`, through `docker compose exec`.
- `compose`: Compose only (no engine runs here): `docker compose config -q` passes, and
  Compose accepts the line up to the point where it needs the engine; an unknown flag or
  service fails.
- `dry-run`: `make -n`; `data-reason` says why no more.
- `delegated`: the exception, for a block whose proof needs more than what its commands
  print (a worker's log read line by line, pids compared, a private RabbitMQ node restarted);
  `data-reason` names the test file that runs the block's lines as written (read from the
  page with support.docs_pages.delegated_blocks). In a Try it, the copy test below runs its
  lines in the reader's copy as well.
- `install`: a section's `pip install` line, in its generated fragment
  (docs/_includes/<section>-install.md). It must be tools/install_line.py's, and the copy's
  Python is built from it. No page types a `pip install` of its own.
- `none`: not run; `data-reason` says why.

Only values Docker or the reader's machine supplies are rewritten: the reader's ports (8000
for uvicorn, 5555 for Flower, 1025 for SMTP, 6379 for Redis) become the test's free ones;
`redis-cli` gets `-p <port>` of the private Redis; paths under a volume's mount point
(/app/media) become the temp folder that stands for the volume. Where a reader relies on a
default (Redis on localhost:6379, SMTP on localhost:1025, uvicorn on 8000), the test sets
the variable the example reads instead (CELERY_BROKER_URL, SMTP_PORT, UVICORN_PORT).

A slow command shown in several blocks (a worker, `celery … inspect stats`) runs once, in
the first block that shows it; the others share that run and say so. Blocks run side by
side in a pool as soon as the module starts, so the whole costs about as long as its
slowest chain; each block's test waits for its own block only, and a failure names the
page and the line.
"""

import contextlib
import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import install_line
import pytest
import sections

from support import docs_pages
from support.celery_procs import ROOT, Proc
from support.postgres import PostgresServer
from support.rabbitmq import RabbitMQ
from support.redis_server import RedisServer
from support.sandbox import (
    BIN,
    DAEMON_DOWN,
    EXAMPLE_VARS,
    Clock,
    compose,
    native_stack,
    resolved,
)
from support.try_it import IsolatedEnv, copy_files, is_app_root, parse_install_line
from support.untraced import environ, untraced
from support.waiting import free_port, port_open, wait_until

# No example code runs in this process. Only the tests that run blocks are slow: the
# parsers, the declarations and the rewrites are checked in `make quick` too.
pytestmark = pytest.mark.usefixtures("untraced_module")

SHELL_LANGS = {"bash", "sh", "shell", "console"}
CHECKS = {"native", "native-serve", "sandbox", "sandbox-serve", "compose", "dry-run", "install",
          "delegated", "none"}
# "delegated": run by the test file its reason names (see the docstring).
NEED_REASON = {"dry-run", "delegated", "none"}
DELEGATED_TO = re.compile(r"\b(tests/[\w/]+/test_\w+\.py)\b")
COMPOSE = re.compile(r"^docker(?:\s+compose|-compose)\b")
ASSIGNMENTS = re.compile(r"^((?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*)(.*)$", re.S)
EXEC = re.compile(
    r"^docker(?:\s+compose|-compose)\s+(?:exec|run)\s+"
    r"(?:(?:-w|--workdir)(?:\s+|=)(?P<workdir>\S+)\s+"
    r"|(?:-e|--env|-u|--user|--index)(?:\s+|=)\S+\s+|--?[A-Za-z][-\w]*\s+)*"
    r"(?P<service>[a-z0-9][-a-z0-9_]*)\s+(?P<inner>.+)$", re.S)
# What a program that runs until stopped prints once it serves, keyed by how it starts.
READY = [
    (r"^celery\b.*\bworker\b", r"ready\."),
    (r"^celery\b.*\bbeat\b", r"beat: Starting"),
    (r"^celery\b.*\bflower\b", r"Visit me at http"),
    (r"^uvicorn\b", r"Application startup complete"),
    (r"^python3? -m aiosmtpd\b", None),  # prints nothing until mail comes: its port opens
    (r"^redis-cli\b.*\b(?i:monitor|p?subscribe)\b", r"^OK|Reading messages"),
]
# The ports a reader's machine uses for what the pages start or talk to.
READER_PORTS = {"uvicorn": 8000, "flower": 5555, "smtp": 1025}
COMMAND_TIMEOUT = 30
TRY_IT = re.compile(r"^## Try it\s*$")

# What each Try it command prints, beyond exiting 0 (`curl -s` exits 0 on a 4xx too): a
# pattern of its command, and what its output must match. A Try it command with no entry
# here fails: a reader is told what to expect, so the test checks it.
PRINTS = [
    (r"/send-email", r'^\{"task_id":"[0-9a-f-]{36}"'),
    (r"/task/0{8}-", r'"status":"PENDING"'),
    (r"etc/passwd", r'^\{"detail":\[\{"type":"string_pattern_mismatch"'),  # 422
    (r"/q27/background/signup", r'^\{"message":"User created"\}$'),
    (r"/q27/celery/signup", r'"task_id":"[0-9a-f-]{36}"'),
    (r"/q27/choosing/action", r'^\{"status":"ok"\}$'),
    (r"/q27/choosing/order", r'^\{"order_id":42\}$'),
    (r"^celery .* inspect registered", r"celery_app\.send_email"),
    (r"^celery .* call celery_app\.cleanup_old_files", r"^[0-9a-f-]{36}$"),
    (r"^celery .* inspect active_queues", r"'name': 'emails'"),
    (r"^celery .* inspect stats", r'"prefetch_count": \d+'),
    (r"^python message_anatomy\.py", r"celery_app\.send_email"),
    (r"^redis-cli -p \d+ SMEMBERS _kombu\.binding\.celery", r"^celery"),
    (r"^redis-cli -p \d+ --scan --pattern 'celery-task-meta-\*'",
     r"\A(celery-task-meta-[0-9a-f-]{36}\n?)*\Z"),  # only results (none yet is fine)
    (r"^redis-cli -p \d+ HLEN unacked", r"\A\d+\Z"),
    # The other Celery pages: what a `celery call` prints is the task's id.
    (r"^(?:\w+=\S+ )*celery -A \w+ call ", r"^[0-9a-f-]{36}$"),
    (r"^python -c \"import canvas; canvas\.demo\(\)\"",
     r"^chain: 16\ngroup: \[0, 1, 4, 9\]\nchord: 14\npartial, immutable: \(12, 10\)$"),
    (r"^python -c \"import limits; ", r"\A\Z"),  # it only sends: the worker's log shows the rate
    (r"^python -c \"import testing_celery as t; print\(t\.invoice_total", r"\A300\Z"),
    (r"^python -c \"import testing_celery as t; t\.app\.conf\.task_always_eager",
     r"\Ainvoice-7\.pdf\Z"),
    (r"^(?:\w+=\S+ )*python broker_choice\.py$", r"\A\Z"),  # it queues; a worker runs them
    # The Databases pages, each against a fresh database of its own.
    (r"^export DATABASE_URL=", r"\A\Z"),
    (r"^python isolation\.py$", r"^balance after two withdrawals of 30 from 100: 70$"),
    (r"^python query_plans\.py$", r"^without an index: .*Seq Scan.*\nwith an index: .*Index"),
    (r"^python n_plus_one\.py$", r"^titles_lazy: \d+ statements\ntitles_selectin: \d+ statements"
                                r"\ntitles_joined: 1 statements$"),
    (r"^python pooling\.py$", r"^after 1\.\d s: QueuePool limit of size 2 overflow 1 reached"),
    (r"^alembic upgrade head --sql$", r"^CREATE TABLE alembic_version"),
    (r"^python zero_downtime\.py$", r"^migrated to 0003$"),
    (r"^alembic current$", r"^0003 \(head\)$"),
    (r"^alembic downgrade base$", r"\A\Z"),
    (r"^python job_queue\.py$", r"^jobs taken: 100, distinct: 100, taken twice: 0$"),
    # The Testing pages.
    (r"^python order_totals\.py$",
     r"^order 1: subtotal 1300 cents, 10% off, total 1170 cents$"),
    (r"^python customer_store\.py$",
     r"^refused: ann@example\.com is taken\n\{'id': \d+, 'email': 'Ann@Example\.com', "
     r"'name': 'Ann Lee'\}$"),
    (r"^python -m pytest -q -s fixture_suite$", r"^created database test_master$"),
    (r"^python -m pytest -q -n 2 fixture_suite$", r"^5 passed"),
    (r"^python -m pytest -q -p randomly --randomly-seed=1618 flaky_suite/test_rates_isolated",
     r"^\d+ passed"),
    (r"^python -m pytest -q -p no:randomly flaky_suite/test_rates_order_dependent", r"^2 passed"),
    (r"^python -m pytest -q flaky_suite/test_trial_clock", r"^2 passed"),
    (r"^python -m pytest -q async_suite$", r"^1 passed"),
    (r"^python -m coverage run --branch -m pytest -q shipping_tests/test_weak\.py$",
     r"^\d+ passed"),
    # No missed line (Miss 0), one partial branch (BrPart 1): 16->18.
    (r"^python -m coverage report -m$", r"^shipping_fee\.py\s+\d+\s+0\s+\d+\s+1\s.*16->18"),
    (r"^mutmut run$", r"(\d+)/\1 +🎉 \d+ .*🙁 [1-9]"),  # all mutants tried, some survived
    (r"^mutmut results$", r"^\s*shipping_fee\.x_shipping_fee__mutmut_\d+: survived$"),
    # The first page of a new section (`make section`), until its example says more.
    (r"^python \w+_basics\.py$", r"\Athe answer\Z"),
]
# The mail a question page's Try it sends, seen by the SMTP server the page starts.
MAIL = {
    "celery/q26-what-is-celery.md": ["reader@example.com"],
    "celery/q27-celery-vs-backgroundtasks.md": ["ada@example.com", "grace@example.com"],
}


@dataclass
class Command:
    file: str
    line: int
    text: str
    how: str = ""  # what ran, when it differs from the text
    service: str = ""  # for docker compose exec
    workdir: Path | None = None  # for docker compose exec -w: the examples folder it names
    rc: int | None = None
    output: str = ""
    seconds: float = 0.0
    first: "Command | None" = None  # the earlier identical command whose run this shares

    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass
class Block:
    file: str  # relative to docs/: a page or a fragment of _includes/
    line: int
    check: str
    reason: str
    commands: list[Command] = field(default_factory=list)
    try_it: bool = False  # in a question page's "Try it"

    @property
    def in_copy(self) -> bool:
        """Run in the Try it's copy (its own app root and Python), not examples/. A block
        delegated to a section's test runs there too: that test checks what it shows, this
        module that a reader's copy runs it."""
        return self.try_it and self.check in ("native", "native-serve", "delegated")

    @property
    def section(self) -> sections.Section | None:
        return section_of(self.file)

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def commands_of(body: str, file: str, line: int, prompts_only: bool = False) -> list[Command]:
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
        found.append(Command(file, n, text.removeprefix("$ ")))
    return found


def declared(info: str) -> tuple[str, str]:
    """(data-check, data-reason) from a fence's info string, '' where absent."""
    check = re.search(r'\bdata-check="([^"]*)"', info)
    reason = re.search(r'\bdata-reason="([^"]*)"', info)
    return (check[1] if check else ""), (reason[1] if reason else "")


def try_it_lines(text: str) -> range | None:
    """The lines (1-based) of a page's "## Try it" section, up to its "### In the sandbox"
    or the next `## ` heading."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines, 1) if TRY_IT.match(line)), None)
    if start is None:
        return None
    end = next((i for i, line in enumerate(lines[start:], start + 1)
                if line.startswith("## ") or line.strip() == "### In the sandbox"),
               len(lines) + 1)
    return range(start, end)


def markdown_files() -> list[str]:
    """Every page and every fragment of _includes/, relative to docs/. Each block is read
    where it is written, so its line is the one an editor opens."""
    fragments = sorted(f"_includes/{p.name}" for p in docs_pages.INCLUDES.glob("*.md"))
    return docs_pages.pages() + fragments


@functools.cache
def shown_blocks() -> tuple[Block, ...]:
    blocks = []
    for file in markdown_files():
        text = (docs_pages.DOCS / file).read_text()
        span = try_it_lines(text)
        for fence in docs_pages.fences(text, file):
            if fence.lang not in SHELL_LANGS:
                continue
            check, reason = declared(fence.info)
            block = Block(file, fence.line, check, reason,
                          commands_of(fence.body, file, fence.line, fence.lang == "console"),
                          try_it=bool(span and fence.line in span))
            if block.commands:
                blocks.append(block)
    return tuple(blocks)


@functools.cache
def section_of(file: str) -> sections.Section | None:
    """The section a page belongs to (its folder in docs/); for a fragment of _includes/, the
    one section of every page that includes it."""
    if not file.startswith("_includes/"):
        return sections.of_path(f"docs/{file}")
    owners = {sections.of_path(f"docs/{page}") for page in docs_pages.pages()
              if f'--8<-- "docs/{file}"' in docs_pages.raw(page)}
    return owners.pop() if len(owners) == 1 else None


def try_it_pages() -> list[str]:
    """Every question page of every section (from the description), then any other page
    with a Try it: each one's Try it runs in a copy."""
    others = [p for p in docs_pages.pages()
              if p not in docs_pages.question_pages() and try_it_lines(docs_pages.raw(p))]
    return docs_pages.question_pages() + others


def try_it_section(page: str) -> str:
    lines = docs_pages.raw(page).split("\n")
    span = try_it_lines("\n".join(lines))
    return "\n".join(lines[span.start - 1: span.stop - 1])


def files_to_take(page: str) -> list[str]:
    """The files (or folders, with a trailing /) a page's Try it tells the reader to take."""
    prose = re.sub(r"```.*?```", "", try_it_section(page), flags=re.S)
    return sorted(set(re.findall(r"`(examples/[\w/.-]+)`", prose)))


def install_of(page: str) -> str:
    """The `pip install` line a page's Try it opens with: its section's generated fragment
    (empty where the section has nothing to install)."""
    section = try_it_section(page)
    first = next(line for line in section.split("\n")[1:] if line.strip())
    m = docs_pages.SNIPPET_LINE.match(first)
    own = section_of(page).install_include.relative_to(ROOT).as_posix()
    assert m and m["path"] == own, (
        f"{page}: Try it must open with its section's install line: --8<-- \"{own}\"")
    file = m["path"].removeprefix("docs/")
    block = next((b for b in shown_blocks() if b.file == file and b.check == "install"), None)
    return block.commands[0].text if block else ""


def split_assignments(text: str) -> tuple[dict[str, str], str]:
    """`A=1 B=2 cmd…` -> ({"A": "1", "B": "2"}, "cmd…")."""
    assignments, rest = ASSIGNMENTS.match(text).groups()
    return dict(a.split("=", 1) for a in assignments.split()), rest


def serves(text: str) -> bool:
    """A program that runs until stopped, by READY's patterns."""
    return any(re.search(pattern, split_assignments(text)[1]) for pattern, _ in READY)


def ready_line(text: str) -> str | None:
    for pattern, ready in READY:
        if re.search(pattern, split_assignments(text)[1]):
            return ready
    raise ValueError(f"no known ready line for {text!r}: add one to READY")


# -- where commands run ------------------------------------------------------------------------
class Context:
    """An app root, its environment, and the reader's ports mapped to private ones."""

    name: str
    root: Path
    redis_port: int | None
    ports: dict[int, int]  # reader's port -> the test's
    volumes: dict[str, Path] = {}
    databases: "Databases | None" = None  # the reader's PostgreSQL, where the section has one

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.lock = threading.Lock()
        self.served: dict[str, tuple[Proc, Command, threading.Event]] = {}

    def env(self, service: str = "") -> dict:
        raise NotImplementedError

    def serve_env(self) -> dict:
        return self.env()

    def env_key(self, service: str = "") -> frozenset:
        """What sets one command's environment apart from another's in this context."""
        return frozenset()

    def localize(self, text: str, page: str = "") -> str:
        def port(m):
            native = self.ports.get(int(m[2]))
            return f"127.0.0.1:{native}" if native else m[0]

        if self.databases:  # the reader's database: a fresh one of the page's own
            text = re.sub(r"\b(?:localhost|127\.0\.0\.1):5432/(\w+)",
                          lambda m: self.databases.address(page, m[1]), text)
        text = re.sub(r"\b(localhost|127\.0\.0\.1):(\d+)\b", port, text)
        if self.redis_port:
            text = re.sub(r"\b(localhost|127\.0\.0\.1):6379\b", f"127.0.0.1:{self.redis_port}",
                          text)
            text = re.sub(r"(\bredis-cli\b[^;&|]*?\s-p\s+)6379\b", rf"\g<1>{self.redis_port}",
                          text)
            text = re.sub(r"(^|[\s;&|(])redis-cli\b(?![^;&|]*\s-p\s)",
                          rf"\g<1>redis-cli -p {self.redis_port}", text)
        for target, folder in self.volumes.items():
            text = re.sub(rf"(?<![\w/]){re.escape(target)}(?![\w-])", str(folder), text)
        return text

    def serve(self, items: list[tuple[Command, str, dict]]) -> None:
        """Start programs that run until stopped, each once per context (a reader's
        terminals, all opened at once), then wait until each one serves."""
        mine, theirs = [], []
        with self.lock:
            for cmd, text, env in items:
                if text in self.served:
                    theirs.append((cmd, self.served[text]))
                    continue
                ready = ready_line(text)
                cmd.how = re.sub(r"(--port[= ])(\d+)\b",
                                 lambda m: f"{m[1]}{self.ports.get(int(m[2])) or free_port()}",
                                 text)
                log = self.workdir / f"serve-{cmd.line}-{time.monotonic_ns()}.log"
                assignments, rest = ASSIGNMENTS.match(cmd.how).groups()
                proc = Proc(["bash", "-c", f"{assignments}exec {rest}"], env, log,
                            cwd=self.root).start()
                self.served[text] = (proc, cmd, threading.Event())
                mine.append((cmd, self.served[text], ready))
        for cmd, (proc, _, done), ready in mine:
            start = time.monotonic()
            try:
                if ready:
                    proc.wait_for_log(ready, 60)
                else:
                    port = int(re.search(r":(\d+)\b", cmd.how)[1])
                    wait_until(lambda p=port, pr=proc: _listening(p, pr), 30,
                               f"{cmd.how!r} to listen")
                cmd.rc, note = 0, f"serving ({ready or 'port open'}); stopped when the module ends"
            except (TimeoutError, RuntimeError) as exc:
                cmd.rc, note = 1, str(exc)[-1500:]
            cmd.seconds = time.monotonic() - start
            cmd.output = f"{note}\n{proc.log[-800:]}"
            done.set()
        for cmd, (_, first, done) in theirs:
            done.wait(90)
            cmd.first = first
            cmd.rc, cmd.output, cmd.how = first.rc, first.output, first.how

    def stop(self) -> None:
        self.stop_served([cmd.how for _, cmd, _ in self.served.values()])

    def stop_served(self, hows: list[str]) -> None:
        procs = [proc for proc, cmd, _ in self.served.values() if cmd.how in hows]
        if procs:
            with ThreadPoolExecutor(len(procs)) as pool:
                list(pool.map(Proc.stop, procs))


def _listening(port: int, proc: Proc) -> bool:
    if proc.proc.poll() is not None:
        raise RuntimeError(f"exited {proc.proc.returncode}:\n{proc.log}")
    return port_open(port)


class StackContext(Context):
    """The image's WORKDIR with the compose file's services run natively."""

    def __init__(self, workdir: Path, stack):
        super().__init__(workdir)
        self.stack, self.name, self.root = stack, "sandbox", SANDBOX_ROOT
        self.redis_port, self.volumes = stack.redis_port, stack.volumes
        self.ports = {}
        for name, service in stack.services.items():
            for port in service.get("ports", []):
                if name in stack.procs:
                    self.ports[int(port["published"])] = stack.native_port(name)

    def env(self, service: str = "") -> dict:
        env = self.stack.env(service if service in self.stack.procs else "worker")
        return {**env, "CELERY_BEAT_SCHEDULE": str(self.workdir / "page-beat-schedule"),
                "UVICORN_PORT": str(free_port()), "FLOWER_PORT": str(free_port())}

    def env_key(self, service: str = "") -> frozenset:
        """The compose environment of the service (the worker's for a plain shell line):
        the rest is the same for every command."""
        name = service if service in self.stack.procs else "worker"
        return frozenset((self.stack.services[name].get("environment") or {}).items())


class Databases:
    """The reader's PostgreSQL (`localhost:5432/<name>`): a fresh database on the private
    cluster for each page and name, so pages run side by side without sharing tables."""

    def __init__(self, server: PostgresServer):
        self.server, self.made, self.lock = server, {}, threading.Lock()

    def address(self, page: str, name: str) -> str:
        """`127.0.0.1:<port>/<database>` for the page's database `name`."""
        key = re.sub(r"\W", "_", f"{name}_{Path(page).stem}").lower()[:63]
        with self.lock:
            if key not in self.made:
                self.made[key] = self.server.create_database(key)
        return f"127.0.0.1:{self.server.port}/{key}"


# A block that forgets to point DATABASE_URL at its database fails here, rather than reach a
# server of the machine's.
UNSET_DATABASE = "postgresql+psycopg://nobody@127.0.0.1:1/unset"


class SectionContext(Context):
    """A section's app root, with the services the section declares: examples/<section>/ and
    the project's Python, or (`copy`: files and install line) a reader's folder, the files a
    page says to take and a Python with only what the section's install line names."""

    def __init__(self, workdir: Path, section: sections.Section, databases: Databases | None,
                 copy: tuple[tuple[str, ...], str] | None = None):
        super().__init__(workdir)
        self.section = section
        if copy:
            files, install = copy
            self.name = f"copy of {', '.join(files)}"
            self.root = workdir / "app"
            self.copied = copy_files(list(files), self.root)
            requirements = parse_install_line(install) if install else []
            self.python = IsolatedEnv(workdir / "venv", requirements).create()
        else:
            self.name, self.root, self.copied, self.python = (
                f"examples/{section.name}/", section.examples, [], None)
        self.redis = (RedisServer(workdir / "redis").start() if "redis" in section.services
                      else None)
        self.redis_port = self.redis.port if self.redis else None
        self.databases = databases if "postgres" in section.services else None
        self.rabbitmq: RabbitMQ | None = None
        self.ports = {port: free_port() for port in READER_PORTS.values()}

    def env(self, service: str = "") -> dict:
        base = {k: v for k, v in untraced().items() if not EXAMPLE_VARS.search(k)}
        if self.python:
            base = self.python.env(base)
        else:
            base["PATH"] = f"{BIN}:{base.get('PATH', '')}"
        # What the reader's machine supplies by default (Redis on 6379, SMTP on 1025,
        # uvicorn's 8000), through the variables the examples and uvicorn read.
        env = {**base, "DATABASE_URL": UNSET_DATABASE,
               "SMTP_PORT": str(self.ports[READER_PORTS["smtp"]]),
               "UVICORN_PORT": str(self.ports[READER_PORTS["uvicorn"]]),
               "FLOWER_PORT": str(self.ports[READER_PORTS["flower"]])}
        if self.redis:
            env["CELERY_BROKER_URL"] = env["CELERY_RESULT_BACKEND"] = (
                f"redis://127.0.0.1:{self.redis_port}/0")
        return env

    def localize(self, text: str, page: str = "") -> str:
        if "rabbitmq" in self.section.services and re.search(
                r"\b(?:localhost|127\.0\.0\.1):5672\b", text):
            self.start_rabbitmq()
        return super().localize(text, page)

    def start_rabbitmq(self) -> None:
        """The reader's RabbitMQ on 5672: a private node, started for the first line that
        names it (a node costs seconds)."""
        with self.lock:
            if self.rabbitmq is None:
                self.rabbitmq = RabbitMQ().start()
                self.ports[5672] = self.rabbitmq.port

    def stop(self) -> None:
        super().stop()
        if self.redis:
            self.redis.stop()
        if self.rabbitmq:
            self.rabbitmq.stop()


# -- running a block -----------------------------------------------------------------------------
@functools.cache
def compose_services() -> frozenset[str]:
    return frozenset(resolved()["services"])


@functools.cache
def config_passes(env: tuple) -> subprocess.CompletedProcess:
    return compose("config", "-q", env=dict(env))


@functools.cache
def compose_accepts(text: str) -> tuple[bool, str, str]:
    """Compose's verdict on a line: config passes, and it fails only for want of an engine."""
    env, rest = split_assignments(text)
    args = shlex.split(COMPOSE.sub("", rest, count=1), comments=True)
    config = config_passes(tuple(sorted(env.items())))
    out = compose(*args, env=env)
    ok = config.returncode == 0 and (out.returncode == 0 or DAEMON_DOWN in out.stderr)
    output = (config.stdout + config.stderr + out.stdout + out.stderr).strip()
    return ok, output, f"docker compose config -q && docker compose {shlex.join(args)}"


def validate_compose(cmd: Command) -> None:
    start = time.monotonic()
    ok, cmd.output, how = compose_accepts(cmd.text)
    cmd.rc, cmd.how, cmd.seconds = (0 if ok else 1), f"validated: {how}", time.monotonic() - start


def image_path(path: str) -> Path:
    """A folder of the sandbox image, as the folder of the project it was copied from
    (the Dockerfile's `COPY examples/ /app/`)."""
    if not (path == "/app" or path.startswith("/app/")):
        raise AssertionError(f"{path}: not a folder the image copies from examples/")
    return docs_pages.ALL_EXAMPLES / path.removeprefix("/app").strip("/")


def dockerfile_workdir() -> Path:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^COPY examples/ /app/$", text, re.M), "the image's /app is examples/"
    return image_path(re.findall(r"^WORKDIR (\S+)$", text, re.M)[-1])


# Where the image's commands run: the app root a `docker compose exec` starts in.
SANDBOX_ROOT = dockerfile_workdir()


def exec_parts(cmd: Command) -> re.Match:
    """`docker compose exec SERVICE inner`, checked by Compose up to the service; `workdir`
    is its `-w`/`--workdir` folder, if any."""
    m = EXEC.match(split_assignments(cmd.text)[1])
    if not m:
        raise ValueError(f"{cmd.where()}: not a `docker compose exec|run SERVICE cmd` line")
    if m["service"] not in compose_services():
        # Compose itself only finds out once it asks the engine for a container.
        raise AssertionError(f"{cmd.where()}: Compose rejects the line: no service "
                             f"{m['service']!r}")
    ok, output, _ = compose_accepts(m[0][: m.start("inner")] + "true")
    if not ok:
        raise AssertionError(f"{cmd.where()}: Compose rejects the line: {output}")
    return m


# Blocks run side by side, but only so many shells at once: the bound on a block is for
# the block's own commands, not for a queue of others starting Pythons on the same cores.
SESSIONS = threading.BoundedSemaphore(max(4, 2 * (os.cpu_count() or 1)))


def run_session(ctx: Context, commands: list[Command]) -> None:
    """Shell and exec commands, in order, in one bash process, as in a reader's terminal."""
    if not commands:
        return
    with SESSIONS:
        run_bash(ctx, commands)


def run_bash(ctx: Context, commands: list[Command]) -> None:
    session_env = ctx.env()
    script = ["exec 2>&1 </dev/null"]
    for i, cmd in enumerate(commands):
        line = cmd.how
        if cmd.service:
            # The service's own environment, from the app root (the image's WORKDIR).
            exports = [f"export {k}={shlex.quote(v)};"
                       for k, v in ctx.env(cmd.service).items()
                       if k not in ("UVICORN_PORT", "FLOWER_PORT") and session_env.get(k) != v]
            cwd = cmd.workdir or ctx.root
            line = f"( {' '.join(exports)} cd {shlex.quote(str(cwd))} && {line} )"
            cmd.how = line
        script += ["__t=$(date +%s.%N)", line,
                   f"printf '\\n@@done {i} %s %s %s\\n' $? $__t $(date +%s.%N)"]
    timeout = COMMAND_TIMEOUT * len(commands)
    proc = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=ctx.root, env=session_env,
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


def run_make_dry(cmd: Command) -> None:
    words = shlex.split(cmd.text, comments=True)
    if words[0] != "make":
        raise AssertionError(f"{cmd.where()}: a dry-run block holds make commands only")
    argv = ["make", "-o", ".venv/.installed", "-n", *words[1:]]
    cmd.how = shlex.join(argv)
    start = time.monotonic()
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=untraced({**environ(), "PATH": f"{BIN}:{os.environ['PATH']}"}))
    cmd.rc, cmd.output = out.returncode, (out.stdout + out.stderr).strip()
    cmd.seconds = time.monotonic() - start


def needs_stack(block: Block) -> bool:
    """A sandbox block, or a native one outside a Try it whose section's app root is the
    image's WORKDIR (or that belongs to no section): the sandbox's services serve it."""
    if block.check.startswith("sandbox"):
        return True
    return (block.check.startswith("native") and not block.in_copy
            and (block.section is None or block.section.examples == SANDBOX_ROOT))


def needs_postgres(blocks: list[Block]) -> bool:
    return any(b.check.startswith(("native", "sandbox")) and b.section
               and "postgres" in b.section.services for b in blocks)


class Runs:
    """Every selected block, run side by side; a test waits for its own block's future."""

    def __init__(self, workdir: Path, blocks: list[Block], clock: Clock,
                 postgres: PostgresServer | None = None):
        self.workdir, self.clock = workdir, clock
        self.postgres = postgres
        self.databases = Databases(postgres) if postgres else None
        self.exit = contextlib.ExitStack()
        # Four at a time, plus one for each Try it chain (which waits on its programs).
        self.pool = ThreadPoolExecutor(4 + len({b.file for b in blocks if b.try_it}))
        self.futures: dict[str, Future] = {}
        self.contexts: dict[tuple, Context] = {}
        self.context_lock = threading.Lock()
        self.shared: dict[tuple, tuple[Command, Future]] = {}
        self.stack = None
        # The Try it copies need no sandbox: they start while the sandbox's services boot.
        self.submit([b for b in blocks if not needs_stack(b)])
        try:
            if any(map(needs_stack, blocks)):
                self.stack = self.exit.enter_context(
                    native_stack(workdir / "stack", clock, traced=False))
                if postgres:
                    # The sandbox's `postgres` is a server of its own, not the reader's
                    # localhost:5432: a page's Try it and its sandbox line may both create
                    # the same database (Q43's test_master) at the same moment.
                    sandbox_postgres = PostgresServer().start()
                    self.exit.callback(sandbox_postgres.stop)
                    self.serve_compose_postgres(sandbox_postgres)
                services = ["worker", "api", "flower"]
                self.stack.start(*services)
                self.stack.wait_all_healthy(*services)
        except BaseException:
            self.close()
            raise
        self.submit([b for b in blocks if needs_stack(b)])

    def serve_compose_postgres(self, server: PostgresServer) -> None:
        """The compose file's `postgres` service (its user, password and database, from
        DATABASE_URL), served by the private cluster: a fresh database owned by that user."""
        from psycopg import sql

        url = urlsplit(self.stack.services["api"]["environment"]["DATABASE_URL"])
        user, name = url.username, url.path.strip("/")
        with server.connect(autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [user]).fetchone():
                # The image's entrypoint makes POSTGRES_USER a superuser (initdb -U).
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN SUPERUSER").format(
                    sql.Identifier(user)))
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(user)))
        self.stack.endpoints[url.hostname] = {url.port: server.port}
        self.clock(f"{url.hostname}: the private PostgreSQL on 127.0.0.1:{server.port} stands "
                   f"for it, with a fresh database {name!r} owned by {user!r}")

    # A copy per distinct (files, install line): pages that say the same share it.
    def copy_context(self, page: str) -> SectionContext:
        files, install = tuple(files_to_take(page)), install_of(page)
        with self.context_lock:
            if (files, install) not in self.contexts:
                ctx = SectionContext(self.workdir / f"copy-{len(self.contexts)}",
                                     section_of(page), self.databases, (files, install))
                self.exit.callback(ctx.stop)
                self.contexts[(files, install)] = ctx
                self.clock(f"{ctx.name}: {len(ctx.copied)} files in an empty folder, a Python "
                           f"with {len(ctx.python.dists)} distributions, Redis on "
                           f"{ctx.redis_port or 'none'}, PostgreSQL on "
                           f"{self.postgres.port if ctx.databases else 'none'}")
            return self.contexts[(files, install)]

    def section_context(self, section: sections.Section) -> SectionContext:
        with self.context_lock:
            if section.name not in self.contexts:
                ctx = SectionContext(self.workdir / f"app-{section.name}", section,
                                     self.databases)
                self.exit.callback(ctx.stop)
                self.contexts[section.name] = ctx
            return self.contexts[section.name]

    def stack_context(self) -> StackContext:
        with self.context_lock:
            if "stack" not in self.contexts:
                ctx = StackContext(self.workdir / "stack-commands", self.stack)
                ctx.workdir.mkdir(parents=True, exist_ok=True)
                self.exit.callback(ctx.stop)
                self.contexts["stack"] = ctx
            return self.contexts["stack"]

    def context(self, block: Block) -> Context:
        if block.in_copy:
            return self.copy_context(block.file)
        return self.stack_context() if needs_stack(block) else self.section_context(block.section)

    def submit(self, blocks: list[Block]) -> None:
        # A question page's Try it runs in order (its programs serve its later blocks);
        # every other block runs on its own.
        chains: dict[str, list[Block]] = {}
        for block in blocks:
            key = block.file if block.in_copy else block.id
            chains.setdefault(key, []).append(block)
        for chain in chains.values():
            futures = [Future() for _ in chain]
            for block, future in zip(chain, futures, strict=True):
                self.futures[block.id] = future
            self.pool.submit(self.run_chain, chain, futures)

    def run_chain(self, chain: list[Block], futures: list[Future]) -> None:
        for block, future in zip(chain, futures, strict=True):
            try:
                self.run_block(block)
                future.set_result(block)
            except BaseException as exc:  # the block's own test reports it
                future.set_exception(exc)

    def share(self, ctx: Context, cmd: Command, service: str = "") -> bool:
        """Whether an identical slow command already ran (or runs) elsewhere: `celery …`
        one-shots cost a Python start and a wait for replies. A `celery … inspect stats`
        typed in a shell and the same through `docker compose exec worker` are one run."""
        text = cmd.how or cmd.text
        if "$" in text or not text.startswith("celery "):
            return False
        key = (ctx.name, ctx.env_key(service), text)
        with self.context_lock:
            if key in self.shared:
                cmd.first = self.shared[key][0]
                return True
            self.shared[key] = (cmd, Future())
        return False

    def finish_shared(self, commands: list[Command]) -> None:
        for cmd in commands:
            for first, future in self.shared.values():
                if first is cmd:
                    future.set_result(cmd)
        for cmd in commands:
            if cmd.first:
                future = next(f for c, f in self.shared.values() if c is cmd.first)
                future.result(timeout=COMMAND_TIMEOUT * 4)
                cmd.rc, cmd.output, cmd.how = cmd.first.rc, cmd.first.output, cmd.first.how

    def run_block(self, block: Block) -> None:
        check = block.check
        if check == "delegated" and block.in_copy:
            # As a reader types it: a program that runs until stopped gets its terminal,
            # every other line runs once the ones before it have.
            ctx = self.context(block)
            for cmd in block.commands:
                cmd.how = ctx.localize(cmd.text, block.file)
                if serves(cmd.how):
                    ctx.serve([(cmd, cmd.how, ctx.serve_env())])
                else:
                    run_session(ctx, [cmd])
            return
        if check in ("install", "delegated", "none"):
            return
        if check == "dry-run":
            for cmd in block.commands:
                run_make_dry(cmd)
            return
        if check == "compose":
            for cmd in block.commands:
                if not COMPOSE.match(split_assignments(cmd.text)[1]):
                    raise AssertionError(f"{cmd.where()}: not a docker compose line")
                validate_compose(cmd)
            return
        ctx = self.context(block)
        if check.endswith("-serve"):
            items = []
            for cmd in block.commands:
                text, env = cmd.text, ctx.serve_env()
                if check == "sandbox-serve":
                    m = exec_parts(cmd)
                    cmd.service, text = m["service"], m["inner"]
                    env = {**ctx.env(cmd.service), "UVICORN_PORT": env["UVICORN_PORT"],
                           "FLOWER_PORT": env["FLOWER_PORT"]}
                items.append((cmd, ctx.localize(text, block.file), env))
            ctx.serve(items)
            if isinstance(ctx, StackContext):
                # The sandbox's own services serve the blocks after it: stop it now.
                ctx.stop_served([cmd.how for cmd in block.commands if not cmd.first])
            return
        session = []
        for cmd in block.commands:
            rest = split_assignments(cmd.text)[1]
            if check == "sandbox" and COMPOSE.match(rest):
                if EXEC.match(rest):
                    m = exec_parts(cmd)
                    cmd.service, cmd.how = m["service"], ctx.localize(m["inner"], block.file)
                    cmd.workdir = image_path(m["workdir"]) if m["workdir"] else None
                else:
                    validate_compose(cmd)
                    continue
            else:
                cmd.how = ctx.localize(cmd.text, block.file)
            if not self.share(ctx, cmd, cmd.service):
                session.append(cmd)
        try:
            run_session(ctx, session)
        finally:
            self.finish_shared(block.commands)

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.exit.close()


def selected_blocks(session) -> list[Block]:
    # A delegated block's own test runs nothing here; its page's copy test runs it.
    wanted = {item.callspec.params["block"].id for item in session.items
              if item.path == Path(__file__) and hasattr(item, "callspec")
              and isinstance(item.callspec.params.get("block"), Block)
              and item.callspec.params["block"].check != "delegated"}
    wanted |= {b.id for b in shown_blocks() for item in session.items
               if item.path == Path(__file__) and hasattr(item, "callspec")
               and item.callspec.params.get("page") == b.file and b.try_it}
    # A Try it block needs its page's blocks before it (the programs they start). A section
    # with a runner of its own has no copy to run here.
    wanted -= {b.id for b in shown_blocks() if b.in_copy and b.section
               and b.section.name in OWN_RUNNER}
    pages = {b.file for b in shown_blocks() if b.id in wanted and b.in_copy}
    return [b for b in shown_blocks() if b.id in wanted or (b.in_copy and b.file in pages)]


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    workdir = tmp_path_factory.mktemp("page-commands")
    clock = Clock("page commands, each block as its fence declares")
    blocks = selected_blocks(request.session)
    postgres = request.getfixturevalue("postgres") if needs_postgres(blocks) else None
    runs = Runs(workdir, blocks, clock, postgres)
    yield runs
    runs.close()
    blocks = [b for b in shown_blocks()
              if b.id in runs.futures or b.check in ("install", "delegated", "none")]
    kinds = {kind: sum(b.check == kind for b in blocks) for kind in sorted(CHECKS)}
    commands = [c for b in blocks for c in b.commands]
    clock(f"{len(commands)} commands in {len(blocks)} blocks, by declared check: "
          + ", ".join(f"{kind} {n}" for kind, n in kinds.items())
          + f"; {sum(c.first is not None for c in commands)} commands share an earlier run")


def report(block: Block, clock) -> None:
    for cmd in block.commands:
        status = f"exit {cmd.rc}"
        if cmd.first:
            status += f", shares the run of {cmd.first.where()}"
        clock(f"{cmd.where()} [{block.check}] {status} ({cmd.seconds:.2f} s): {cmd.text}")
        if cmd.how and cmd.how != cmd.text:
            print(f"{'':14}ran: {cmd.how[:300]}")
        if block.in_copy and block.check == "native":
            print(f"{'':14}printed: {cmd.output[:200]!r}")


BLOCKS = shown_blocks()


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_block(block, runs):
    assert block.check in CHECKS, (
        f"{block.id}: the fence must say how its commands are checked: "
        f'```bash {{data-check="…"}} with one of {sorted(CHECKS)}, not {block.check!r}')
    if block.check in NEED_REASON:
        assert block.reason, f"{block.id}: data-check={block.check!r} needs a data-reason"
    if block.check == "none":
        print(f"not run: {block.id}: {block.reason}")
        return
    if block.check == "delegated":
        test = DELEGATED_TO.search(block.reason)
        assert test and (ROOT / test[1]).is_file(), (
            f"{block.id}: a delegated block's data-reason names the test that runs it")
        return
    if block.check == "install":
        section = sections.get(Path(block.file).stem.removesuffix("-install"))
        assert [c.text for c in block.commands] == [install_line.line(section)], (
            f"{block.id}: stale install line: run `python tools/install_line.py`")
        return
    runs.futures[block.id].result(timeout=COMMAND_TIMEOUT * (len(block.commands) + 2) + 90)
    report(block, runs.clock)
    failures = [c for c in block.commands if c.rc != 0]
    assert not failures, "\n\n".join(
        f"{c.where()}: exit {c.rc}: {c.text}\n  ran: {c.how}\n  output: {c.output[-1500:]}"
        for c in failures)
    if block.in_copy and block.check == "native":
        check_prints(block)


def check_prints(block: Block) -> None:
    """Each command printed what PRINTS says it prints (a program that serves, its ready line)."""
    for cmd in block.commands:
        if serves(cmd.text):
            continue
        expected = [prints for command, prints in PRINTS
                    if re.search(command, cmd.how or cmd.text)]
        assert expected, f"{cmd.where()}: {cmd.text}\n  add what it prints to PRINTS"
        for prints in expected:
            assert re.search(prints, cmd.output, re.M), (
                f"{cmd.where()}: {cmd.text}\n  should print {prints!r}, "
                f"printed:\n{cmd.output[-1500:]}")


# Question pages whose Try it does not yet run as written in a reader's copy, and why: the
# page's text must change (each is expected to fail until it does, and to pass after).
NOT_YET: dict[str, str] = {}
# Sections whose Try it blocks are run as written by a page-command test of their own, against
# servers this runner does not start (HAProxy, s3rver, podman, moto, Prometheus, Unleash), but
# not yet in a reader's copy: their lines start servers in the background (`&`, `kill %1`)
# and name files outside the folder they say to take.
OWN_RUNNER = {"cloud": "tests/cloud/test_page_commands.py",
              "cicd": "tests/cicd/test_page_commands.py"}


def copy_cases() -> list:
    cases = []
    for page in try_it_pages():
        section = page.split("/")[0]
        if section in OWN_RUNNER:
            cases.append(pytest.param(page, marks=pytest.mark.skip(
                reason=f"run as written by {OWN_RUNNER[section]}; not yet in a copy")))
        elif page in NOT_YET:
            cases.append(pytest.param(page, marks=pytest.mark.xfail(reason=NOT_YET[page],
                                                                     strict=True)))
        else:
            cases.append(page)
    return cases


@pytest.mark.slow
@pytest.mark.parametrize("page", copy_cases())
def test_try_it_runs_in_a_copy_with_only_what_the_page_installs(page, runs):
    """The files the page lists, in an empty folder; a Python with only what its section's
    install line names; its Try it commands, in order, against the services its section
    declares (a private Redis, PostgreSQL or RabbitMQ where a line names the reader's) and
    the programs the page starts. What each command prints is checked; here, what arrives
    by mail too."""
    blocks = [b for b in shown_blocks() if b.file == page and b.in_copy]
    assert blocks, f"{page}: a Try it with no command to run"
    for block in blocks:
        runs.futures[block.id].result(timeout=COMMAND_TIMEOUT * (len(block.commands) + 2) + 90)
    ctx = runs.copy_context(page)
    install = install_of(page)
    print(f"\n{page}\n  take: {', '.join(files_to_take(page))} ({len(ctx.copied)} files)"
          f"\n  install: {install}\n  python: {len(ctx.python.dists)} distributions")
    for block in blocks:
        report(block, runs.clock)
    assert files_to_take(page), f"{page}: Try it names no file or folder to take"
    # Nothing but what the page names: every file of the copy is one of them, or in one.
    taken = [ROOT / name for name in files_to_take(page)]
    # (A section's folder lands flat; a folder inside one, under its name.)
    assert all(any(((source if is_app_root(source) else source.parent) / f).is_file()
                   if source.is_dir() else source.name == f for source in taken)
               for f in ctx.copied), ctx.copied
    # Only what the line names: the project's test tools are not there, nor is pip.
    # (The probe is a test tool of the project's that no section's install line names.)
    assert "pytest_timeout" not in install.replace("-", "_"), install
    probe = subprocess.run(["python", "-c", "import pytest_timeout"], cwd=ctx.root,
                           env=ctx.env(), capture_output=True, text=True, timeout=30)
    assert "No module named 'pytest_timeout'" in probe.stderr, probe.stderr
    assert not (ctx.python.bin / "pip").exists()
    failed = [f"{c.where()}: exit {c.rc}: {c.text}\n  {c.output[-800:]}"
              for b in blocks for c in b.commands if c.rc != 0]
    assert not failed, f"{page}: Try it commands failed:\n" + "\n".join(failed)
    for block in blocks:
        check_prints(block)
    smtp = next((proc for text, (proc, _, _) in ctx.served.items() if "aiosmtpd" in text),
                None)
    for address in MAIL.get(page, []):
        assert smtp, f"{page}: its Try it sends mail but starts no SMTP server"
        wait_until(lambda a=address: f"To: {a}" in smtp.log, 30,
                   f"a mail to {address} at the page's SMTP server")
        print(f"  mail to {address}: received by the page's SMTP server")


# -- the parts, without processes ----------------------------------------------------------------
def test_blocks_are_found_in_pages_and_in_fragments():
    blocks = shown_blocks()
    files = {b.file for b in blocks}
    assert {"sandbox.md", "_includes/q26-sandbox.md", "celery/q26-what-is-celery.md"} <= files
    texts = [c.text for b in blocks for c in b.commands]
    assert "docker compose exec redis redis-cli MONITOR" in texts
    assert not any(t.startswith("#") for t in texts)
    # Every fragment with commands is shown on a page.
    pulled = "\n".join(docs_pages.raw(p) for p in docs_pages.pages())
    for file in {b.file for b in blocks if b.file.startswith("_includes/")}:
        assert f'--8<-- "docs/{file}"' in pulled, f"{file}: no page includes it"


def test_every_question_page_opens_its_try_it_with_the_install_line_and_the_files():
    pages = try_it_pages()
    assert set(docs_pages.question_pages()) <= set(pages)
    assert set(NOT_YET) <= set(pages), "NOT_YET names a page without a Try it"
    for page in pages:
        section = section_of(page)
        assert install_of(page) == (install_line.line(section) if section.extra else ""), page
        assert files_to_take(page), f"{page}: Try it names no file or folder to take"
        for name in files_to_take(page):
            assert re.match(r"^examples/[a-z_]+/", name), f"{page}: {name} is not an example"
            assert (ROOT / name).exists(), f"{page}: {name} does not exist"


PIP_INSTALL = re.compile(r"^\s*(?:\$ )?(?:\w+=\S+\s+)*(?:python3? -m )?pip3? install\b", re.M)


def test_no_page_types_a_pip_install_of_its_own():
    """A `pip install` line is written once per section, by tools/install_line.py, into
    docs/_includes/<section>-install.md; a page pulls it in, and never types one."""
    generated = {s.install_include for s in sections.all_sections()}
    typed = [f"{path.relative_to(ROOT)}: {m[0].strip()}"
             for path in sorted(docs_pages.DOCS.rglob("*.md"))
             if not {"source", "hooks"} & set(path.relative_to(docs_pages.DOCS).parts)
             and path not in generated
             for m in PIP_INSTALL.finditer(path.read_text())]
    assert typed == [], "\n".join(typed)
    assert PIP_INSTALL.search('```bash\npip install "sqlalchemy>=2.0"\n```')


def test_every_block_declares_how_it_is_checked():
    problems = [f"{b.id}: data-check={b.check!r}" for b in shown_blocks() if b.check not in CHECKS]
    problems += [f"{b.id}: data-check={b.check!r} without a data-reason" for b in shown_blocks()
                 if b.check in NEED_REASON and not b.reason]
    assert not problems, "\n".join(problems)


def test_declarations_are_read_from_the_fence():
    assert declared('bash {data-check="native"}') == ("native", "")
    assert declared('bash { data-check="none" data-reason="needs a GPU" }') == (
        "none", "needs a GPU")
    assert declared("bash") == ("", "")


def test_the_declaration_stays_on_the_rendered_block():
    md = docs_pages._markdown()
    html = md.convert('```bash {data-check="none" data-reason="needs a GPU"}\necho hi\n```')
    assert '<div class="language-bash highlight" data-check="none" data-reason="needs a GPU">' in (
        html)


def test_the_block_parser_joins_continuations_and_skips_comments():
    body = "# a comment\n\ncurl -s \\\n  http://127.0.0.1:8000/health\n$ docker compose ps\n"
    assert [c.text for c in commands_of(body, "p.md", 1)] == [
        "curl -s http://127.0.0.1:8000/health", "docker compose ps"]
    console = "$ redis-cli PING\nPONG\n$ docker compose \\\n  ps\nNAME  STATUS\n"
    assert [c.text for c in commands_of(console, "p.md", 1, prompts_only=True)] == [
        "redis-cli PING", "docker compose ps"]


def test_the_tools_the_pages_use_are_installed():
    for tool in ("curl", "redis-cli", "sed"):
        assert shutil.which(tool), f"{tool} is missing: add its Debian package to .ci/run"


class FakeContext(Context):
    """Just the mapping of a context, to check the rewrites without processes."""

    def __init__(self):
        self.redis_port = 7001
        self.ports = {8000: 9001, 5555: 9002}
        self.volumes = {"/app/media": Path("/tmp/volumes/media")}


@pytest.mark.parametrize("shown, runs_as", [
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
def test_only_the_readers_values_are_rewritten(shown, runs_as):
    assert FakeContext().localize(shown) == runs_as


def test_exec_into_a_missing_service_fails():
    cmd = Command("p.md", 1, "docker compose exec rabbitmq rabbitmqctl status")
    with pytest.raises(AssertionError, match="Compose rejects the line"):
        exec_parts(cmd)


def test_a_line_compose_does_not_know_fails():
    ok, output, _ = compose_accepts("docker compose up --no-such-flag")
    assert not ok and "no-such-flag" in output


def test_the_modules_import_each_other_as_the_try_it_says():
    """Why the pages say to take the whole folder: api.py mounts Q27's routers, and
    celery_app.py lists Q27's modules in include= (its worker imports them)."""
    import ast

    q27 = {Path(name).stem for name in re.findall(r"examples/celery/(\w+)\.py",
                                                   docs_pages.raw(
                                                       "celery/q27-celery-vs-backgroundtasks.md"))}
    celery = sections.get("celery").examples
    api = ast.parse((celery / "api.py").read_text())
    imported = {alias.name for node in ast.walk(api) if isinstance(node, ast.Import)
                for alias in node.names}
    assert {"signup_background", "signup_celery", "choosing"} <= imported & q27
    app = ast.parse((celery / "celery_app.py").read_text())
    include = next(kw.value for node in ast.walk(app) if isinstance(node, ast.Call)
                   for kw in node.keywords if kw.arg == "include")
    assert {"signup_celery", "choosing"} <= set(ast.literal_eval(include)) & q27


def test_make_docs_leaves_the_readers_ports_free():
    """`make docs` (mkdocs serve, dev_addr in mkdocs.yml) and the reader's programs, in Try it
    or in the sandbox, never want the same port."""
    docs_port = docs_pages.site_config().dev_addr.port
    published = {int(port["published"]) for service in resolved()["services"].values()
                 for port in service.get("ports", [])}
    # Every port a page's command line or a file a reader takes names (Q47's two instances
    # and their balancer, Q51's probes, ...).
    named = re.compile(r"(?:--port[ =]|\b(?:localhost|127\.0\.0\.1):)(\d{2,5})\b")
    in_pages = {int(port) for block in shown_blocks() for cmd in block.commands
                for port in named.findall(cmd.text)}
    in_examples = {int(port) for path in docs_pages.ALL_EXAMPLES.rglob("*")
                   if path.is_file() and path.suffix in (".py", ".cfg", ".yml", ".yaml")
                   for port in named.findall(path.read_text(errors="replace"))}
    assert {8000, 8001, 8080} <= in_pages | in_examples  # the scan finds them
    taken = {*READER_PORTS.values(), 6379, *published, *in_pages, *in_examples}
    assert docs_port not in taken, (docs_port, sorted(taken))
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^docs:.*\n\t\$\(BIN\)/mkdocs serve\s*$", makefile, re.M), (
        "make docs serves on mkdocs.yml's dev_addr, not a port of its own")
