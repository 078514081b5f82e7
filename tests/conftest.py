"""Shared fixtures, all built on support.stack: the session's stack and worker, a module's own
stack, and stacks a test makes for itself.

Each pytest-xdist process gets its own session stack, so nothing is shared with the
machine's Redis on 6379 or with another run.
"""

import re
import sys
from pathlib import Path

import pytest
import sections

from support.postgres import PostgresServer
from support.stack import Stack, preset_environment
from support.untraced import COVERAGE_VARS, coverage_paused

# Each section's app root on sys.path, from the one description of the sections: a test imports
# an example by its plain name, as the section's worker and a reader's shell do. A name that two
# sections share, or that shadows the standard library or an installed package, would import the
# wrong module without a word, so it stops the run here (tests/tools/test_sections.py shows it).
CLASHES = sections.clashes()
if CLASHES:
    raise pytest.UsageError("example modules that would shadow each other:\n" + "\n".join(CLASHES))
sys.path[:0] = [str(s.examples) for s in sections.all_sections()]


# Before any test module imports an example: see support.stack on Celery and os.environ.
SESSION_REDIS_PORT = preset_environment()
# What the session's worker shortens (support.launch): send_email retries at once, and the
# welcome mail skips its stand-in for slow work.
FAST = {"celery_app.send_email.default_retry_delay": 0, "signup_celery.SLOW_WORK_SECONDS": 0}


# The longest modules first: pytest-xdist hands out whole modules in collection order, and
# a long module handed out last runs on alone while the other processes have nothing left.
# Every module over 20 s in strict duration order was tried: 554 and 565 s of pytest, against
# 492 to 559 s with this list, which is inside the machine's noise from run to run.
TESTS = Path(__file__).parent
LONGEST_FIRST = ["celery/test_load_tasks.py", "celery/test_broker_choice.py",
                 "site/test_browser_site.py", "site/test_page_commands.py",
                 "site/test_diagrams.py", "celery/test_api_faults.py",
                 "celery/test_pools.py",
                 "tools/test_benchmark.py", "sandbox/test_sandbox_parity.py"]
assert all((TESTS / name).exists() for name in LONGEST_FIRST), LONGEST_FIRST


def pytest_configure(config):
    # Programs from the system (tools/system-deps: Redis, Chromium, ...): `make test` installs
    # them first. A bare `pytest` without them stops here, with the command to run, instead
    # of failing test after test.
    if hasattr(config, "workerinput"):
        return  # an xdist worker: the controller checked
    import subprocess

    check = subprocess.run([str(TESTS.parent / "tools" / "system-deps"), "check"],
                           capture_output=True, text=True, timeout=30)
    if check.returncode:
        pytest.exit(check.stderr.strip(), returncode=4)


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.relative_to(TESTS).as_posix(), len(rank)))


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """The session's stack: a private Redis (db 0 broker, db 1 results), SMTP sink and media
    folder. This process runs on it (os.environ, and celery_app's app bound to it), as the
    API in a TestClient and a reader's client code do."""
    import celery_app

    stack = Stack(tmp_path_factory.mktemp("stack"), redis_port=SESSION_REDIS_PORT)
    try:
        with stack.exported():
            stack.bind(celery_app.app)
            stack.redis  # noqa: B018 (started now: the example app may publish at once)
            yield stack
    finally:
        stack.close()


@pytest.fixture(scope="session")
def worker(stack):
    """The session's worker: `celery -A celery_app worker -Q celery,emails,images`, solo pool."""
    return stack.worker("celery_app", "-Q", "celery,emails,images", "--pool=solo",
                        settings=FAST)


@pytest.fixture(scope="session")
def quick_background():
    """BackgroundTasks in this process (the API in a TestClient) skip the welcome mail's
    stand-in for slow work, as the session's worker does."""
    import signup_background

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(signup_background, "SLOW_WORK_SECONDS", 0)
        yield


@pytest.fixture
def client(worker, quick_background):
    """The real FastAPI app in-process, talking to the real worker."""
    import api
    from fastapi.testclient import TestClient

    with TestClient(api.app) as c:
        yield c


@pytest.fixture(scope="module")
def own_stack(stack, tmp_path_factory):
    """A stack with a Redis and a media folder of the module's own, for demos that kill,
    flush or fill them; the SMTP sink is the session's."""
    own = Stack(tmp_path_factory.mktemp("own-stack"), smtp=stack.smtp)
    try:
        yield own
    finally:
        own.close()


@pytest.fixture
def make_stack(stack, tmp_path):
    """`make_stack(**options)`: a fresh Stack (see its arguments), closed after the test; its
    SMTP sink is the session's unless `smtp=` says otherwise."""
    made: list[Stack] = []

    def make(**options) -> Stack:
        options.setdefault("smtp", stack.smtp)
        made.append(Stack(tmp_path / f"stack-{len(made)}", **options))
        return made[-1]

    try:
        yield make
    finally:
        for each in made:
            each.close()


@pytest.fixture(scope="module")
def untraced_module():
    """For a module that runs no example code in this process (it builds the site, drives
    Chromium, or starts the examples as subprocesses, which are measured on their own)."""
    with coverage_paused():
        yield


@pytest.fixture(scope="session")
def postgres() -> PostgresServer:
    """One private PostgreSQL per test process (support.postgres), for every section."""
    server = PostgresServer().start()
    print(f"private PostgreSQL on 127.0.0.1:{server.port}, ready in {server.started_in:.2f} s")
    yield server
    cpu = server.cpu_seconds()
    print(f"\nprivate PostgreSQL used {cpu:.1f} CPU-s" if cpu is not None else "")
    server.stop()


@pytest.fixture(scope="module")
def database_url(request, postgres, monkeypatch_module) -> str:
    """A fresh database named after the test module; DATABASE_URL points at it meanwhile."""
    name = re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1]).lower()
    url = postgres.create_database(name)
    monkeypatch_module.setenv("DATABASE_URL", url)
    yield url
    postgres.drop_database(name)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def untraced_children(monkeypatch_module):
    """For a module whose Python children run tools (pip, cyclonedx-py, a nested pytest), not
    example code the suite does not already measure: coverage in them would only slow them
    down (the tracer costs every call)."""
    for name in COVERAGE_VARS:
        monkeypatch_module.delenv(name, raising=False)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright (support.site.launch), for a module's tests."""
    from playwright.sync_api import sync_playwright

    from support.site import launch

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
