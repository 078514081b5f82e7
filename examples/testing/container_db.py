"""The usual tool for a real database in tests on a machine with Docker: testcontainers
starts PostgreSQL in a throwaway container and removes it afterwards.

    @pytest.fixture(scope="session")
    def database_url():
        with postgres_in_container() as url:
            yield url
"""

import contextlib
from collections.abc import Iterator

# --8<-- [start:container]
from testcontainers.community.postgres import PostgresContainer


@contextlib.contextmanager
def postgres_in_container(image: str = "postgres:16-alpine") -> Iterator[str]:
    """A SQLAlchemy URL of a PostgreSQL that lives as long as the `with` block."""
    with PostgresContainer(image, driver="psycopg") as postgres:
        yield postgres.get_connection_url()  # pragma: no cover (runs only with a Docker engine)
# --8<-- [end:container]
