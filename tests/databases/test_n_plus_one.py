"""Q37: statements counted by an event listener, for lazy loading and the two eager loaders."""

import re

import n_plus_one
import pytest
from n_plus_one import count_statements
from sqlalchemy import exc, select
from sqlalchemy.orm import Session, joinedload

from support.includes import write_include

AUTHORS, BOOKS_EACH = 10, 3
EXPECTED = {f"author {a}": [f"book {a}.{b}" for b in range(BOOKS_EACH)] for a in range(AUTHORS)}
OBSERVED: dict[str, list[str]] = {}


@pytest.fixture(scope="module", autouse=True)
def seeded(engine):
    n_plus_one.seed(engine, AUTHORS, BOOKS_EACH)
    yield
    if len(OBSERVED) == 3:
        rows = [f"| `{name}` | {len(sent)} | `{first_line(sent[-1])}` |"
                for name, sent in OBSERVED.items()]
        write_include("q37-counts.md", "\n".join(
            [f"| {AUTHORS} authors, {BOOKS_EACH} books each | Statements sent | The last one |",
             "|---|---|---|", *rows]))


def first_line(statement: str) -> str:
    one = " ".join(statement.split())
    return one if len(one) <= 90 else one[:87] + "..."


@pytest.mark.parametrize("loader, statements", [
    ("titles_lazy", AUTHORS + 1),
    ("titles_selectin", 2),
    ("titles_joined", 1),
])
def test_statements_per_loader(engine, loader, statements):
    with Session(engine) as session, count_statements(engine) as sent:
        assert getattr(n_plus_one, loader)(session) == EXPECTED
    assert len(sent) == statements
    if loader == "titles_lazy":  # one per author, each with its own author_id
        assert all(re.search(r"FROM books\s+WHERE %\(param_1\)s::INTEGER = books.author_id", s)
                   for s in sent[1:])
    if loader == "titles_selectin":
        assert "books.author_id IN" in sent[1]
    if loader == "titles_joined":
        assert "LEFT OUTER JOIN books" in sent[0]
    OBSERVED[loader] = sent


def test_lazy_loading_grows_with_the_rows_eager_loading_does_not(engine):
    n_plus_one.seed(engine, authors=25, books_each=1)
    try:
        counts = {}
        for loader in ("titles_lazy", "titles_selectin", "titles_joined"):
            with Session(engine) as session, count_statements(engine) as sent:
                getattr(n_plus_one, loader)(session)
            counts[loader] = len(sent)
        assert counts == {"titles_lazy": 26, "titles_selectin": 2, "titles_joined": 1}
    finally:
        n_plus_one.seed(engine, AUTHORS, BOOKS_EACH)


def test_selectinload_sends_one_in_statement_per_500_parents(engine):
    """SQLAlchemy splits the IN list into chunks of 500 keys (SelectInLoader._chunksize)."""
    n_plus_one.seed(engine, authors=1200, books_each=1)
    try:
        with Session(engine) as session, count_statements(engine) as sent:
            titles = n_plus_one.titles_selectin(session)
        assert len(titles) == 1200
        keys = [statement.count("%(primary_keys_") for statement in sent[1:]]
        assert len(sent) == 4 and keys == [500, 500, 200]
        assert all("books.author_id IN" in statement for statement in sent[1:])
        write_include("q37-chunks.md", "\n".join([
            "| 1,200 authors, 1 book each | Statements sent | What they were |", "|---|---|---|",
            f"| `titles_selectin` | {len(sent)} | the authors, then `books.author_id IN (…)` "
            f"with {', '.join(map(str, keys))} keys |"]))
    finally:
        n_plus_one.seed(engine, AUTHORS, BOOKS_EACH)


def test_raiseload_turns_a_hidden_query_into_an_error(engine):
    with Session(engine) as session, count_statements(engine) as sent:
        authors = n_plus_one.authors_without_lazy_loads(session)
        refused = "'Author.books' is not available due to lazy='raise'"
        with pytest.raises(exc.InvalidRequestError, match=refused):
            authors[0].books  # noqa: B018 (the access is the test)
    assert len(sent) == 1


def test_a_statement_budget_catches_an_n_plus_one(engine):
    """The check a test suite can put around any code path: a budget of statements."""
    with Session(engine) as session, count_statements(engine) as sent:
        n_plus_one.titles_lazy(session)
    with pytest.raises(AssertionError):
        assert len(sent) <= 2, f"{len(sent)} statements: an N+1?"
    with Session(engine) as session, count_statements(engine) as sent:
        n_plus_one.titles_selectin(session)
    assert len(sent) <= 2


def test_joinedload_of_a_collection_repeats_the_parent_and_needs_unique(engine):
    with Session(engine) as session, count_statements(engine) as sent:
        n_plus_one.titles_joined(session)
    with engine.connect() as conn:  # the statement exactly as sent: one row per book
        rows = conn.exec_driver_sql(sent[0]).all()
    assert len(rows) == AUTHORS * BOOKS_EACH
    assert len({row[0] for row in rows}) == AUTHORS  # each author id repeated per book
    query = select(n_plus_one.Author).options(joinedload(n_plus_one.Author.books))
    with Session(engine) as session, pytest.raises(exc.InvalidRequestError, match="unique()"):
        session.scalars(query).all()


def test_the_counter_stops_counting_when_the_block_ends(engine):
    with Session(engine) as session:
        with count_statements(engine) as sent:
            n_plus_one.titles_joined(session)
        n_plus_one.titles_joined(session)
    assert len(sent) == 1


def test_main_prints_the_counts(engine, capsys):
    n_plus_one.main()
    assert capsys.readouterr().out == (
        "titles_lazy: 11 statements\ntitles_selectin: 2 statements\ntitles_joined: 1 statements\n")


def test_under_asyncio_a_lazy_load_raises_missing_greenlet(database_url):
    import asyncio

    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    async def both() -> tuple[dict, str]:
        engine = create_async_engine(database_url)
        try:
            async with AsyncSession(engine) as session:
                eager = await n_plus_one.titles_async(session)
            async with AsyncSession(engine) as session:
                author = await session.scalar(select(n_plus_one.Author).limit(1))
                with pytest.raises(exc.StatementError) as raised:
                    author.books  # noqa: B018 (the lazy load is the test)
            return eager, raised.value.orig
        finally:
            await engine.dispose()

    eager, refused = asyncio.run(both())
    assert eager == EXPECTED
    assert isinstance(refused, exc.MissingGreenlet)  # raised by the lazy load's query
    assert str(refused).startswith("greenlet_spawn has not been called; can't call await_()")
