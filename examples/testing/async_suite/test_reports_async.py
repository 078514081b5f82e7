"""Testing the async app from async tests: httpx's AsyncClient on the app, its lifespan run by
asgi-lifespan, all in the test's own event loop (anyio's pytest plugin runs the tests)."""

import asyncio

import httpx
import pytest
from asgi_lifespan import LifespanManager
from async_reports import app
from sqlalchemy import text


# --8<-- [start:client]
@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def client():
    """The app with its startup run (its pools open) and shut down after the test."""
    async with (LifespanManager(app) as manager,
                httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app),
                                  base_url="http://app") as client):
        yield client


@pytest.mark.anyio
async def test_concurrent_reports_share_the_pool(client):
    answers = await asyncio.gather(*[client.get("/reports/awaited") for _ in range(3)])
    assert [a.status_code for a in answers] == [200, 200, 200]
    # Same event loop as the app: the test may await the app's own pool.
    async with app.state.db.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar() == 1
# --8<-- [end:client]
