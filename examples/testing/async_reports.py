"""An async FastAPI app on an async PostgreSQL pool, for Q45: how to test it (TestClient or
httpx's AsyncClient), why its lifespan must run in tests, and what one blocking call inside
`async def` does to every other request.

    uvicorn async_reports:app          # reads DATABASE_URL
"""

import os
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

REPORT = text("SELECT pg_sleep(0.2), count(*) FROM pg_stat_activity")  # a 0.2 s query


def database_url() -> str:
    return os.environ.get("DATABASE_URL", "postgresql+psycopg://postgres@localhost:5432/guide")


# --8<-- [start:lifespan]
@asynccontextmanager
async def lifespan(app: FastAPI):
    """The pools live as long as the app: opened at startup, closed at shutdown."""
    app.state.db = create_async_engine(database_url(), pool_size=10)
    app.state.sync_db = create_engine(database_url(), pool_size=10)  # for the mistake below
    yield
    await app.state.db.dispose()
    app.state.sync_db.dispose()


app = FastAPI(title="Reports", lifespan=lifespan)
# --8<-- [end:lifespan]


# --8<-- [start:endpoints]
@app.get("/reports/awaited")
async def report_awaited(request: Request) -> dict:
    """Awaits the query: the event loop serves other requests meanwhile."""
    async with request.app.state.db.connect() as conn:
        sessions = (await conn.execute(REPORT)).one()[1]
    return {"sessions": sessions}


@app.get("/reports/blocking")
async def report_blocking(request: Request) -> dict:
    """The mistake: a synchronous driver call inside `async def` holds the event loop, and
    every other request of this process waits for it."""
    with request.app.state.sync_db.connect() as conn:
        sessions = conn.execute(REPORT).one()[1]
    return {"sessions": sessions}
# --8<-- [end:endpoints]
