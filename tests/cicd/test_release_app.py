"""The app both deploy pages move around: release 1 writes names, release 2 names and emails,
and a statement the database refuses is a 503 naming the error, never a 500."""

import importlib

import pytest
from fastapi.testclient import TestClient

from .conftest import migrate


@pytest.fixture(scope="module")
def expanded(database_url, monkeypatch_module):
    migrate(database_url, "0002", monkeypatch_module)
    return database_url


def release(version: str, monkeypatch):
    import release_app

    monkeypatch.setenv("APP_VERSION", version)
    module = importlib.reload(release_app)  # the version and the engine are read at import
    return module, TestClient(module.app)


@pytest.mark.parametrize("version, stored", [("1", None), ("2", "ada@example.com")])
def test_each_release_writes_what_it_knows(expanded, monkeypatch, version, stored):
    module, client = release(version, monkeypatch)
    assert client.get("/health").json() == {"status": "ok", "version": version}
    answer = client.post("/customers", params={"name": "ada", "email": "ada@example.com"})
    assert answer.status_code == 201 and answer.json()["version"] == version
    with module.engine.connect() as conn:
        email = conn.exec_driver_sql("SELECT email FROM customers WHERE id = %(id)s",
                                     {"id": answer.json()["id"]}).scalar_one()
    assert email == stored
    module.engine.dispose()


def test_release_2_on_a_schema_without_the_column_answers_503(postgres, monkeypatch):
    behind = postgres.create_database("release_app_not_expanded")
    migrate(behind, "0001", monkeypatch)
    monkeypatch.setenv("DATABASE_URL", behind)
    module, client = release("2", monkeypatch)
    answer = client.post("/customers", params={"name": "ada", "email": "ada@example.com"})
    assert (answer.status_code, answer.json()) == (
        503, {"detail": "release 2: UndefinedColumn"})
    assert "503" in module.app.openapi()["paths"]["/customers"]["post"]["responses"]
    module.engine.dispose()
    postgres.drop_database("release_app_not_expanded")
