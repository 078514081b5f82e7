"""Shared fixtures: one private Redis, SMTP server, media folder and worker per test process.

Each pytest-xdist process gets its own set, so nothing is shared with the
machine's Redis on 6379 or with another run.
"""

import os
from pathlib import Path

import pytest

from support import celery_procs
from support.proofs import own_broker
from support.redis_server import RedisServer
from support.smtp_sink import SmtpSink
from support.untraced import coverage_paused
from support.waiting import free_port

# The session Redis's address is fixed now, before any test module is imported: importing
# celery_app loads celeryconfig, and Celery prefers these two variables whenever it builds a
# producer pool or a result backend. So nothing in a test process falls back to localhost:6379.
SESSION_REDIS_PORT = free_port()
os.environ["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{SESSION_REDIS_PORT}/0"
os.environ["CELERY_RESULT_BACKEND"] = f"redis://127.0.0.1:{SESSION_REDIS_PORT}/1"


# The longest modules first: pytest-xdist hands out whole modules in collection order, and
# a long module handed out last runs on alone while the other processes have nothing left.
TESTS = Path(__file__).parent
LONGEST_FIRST = ["celery/test_load_tasks.py", "site/test_browser_site.py",
                 "site/test_page_commands.py", "tools/test_benchmark.py",
                 "sandbox/test_sandbox_parity.py"]
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
def redis_server(tmp_path_factory) -> RedisServer:
    server = RedisServer(tmp_path_factory.mktemp("redis"), port=SESSION_REDIS_PORT).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_redis(tmp_path_factory) -> RedisServer:
    """A Redis of the test module's own, for demos that fill, inspect or kill it whole."""
    server = RedisServer(tmp_path_factory.mktemp("module-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def module_env_extra() -> dict[str, str]:
    """Variables a demo module adds to `module_env`: a module overrides this fixture."""
    return {}


@pytest.fixture(scope="module")
def module_env(example_env, module_redis, module_env_extra) -> dict:
    """The example environment on the module's own Redis, for this process too while the
    module runs (support.proofs.own_broker): the demo's app and workers see only that Redis."""
    with own_broker(example_env, module_redis, **module_env_extra) as env:
        yield env


@pytest.fixture(scope="module")
def untraced_module():
    """For a module that runs no example code in this process (it builds the site, drives
    Chromium, or starts the examples as subprocesses, which are measured on their own)."""
    with coverage_paused():
        yield


@pytest.fixture(scope="session")
def smtp() -> SmtpSink:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def example_env(redis_server, smtp, media_dir) -> dict:
    """The environment a reader's shell would have, pointed at the test's own services."""
    env = {
        "CELERY_BROKER_URL": redis_server.url(0),
        "CELERY_RESULT_BACKEND": redis_server.url(1),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "MEDIA_DIR": str(media_dir),
        "EMAIL_RETRY_DELAY": "0",
        "WELCOME_DELAY": "0",
    }
    os.environ.update(env)  # for the API and the client side, in this process
    import celery_app

    app = celery_app.app
    # Celery prefers CELERY_BROKER_URL/CELERY_RESULT_BACKEND from os.environ when it builds
    # its producer pool and its result backend, and then keeps them. Build both now, while
    # os.environ names this Redis: a demo module that later points os.environ at a Redis of
    # its own (support.proofs.own_broker) must not redirect the example app for good.
    assert app.pool.connection.port == redis_server.port
    assert (app.backend.connparams["port"], app.backend.connparams["db"]) == (redis_server.port, 1)
    return {**os.environ, **env, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="session")
def worker(example_env, tmp_path_factory):
    """One real worker (solo pool) consuming celery, emails and images."""
    log = tmp_path_factory.mktemp("logs") / "worker.log"
    proc = celery_procs.worker(example_env, log, "--pool=solo")
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def celery(example_env):
    """The client side: the app as the API process sees it."""
    import celery_app

    return celery_app.app


@pytest.fixture
def client(worker):
    """The real FastAPI app in-process, talking to the real worker."""
    import api
    from fastapi.testclient import TestClient

    with TestClient(api.app) as c:
        yield c
