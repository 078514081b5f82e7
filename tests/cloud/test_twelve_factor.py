"""Q50: one artifact started with two environments writes to two databases; a missing setting
stops it at once, by name; secrets stay out of its logs and its tracebacks."""

import subprocess
import sys
import time

import pytest
from twelve_factor import Secret, Settings, load_settings

from support.includes import write_observed
from support.paths import ROOT

CLOUD = ROOT / "examples" / "cloud"
DB_PASSWORD, API_KEY = "pg-Pa55word-4417", "sk_live_7Hq2ZrT9"
OBSERVED: dict[str, str] = {}
ROWS = ["two-envs", "missing", "secrets"]


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    write_observed("q50-observed.md", ROWS, OBSERVED)


def run(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`python twelve_factor.py` from examples/cloud/, with exactly these settings."""
    from support.untraced import environ

    base = {k: v for k, v in environ().items()
            if k not in ("DATABASE_URL", "PAYMENT_API_KEY", "APP_ENV")}
    return subprocess.run([sys.executable, "twelve_factor.py"], cwd=CLOUD, env={**base, **env},
                          capture_output=True, text=True, timeout=60)


def with_password(url: str) -> str:
    return url.replace("postgres@", f"postgres:{DB_PASSWORD}@")  # trust auth ignores it


def test_one_artifact_two_environments_two_databases(postgres):
    urls = {env: postgres.create_database(f"q50_{env}") for env in ("staging", "production")}
    try:
        for env, url in urls.items():
            out = run({"APP_ENV": env, "DATABASE_URL": url, "PAYMENT_API_KEY": API_KEY})
            assert out.returncode == 0, out.stderr
        found = {}
        for env in urls:
            with postgres.connect(f"q50_{env}") as conn:
                found[env] = [r[0] for r in conn.execute("SELECT environment FROM starts")]
    finally:
        for env in urls:
            postgres.drop_database(f"q50_{env}")
    assert found == {"staging": ["staging"], "production": ["production"]}
    OBSERVED["two-envs"] = ("| `twelve_factor.py` started twice, `APP_ENV` and `DATABASE_URL` "
                            f"differing | rows per database: {found} |")


def test_a_missing_setting_stops_the_process_at_once_by_name(postgres):
    t0 = time.monotonic()
    out = run({"DATABASE_URL": postgres.url("postgres")})
    took = time.monotonic() - t0
    assert out.returncode == 1
    assert out.stderr.strip() == "missing required setting: PAYMENT_API_KEY"
    assert "starting with" not in out.stderr  # nothing ran before the check
    assert took < 30
    OBSERVED["missing"] = (f"| Started without `PAYMENT_API_KEY` | exit {out.returncode}, "
                           f"stderr `{out.stderr.strip()}`, nothing else |")


def test_secrets_never_reach_the_logs_or_a_traceback(postgres):
    ok = run({"APP_ENV": "staging", "DATABASE_URL": with_password(postgres.url("postgres")),
              "PAYMENT_API_KEY": API_KEY})
    down = run({"APP_ENV": "staging",
                "DATABASE_URL": f"postgresql+psycopg://postgres:{DB_PASSWORD}@127.0.0.1:1/x",
                "PAYMENT_API_KEY": API_KEY})
    assert ok.returncode == 0 and "starting with Settings(" in ok.stderr
    assert "recorded the start in postgresql+psycopg://postgres:***@" in ok.stderr
    assert down.returncode == 1 and "Traceback" in down.stderr
    assert "OperationalError" in down.stderr  # the failure is there, named
    captured = ok.stdout + ok.stderr + down.stdout + down.stderr
    for secret in (DB_PASSWORD, API_KEY):
        assert secret not in captured
    lines = len(captured.splitlines())
    OBSERVED["secrets"] = ("| One good start, one with the database unreachable (a traceback); "
                           f"{lines} lines of output searched | the password and the API key "
                           "appear 0 times; the settings print as `Secret('**********')` |")


def test_settings_hold_secrets_that_print_as_stars():
    settings = load_settings({"DATABASE_URL": "postgresql://u:pw@h/db", "PAYMENT_API_KEY": "k"})
    assert settings == Settings("development", settings.database_url, settings.payment_api_key)
    assert "pw" not in repr(settings) and "pw" not in str(settings.database_url)
    assert settings.database_url.reveal() == "postgresql://u:pw@h/db"
    assert repr(Secret("k")) == "Secret('**********')"
