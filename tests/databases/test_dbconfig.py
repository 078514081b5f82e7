"""The section's engine comes from DATABASE_URL, with a local default."""

import dbconfig
from sqlalchemy import text


def test_database_url_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@db.example:6543/x")
    assert dbconfig.database_url() == "postgresql+psycopg://u@db.example:6543/x"
    monkeypatch.delenv("DATABASE_URL")
    assert dbconfig.database_url() == "postgresql+psycopg://postgres@localhost:5432/guide"


def test_make_engine_reaches_the_database_and_passes_options(database_url):
    engine = dbconfig.make_engine(pool_size=2, max_overflow=0)
    try:
        assert engine.url.render_as_string(hide_password=False) == database_url
        assert (engine.pool.size(), engine.pool._max_overflow) == (2, 0)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_database()")).scalar_one() == "test_dbconfig"
            assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()
