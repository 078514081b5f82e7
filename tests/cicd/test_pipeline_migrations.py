"""Q55: migrations in the pipeline, on the Databases section's revisions (0001 customers,
0002 expand: a nullable email, 0003 contract: NOT NULL), with the app's two releases serving
meanwhile. Every figure is counted from real requests and rows."""

import threading

import httpx
import pipeline_migrations
import pytest
from deploy_strategies import RuntimeAPI, rolling_update
from sqlalchemy import create_engine, inspect, text
from zero_downtime import table_locks

from support.includes import write_observed
from support.load import run_load
from support.waiting import wait_until

from .conftest import load_during, migrate

pytestmark = pytest.mark.slow
OBSERVED: dict[str, str] = {}
ROWS = ["order", "too_early", "app_rollback", "downgrade", "race", "locked"]
WRITE = "/customers?name=load&email=load@example.com"


@pytest.fixture
def fresh(postgres, monkeypatch, request):
    """A database of the test's own, at Q39's revision 0001; DATABASE_URL points at it."""
    url = postgres.create_database(request.node.name[:60])
    monkeypatch.setenv("DATABASE_URL", url)
    migrate(url, "0001", monkeypatch)
    yield url
    postgres.drop_database(request.node.name[:60])


def record(key: str, what: str, seen: str) -> None:
    OBSERVED[key] = f"| {what} | {seen} |"
    write_observed("q55-observed.md", ROWS, OBSERVED)


def scalar(url: str, sql: str):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def columns(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        return [c["name"] for c in inspect(engine).get_columns("customers")]
    finally:
        engine.dispose()


def test_migrate_then_deploy_while_release_1_serves_fails_no_request(fresh, releases, balancer):
    old = {"s1": releases("1", fresh), "s2": releases("1", fresh)}
    lb = balancer([old["s1"].port, old["s2"].port])
    api = RuntimeAPI(str(lb.socket_path))

    def pipeline():
        expand = pipeline_migrations.migrate("upgrade", "0002").returncode  # the schema first
        rolling_update(api, ["s1", "s2"],  # then the release that writes the new column
                       lambda s: old[s].kill() or releases("2", fresh, port=old[s].port))
        return expand

    expand, result = load_during(lb.url + WRITE, pipeline)
    assert expand == 0
    assert result.failed == 0, result
    written = scalar(fresh, "SELECT count(email) FROM customers")
    assert 0 < written < result.sent  # release 1 wrote without, release 2 with an email
    record("order", "Expand (0002), then a rolling deploy of release 2, under steady writes",
           f"{result.failed} failed of {result.sent}; release 2 wrote {written} of them "
           "with an email")


def test_contracting_while_release_1_still_writes_fails_its_writes(fresh, releases, monkeypatch):
    migrate(fresh, "0002", monkeypatch)
    v1 = releases("1", fresh)
    assert pipeline_migrations.migrate("upgrade", "0003").returncode == 0  # contract: NOT NULL
    url = f"http://127.0.0.1:{v1.port}{WRITE}"
    result = run_load(url, requests=50, concurrency=2, method="POST", deadline=30)
    assert result.statuses == {503: 50}
    answer = httpx.post(url).json()
    assert answer == {"detail": "release 1: NotNullViolation"}
    v2 = releases("2", fresh)
    after = run_load(f"http://127.0.0.1:{v2.port}{WRITE}", requests=50, concurrency=2,
                     method="POST", deadline=30)
    assert after.statuses == {201: 50}
    record("too_early", "Contract (0003) while release 1 still serves, 50 writes",
           f"{result.failed} of 50 failed: `{answer['detail']}`; release 2 then 0 of 50")


def test_rolling_back_only_the_app_after_an_expand_works(fresh, releases, monkeypatch):
    migrate(fresh, "0002", monkeypatch)
    v2 = releases("2", fresh)
    run_load(f"http://127.0.0.1:{v2.port}{WRITE}", requests=20, method="POST", deadline=30)
    v2.stop()
    v1 = releases("1", fresh)  # the rollback: the previous release, the schema left expanded
    result = run_load(f"http://127.0.0.1:{v1.port}{WRITE}", requests=50, concurrency=2,
                      method="POST", deadline=30)
    assert result.statuses == {201: 50}
    kept = scalar(fresh, "SELECT count(email) FROM customers")
    assert kept == 20
    record("app_rollback", "Release 2 writes 20 rows, then release 1 comes back "
           "(schema stays at 0002), 50 writes", f"{result.failed} failed; the {kept} emails kept")


def test_a_downgrade_after_release_2_wrote_data_loses_it(fresh, releases, monkeypatch):
    migrate(fresh, "0002", monkeypatch)
    v2 = releases("2", fresh)
    run_load(f"http://127.0.0.1:{v2.port}{WRITE}", requests=40, method="POST", deadline=30)
    before = scalar(fresh, "SELECT count(email) FROM customers")
    down = pipeline_migrations.migrate("downgrade", "0001")
    assert down.returncode == 0, down.stderr
    assert "email" not in columns(fresh)
    assert pipeline_migrations.migrate("upgrade", "0002").returncode == 0  # roll forward again
    after = scalar(fresh, "SELECT count(email) FROM customers")
    rows = scalar(fresh, "SELECT count(*) FROM customers")
    assert (before, after, rows) == (40, 0, 40)
    record("downgrade", "Release 2 writes 40 rows with an email; `alembic downgrade 0001`, "
           "then upgrade again", f"{before} emails before, {after} after: the column was "
           f"dropped with its data ({rows} rows remain, without it)")


def waiting(conn) -> int:
    """Sessions waiting for a lock: at alembic_version, or for an advisory lock."""
    at_table = [g for _, _, g in table_locks(conn, "alembic_version")].count(False)
    advisory = conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                 "AND NOT granted")).scalar()
    return at_table + advisory


