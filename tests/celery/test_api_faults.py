"""Every endpoint of every FastAPI app in examples/celery/, under every Redis fault.

One parametrized test, endpoint x fault. The endpoints are read from each app's
routes, so a new endpoint joins the matrix by being added, and fails it until it
has a sample request below. Each app runs as a real uvicorn, never restarted,
against two real redis-servers of the module's own (broker on one port, result
backend on another). A fault takes over a port: nothing listening (refused), a
socket that accepts and never answers (silent, support.blackhole), or Redis
killed and started again while the request is in flight. Each case:

- a warm request first (pooled connections that the fault then breaks),
- the request under the fault: 503 with a JSON message (or the endpoint's own
  success when it does not use the service at fault) within 5 s, never a 500,
  and a 503 the route's OpenAPI document lists,
- the app's /health asked all along, answering within 0.5 s each time,
- the service back: the same request succeeds, in the same process.
"""

import re
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image

from support.blackhole import BlackHole
from support.celery_procs import EXAMPLES
from support.proofs import together
from support.stack import Stack
from support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

ANSWER_WITHIN_S = 5
# /health stays fast while a publish waits: it never waits for the fault (the answer may take
# up to ANSWER_WITHIN_S). On a loaded 2-core machine it has taken up to 1.1 s.
HEALTH_WITHIN_S = 2.0

# The apps, by uvicorn target. The ones left out teach a mistake on purpose; their own
# tests show how each fails, so they are not held to the rule here.
APPS = ["api:app", "load_tasks:api", "blocking_publish:app"]
MISTAKES = {  # each one's own test shows how it fails
    "mistake_two_signups:app": "two POST /signup on one app",
    "mistake_failure_result:app": "the usual GET /task/{id}, which loses the error",
}
MISTAKE_ROUTES = {
    ("blocking_publish:app", "POST", "/async-delay"):
        "`.delay()` on the event loop, without timeouts (tests/celery/test_blocking_publish.py)",
    ("blocking_publish:app", "POST", "/sync-delay-no-timeouts"):
        "`.delay()` in a thread, without timeouts (tests/celery/test_blocking_publish.py)",
}
PROBE = {"api:app": "/health", "load_tasks:api": "/health", "blocking_publish:app": "/fast"}

MAIL = {"to": "matrix@example.com", "subject": "s", "body": "b"}


@dataclass
class Sample:
    """A request an endpoint accepts, the status it answers, and what it does with Redis."""

    json: dict | None = None
    success: int = 200
    queue: str | None = None  # publishes a task to this queue
    reads_results: bool = False  # reads a task's state from the result backend
    path: str | None = None  # for a path with parameters


SAMPLES = {
    ("api:app", "GET", "/health"): Sample(),
    ("api:app", "POST", "/send-email"): Sample(MAIL, 202, "emails"),
    ("api:app", "GET", "/task/{task_id}"): Sample(path=f"/task/{uuid.uuid4()}",
                                                   reads_results=True),
    ("api:app", "POST", "/process-image"): Sample({"name": "matrix.png", "width": 32}, 202,
                                                   "images"),
    ("api:app", "POST", "/q27/background/signup"): Sample({"email": "bg@example.com"}, 201),
    ("api:app", "POST", "/q27/celery/signup"): Sample({"email": "cel@example.com"}, 201, "celery"),
    ("api:app", "POST", "/q27/choosing/action"): Sample(),
    ("api:app", "POST", "/q27/choosing/order"): Sample({"id": 7, "email": "o@example.com"}, 202,
                                                       "celery"),
    ("load_tasks:api", "POST", "/jobs"): Sample({"key": "matrix"}, 202, "celery"),
    ("load_tasks:api", "GET", "/health"): Sample(),
    ("blocking_publish:app", "GET", "/fast"): Sample(),
    ("blocking_publish:app", "GET", "/health"): Sample(),
    ("blocking_publish:app", "POST", "/sync-delay"): Sample(success=202, queue="celery"),
}

FAULTS = ["broker refused", "backend refused", "broker silent", "backend silent",
          "Redis restarted mid-request"]


def load(target: str):
    module, name = target.split(":")
    return getattr(__import__(module), name)


def endpoints(target: str) -> list[tuple[str, str, str]]:
    """Every operation the app's OpenAPI document lists (included routers too)."""
    paths = load(target).openapi()["paths"]
    return [(target, method.upper(), path) for path, operations in paths.items()
            for method in operations]


ENDPOINTS = [e for target in APPS for e in endpoints(target) if e not in MISTAKE_ROUTES]


def test_every_app_in_examples_is_in_the_matrix():
    defined = set()
    for path in Path(EXAMPLES).glob("*.py"):
        for name in re.findall(r"^(\w+) = FastAPI\(", path.read_text(), re.M):
            defined.add(f"{path.stem}:{name}")
    assert defined == set(APPS) | set(MISTAKES)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids="{0[0]} {0[1]} {0[2]}".format)
def test_every_endpoint_has_a_sample_request(endpoint):
    assert endpoint in SAMPLES, f"add a sample request for {endpoint} to SAMPLES"


