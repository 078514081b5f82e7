"""Q45: an async FastAPI app on an async PostgreSQL pool, tested with TestClient and with
httpx's AsyncClient; its lifespan run or not; and ten concurrent requests to an endpoint that
awaits its query against one that blocks the event loop."""

import asyncio
import time

import async_reports
import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi.testclient import TestClient
from sqlalchemy import text
from starlette.datastructures import State

from support.includes import write_include
from support.paths import ROOT

pytest_plugins = ["pytester"]

CONCURRENT = 10
NO_POOL = "'State' object has no attribute 'db'"


@pytest.fixture
def app(database_url, monkeypatch):
    """The real app with a fresh app.state, as in a new process: nothing left by an earlier
    test's lifespan."""
    monkeypatch.setattr(async_reports.app, "state", State())
    return async_reports.app


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app")


def test_testclient_runs_the_lifespan_only_inside_with(app):
    with pytest.raises(AttributeError, match=NO_POOL):
        TestClient(app).get("/reports/awaited")
    with TestClient(app) as client:
        assert client.get("/reports/awaited").json()["sessions"] >= 1


def test_async_client_needs_the_lifespan_run_for_it(app):
    async def without():
        async with client_for(app) as client:
            await client.get("/reports/awaited")

    with pytest.raises(AttributeError, match=NO_POOL):
        asyncio.run(without())

    async def with_lifespan():
        async with LifespanManager(app) as manager, client_for(manager.app) as client:
            response = await client.get("/reports/awaited")
            # The test runs in the app's event loop: it can await the app's own pool.
            async with app.state.db.connect() as conn:
                one = (await conn.execute(text("SELECT 1"))).scalar()
        return response, one

    response, one = asyncio.run(with_lifespan())
    assert response.status_code == 200 and response.json()["sessions"] >= 1
    assert one == 1


@pytest.mark.slow
def test_a_blocking_call_makes_concurrent_requests_wait_in_line(app):
    async def burst(path: str) -> float:
        async with LifespanManager(app) as manager, client_for(manager.app) as client:
            # Warm: as many connections open as requests to come (a pool in service).
            await asyncio.gather(*[client.get(path) for _ in range(CONCURRENT)])
            start = time.perf_counter()
            answers = await asyncio.gather(*[client.get(path) for _ in range(CONCURRENT)])
            took = time.perf_counter() - start
        assert [a.status_code for a in answers] == [200] * CONCURRENT
        return took

    awaited = asyncio.run(burst("/reports/awaited"))
    blocking = asyncio.run(burst("/reports/blocking"))
    # Each query sleeps 0.2 s in PostgreSQL: in line, ten take at least 2 s.
    assert blocking >= CONCURRENT * 0.2
    assert blocking > 3 * awaited
    write_include("q45-blocking.md", "\n".join([
        f"| {CONCURRENT} concurrent requests, each a 0.2 s query | Took | |", "|---|---|---|",
        f"| `await conn.execute(...)` (async engine) | {awaited:.2f} s | ×1 |",
        f"| `conn.execute(...)` (sync engine) inside `async def` | {blocking:.2f} s | "
        f"×{blocking / awaited:.1f} |"]))


def test_the_async_suite_passes(app, pytester):
    """examples/testing/async_suite/, as a reader runs it (pytest, with anyio's plugin)."""
    suite = ROOT / "examples" / "testing" / "async_suite" / "test_reports_async.py"
    pytester.makepyfile(test_reports_async=suite.read_text())
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)