def two_pipelines(url: str, run) -> list:
    """Start two pipelines' migration steps at once and hold them until both wait: each at
    its first look at alembic_version, or the second for the first's advisory lock. Then
    release them together."""
    engine = create_engine(url)
    results = [None, None]
    try:
        with engine.connect() as blocker:
            blocker.execute(text("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE"))
            threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, run()))
                       for i in range(2)]
            for t in threads:
                t.start()
            with engine.connect() as watcher:
                wait_until(lambda: waiting(watcher) == 2, 60, "both pipelines waiting")
            blocker.rollback()  # releases the table: both go on at once, unless one waits
            # for the other's advisory lock
        for t in threads:
            t.join(120)
    finally:
        engine.dispose()
    return results


def bare_pipeline():
    return pipeline_migrations.alembic("upgrade", "0002")


def locked_pipeline():
    return pipeline_migrations.migrate("upgrade", "0002")


def test_two_pipelines_migrating_at_once_fail_an_advisory_lock_serialises_them(fresh):
    bare = two_pipelines(fresh, bare_pipeline)
    codes = sorted(r.returncode for r in bare)
    assert codes[0] == 0 and codes[1] != 0
    failed = next(r for r in bare if r.returncode)
    assert 'column "email" of relation "customers" already exists' in failed.stderr
    record("race", "Two pipelines run `alembic upgrade 0002` at the same moment",
           "one succeeds, the other fails: `DuplicateColumn`")
    assert pipeline_migrations.alembic("downgrade", "0001").returncode == 0
    locked = two_pipelines(fresh, locked_pipeline)
    assert [r.returncode for r in locked] == [0, 0], [r.stderr for r in locked]
    assert columns(fresh).count("email") == 1
    record("locked", "The same, each under `pg_advisory_lock`",
           "both succeed: the second waits, then finds 0002 applied")


def test_main_runs_alembic_under_the_lock_and_prints_what_it_says(fresh, capsys):
    assert pipeline_migrations.main(["upgrade", "0002"]) == 0
    assert pipeline_migrations.main(["current"]) == 0
    assert capsys.readouterr().out.split() == ["0002"]