class Services:
    """The broker's Redis and the result backend's Redis, each on a port a fault can take."""

    def __init__(self, stack: Stack):
        self.redis = {which: stack.redis_server(which) for which in ("broker", "backend")}
        self.holes: list[BlackHole] = []

    def url(self, which: str, db: int) -> str:
        return self.redis[which].url(db)

    def refuse(self, which: str) -> None:
        self.redis[which].kill()

    def silence(self, which: str) -> None:
        self.redis[which].kill()
        self.holes.append(BlackHole(port=self.redis[which].port).__enter__())

    def restore(self) -> None:
        while self.holes:
            self.holes.pop().__exit__()
        for redis in self.redis.values():
            if redis.proc.poll() is not None:
                redis.start()

    def queued(self, queue: str | None) -> int:
        return self.redis["broker"].client(0).llen(queue) if queue else 0

    def stop(self) -> None:
        self.restore()  # the stack stops the servers


@pytest.fixture(scope="module")
def services(own_stack):
    services = Services(own_stack)
    yield services
    services.stop()


@pytest.fixture(scope="module")
def apps(services, own_stack):
    """One uvicorn per app, pointed at the module's two Redis ports for the whole module."""
    Image.new("RGB", (64, 64), "green").save(own_stack.media / "matrix.png")
    env = {"CELERY_BROKER_URL": services.url("broker", 0),
           "CELERY_RESULT_BACKEND": services.url("backend", 1)}
    procs = together(*(lambda t=t: own_stack.uvicorn(t, env=env) for t in APPS))
    yield dict(zip(APPS, procs, strict=True))
    own_stack.stop(*procs)
    for proc in procs:
        # An exception escaping an endpoint is logged by uvicorn under this line.
        assert "Exception in ASGI application" not in proc.log, proc.log


class Probe(threading.Thread):
    """Asks the app's Redis-free route again and again, timing each answer."""

    def __init__(self, http: httpx.Client, path: str):
        super().__init__(daemon=True)
        self.http, self.path = http, path
        self.latencies: list[float] = []
        self.statuses: set[int | str] = set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            started = time.monotonic()
            try:
                self.statuses.add(self.http.get(self.path).status_code)
            except httpx.HTTPError as exc:
                self.statuses.add(type(exc).__name__)
            self.latencies.append(time.monotonic() - started)
            self.done.wait(0.02)  # pacing, not waiting for anything


def call(http: httpx.Client, method: str, sample: Sample, route: str) -> tuple[httpx.Response,
                                                                             float]:
    started = time.monotonic()
    response = http.request(method, sample.path or route, json=sample.json)
    return response, time.monotonic() - started


def documented(target: str, method: str, route: str) -> set[int]:
    operation = load(target).openapi()["paths"][route][method.lower()]
    return {int(status) for status in operation["responses"]}


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids="{0[0]} {0[1]} {0[2]}".format)
def test_endpoint_under_fault(apps, services, endpoint, fault):
    target, method, route = endpoint
    sample = SAMPLES[endpoint]
    proc = apps[target]
    with httpx.Client(base_url=proc.url, timeout=3 * ANSWER_WITHIN_S) as http:
        warm, _ = call(http, method, sample, route)
        assert warm.status_code == sample.success, warm.text

        probe = Probe(http, PROBE[target])
        probe.start()
        try:
            if fault == "Redis restarted mid-request":
                for redis in services.redis.values():
                    redis.kill()
                restarter = threading.Timer(0.2, services.restore)
                restarter.start()
                response, elapsed = call(http, method, sample, route)
                restarter.join()
            else:
                which, how = fault.split()
                queued_before = services.queued(sample.queue)
                (services.refuse if how == "refused" else services.silence)(which)
                response, elapsed = call(http, method, sample, route)
        finally:
            probe.done.set()
            probe.join(5)
            services.restore()

        status = response.status_code
        if fault == "Redis restarted mid-request":
            # Redis is back 0.2 s into the request: either answer is honest.
            expected = {sample.success, 503} if sample.queue or sample.reads_results else {
                sample.success}
        elif which == "broker":
            expected = {503} if sample.queue else {sample.success}
        elif sample.reads_results:
            expected = {503}
        elif sample.queue:
            # The send subscribes to the result channel, then publishes. A warm subscriber
            # only logs the backend's failure and the publish goes through: then the task
            # must really be in the queue.
            expected = {503, sample.success}
            if status == sample.success:
                assert services.queued(sample.queue) == queued_before + 1
        else:
            expected = {sample.success}
        assert status in expected, (status, response.text)
        assert response.headers["content-type"] == "application/json"
        if status == 503:
            assert "unavailable, try again later" in response.json()["detail"]
            assert 503 in documented(target, method, route)
        assert elapsed < ANSWER_WITHIN_S, elapsed
        assert probe.statuses <= {200}, probe.statuses
        slowest = max(probe.latencies, default=0.0)
        assert slowest < HEALTH_WITHIN_S, slowest

        # The service is back: the same process answers as before the fault.
        started = time.monotonic()
        recovered = wait_until(lambda: (r := call(http, method, sample, route)[0]).status_code
                               == sample.success and r, 10, f"{method} {route} to recover")
        recovery = time.monotonic() - started
        print(f"MATRIX | {target} | {method} {route} | {fault} | {status} | "
              f"{elapsed:.2f} s | probe max {slowest:.3f} s x{len(probe.latencies)} | "
              f"recovered {recovered.status_code} in {recovery:.2f} s")
