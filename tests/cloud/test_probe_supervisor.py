"""Q51: what a liveness probe that looks at the database does: with PostgreSQL down, a
supervisor (the loop a kubelet runs) restarts the app again and again, while the same app
probed on /livez is left alone."""

import sys
from concurrent.futures import ThreadPoolExecutor

import probe_supervisor
import pytest

from support.includes import write_include
from support.paths import ROOT
from support.postgres import halt, resume
from support.waiting import free_port

CLOUD = ROOT / "examples" / "cloud"
SUPERVISED_S = 20  # a restarted uvicorn takes seconds to start on a busy machine


def supervised(liveness: str, seconds: float) -> int:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "health_app:app", "--app-dir", str(CLOUD),
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    base = f"http://127.0.0.1:{port}"
    return probe_supervisor.supervise(argv, base + liveness, seconds, startup_url=base + "/livez",
                                      period=0.3, failures=3)


@pytest.mark.slow
def test_a_liveness_probe_on_the_database_restarts_the_app_again_and_again(
        own_postgres, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", own_postgres.url(driver="postgresql"))
    halt(own_postgres)
    try:
        with ThreadPoolExecutor(2) as pool:
            on_db = pool.submit(supervised, "/readyz", SUPERVISED_S)
            own = pool.submit(supervised, "/livez", SUPERVISED_S)
            restarts = {"/readyz": on_db.result(60), "/livez": own.result(60)}
    finally:
        resume(own_postgres)
    assert restarts["/livez"] == 0
    assert restarts["/readyz"] >= 2, restarts
    write_include("q51-restarts.md", "\n".join([
        "| What the test did | What it observed |", "|---|---|",
        f"| PostgreSQL stopped for {SUPERVISED_S} s; a supervisor restarts the app after 3 failed "
        "liveness "
        f"probes | liveness on `/readyz`: {restarts['/readyz']} restarts; "
        f"on `/livez`: {restarts['/livez']} |"]))
