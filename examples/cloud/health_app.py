"""Two health endpoints with two different questions, and a slow request to stop gracefully.

    DATABASE_URL=postgresql://postgres@localhost:5432/guide uvicorn health_app:app --port 8001

- /livez: is this process able to answer at all? Nothing else is checked: a failing
  liveness probe gets the process restarted, and a restart cannot fix a database.
- /readyz: should this instance get traffic now? It checks what a request needs (the
  database), so a load balancer takes the instance out while the database is away and puts
  it back when it returns, with no restart.
"""

import asyncio
import logging
import os

import psycopg
from fastapi import FastAPI
from fastapi.responses import JSONResponse

log = logging.getLogger("uvicorn.error")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://postgres@localhost:5432/guide")
app = FastAPI(title="health")


# --8<-- [start:probes]
@app.get("/livez")
def livez() -> dict:
    return {"status": "alive"}


@app.get("/readyz", responses={503: {"description": "A dependency is unreachable"}})
def readyz() -> JSONResponse:
    try:
        with psycopg.connect(DATABASE_URL, connect_timeout=1) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return JSONResponse({"status": "not ready", "reason": "database unreachable"},
                            status_code=503)
    return JSONResponse({"status": "ready"})
# --8<-- [end:probes]


# --8<-- [start:slow]
@app.get("/report")
async def report(seconds: float = 1.0) -> dict:
    """A slow request: a report that takes `seconds` (at most 10) to build."""
    log.info("report started")
    await asyncio.sleep(min(seconds, 10.0))
    return {"status": "done"}
# --8<-- [end:slow]
