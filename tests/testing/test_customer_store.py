"""Q42: one repository tested three ways (a mock, SQLite, the real PostgreSQL), then three
bugs planted in it that only a database can reveal, and what each way caught."""

from unittest import mock

import customer_store
import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError

from support.includes import write_include
from support.planted import planted

# The three bugs: each a one-line change that a database decides, not Python.
BUGS = {
    "unique": ("unique=True", "unique=False"),  # the index that makes an address unique dropped
    "case": ("func.lower(customers.c.email) == email.lower()",  # LIKE, "case-insensitive"
             "customers.c.email.like(email)"),
    "length": ('Column("name", String(NAME_MAX)', 'Column("name", String(30)'),  # column < rule
}
WAYS = ("mock", "sqlite", "postgresql")


def mock_checks(store) -> None:
    """The tests as written against a mock connection: the calls, and what the code does with
    the rows the mock hands back."""
    conn = mock.MagicMock()
    conn.execute.return_value.scalar_one.return_value = 7
    assert store.add_customer(conn, "Ann@Example.com", "Ann Lee") == 7
    sent = conn.execute.call_args.args[0].compile().params
    assert (sent["email"], sent["name"]) == ("Ann@Example.com", "Ann Lee")

    conn = mock.MagicMock()
    conn.execute.side_effect = IntegrityError("INSERT", {}, Exception("duplicate key"))
    with pytest.raises(store.CustomerExists):
        store.add_customer(conn, "ann@example.com", "Ann")

    conn = mock.MagicMock()
    conn.execute.return_value.first.return_value._asdict.return_value = {"id": 7}
    assert store.find_customer(conn, "ANN@example.com") == {"id": 7}

    conn = mock.MagicMock()
    with pytest.raises(store.InvalidCustomer):
        store.add_customer(conn, "bo@example.com", "B" * (store.NAME_MAX + 1))
    conn.execute.assert_not_called()


def database_checks(store, url: str) -> None:
    """The same behaviour asked of a database: SQLite in memory, or the real PostgreSQL."""
    engine = create_engine(url)
    try:
        store.metadata.drop_all(engine)
        store.metadata.create_all(engine)
        with engine.begin() as conn:
            ann = store.add_customer(conn, "Ann@Example.com", "Ann Lee")
            assert store.find_customer(conn, "ann@EXAMPLE.com")["id"] == ann
            with pytest.raises(store.CustomerExists):
                store.add_customer(conn, "ann@example.com", "Ann again")
            longest = "Ö" * store.NAME_MAX
            bo = store.add_customer(conn, "bo@example.com", longest)
            assert store.find_customer(conn, "bo@example.com") == {
                "id": bo, "email": "bo@example.com", "name": longest}
            with pytest.raises(store.InvalidCustomer):
                store.add_customer(conn, "cy@example.com", "C" * (store.NAME_MAX + 1))
    finally:
        store.metadata.drop_all(engine)
        engine.dispose()


def check(way: str, store, database_url: str) -> None:
    if way == "mock":
        mock_checks(store)
    else:
        database_checks(store, "sqlite://" if way == "sqlite" else database_url)


@pytest.mark.parametrize("way", WAYS)
def test_the_correct_repository_passes_every_way(way, database_url):
    check(way, customer_store, database_url)


def caught(way: str, store, database_url: str) -> bool:
    try:
        check(way, store, database_url)
    except (Exception, pytest.fail.Exception):  # an assertion or an error: the test went red
        return True
    return False


def test_only_the_real_database_catches_all_three_bugs(database_url, tmp_path):
    catches = {way: [] for way in WAYS}
    for bug, (find, replace) in BUGS.items():
        with planted(tmp_path / bug, "examples/testing/customer_store.py", find,
                     replace) as store:
            for way in WAYS:
                if caught(way, store, database_url):
                    catches[way].append(bug)
    assert catches == {"mock": [], "sqlite": ["unique"],
                       "postgresql": ["unique", "case", "length"]}
    write_include("q42-catches.md", "\n".join(
        ["| Planted bug | `unittest.mock` | SQLite | PostgreSQL |", "|---|---|---|---|"]
        + [f"| {bug} | " + " | ".join("caught" if bug in catches[way] else "missed"
                                      for way in WAYS) + " |" for bug in BUGS]
        + ["| **bugs caught** | " + " | ".join(f"**{len(catches[way])}/{len(BUGS)}**"
                                               for way in WAYS) + " |"]))


def test_main_adds_refuses_and_finds(database_url, capsys):
    customer_store.main()
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "refused: ann@example.com is taken"
    assert out[1] == "{'id': 1, 'email': 'Ann@Example.com', 'name': 'Ann Lee'}"
