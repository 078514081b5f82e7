"""Q37: the N+1 query, counted, and the loader options that remove it.

`python n_plus_one.py` seeds 10 authors with 3 books each and prints how many statements
each way of listing their titles sends.
"""

import contextlib
from collections.abc import Iterator

from dbconfig import make_engine
from sqlalchemy import Engine, ForeignKey, String, event, select
from sqlalchemy.ext.asyncio import AsyncSession  # greenlet, its one extra, loads on first use
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    raiseload,
    relationship,
    selectinload,
)


class Base(DeclarativeBase):
    pass


# --8<-- [start:models]
class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    books: Mapped[list["Book"]] = relationship(back_populates="author",
                                               order_by="Book.id")  # lazy="select": on access


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"), index=True)
    author: Mapped[Author] = relationship(back_populates="books")
# --8<-- [end:models]


def seed(engine: Engine, authors: int = 10, books_each: int = 3) -> None:
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            Author(name=f"author {a}",
                   books=[Book(title=f"book {a}.{b}") for b in range(books_each)])
            for a in range(authors))
        session.commit()


# --8<-- [start:counter]
@contextlib.contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement the engine sends meanwhile, in order."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
# --8<-- [end:counter]


# --8<-- [start:lazy]
def titles_lazy(session: Session) -> dict[str, list[str]]:
    """One SELECT for the authors, then one more per author the first time .books is read."""
    authors = session.scalars(select(Author).order_by(Author.id))
    return {author.name: [book.title for book in author.books] for author in authors}
# --8<-- [end:lazy]


# --8<-- [start:eager]
def titles_selectin(session: Session) -> dict[str, list[str]]:
    """Two SELECTs: the authors, then all their books at once (WHERE author_id IN (...))."""
    query = select(Author).options(selectinload(Author.books)).order_by(Author.id)
    return {author.name: [book.title for book in author.books]
            for author in session.scalars(query)}


def titles_joined(session: Session) -> dict[str, list[str]]:
    """One SELECT with a LEFT OUTER JOIN; unique() folds the repeated author rows."""
    query = select(Author).options(joinedload(Author.books)).order_by(Author.id)
    return {author.name: [book.title for book in author.books]
            for author in session.scalars(query).unique()}
# --8<-- [end:eager]


# --8<-- [start:raiseload]
def authors_without_lazy_loads(session: Session) -> list[Author]:
    """Authors whose unloaded relationships raise instead of quietly querying."""
    return list(session.scalars(select(Author).options(raiseload("*")).order_by(Author.id)))
# --8<-- [end:raiseload]


# --8<-- [start:async]
async def titles_async(session: AsyncSession) -> dict[str, list[str]]:
    """The same listing under asyncio. A lazy load would have to block the event loop, so
    SQLAlchemy refuses it (MissingGreenlet): load what you will read, up front."""
    books = selectinload(Author.books)  # everything read below, loaded by the query
    query = select(Author).options(books).order_by(Author.id)
    return {author.name: [book.title for book in author.books]
            for author in await session.scalars(query)}
# --8<-- [end:async]


def main() -> None:
    engine = make_engine()
    seed(engine)
    for loader in (titles_lazy, titles_selectin, titles_joined):
        with Session(engine) as session, count_statements(engine) as sent:
            loader(session)
        print(f"{loader.__name__}: {len(sent)} statements")
    engine.dispose()


if __name__ == "__main__":
    main()
