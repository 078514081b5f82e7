"""Q42: testcontainers, the usual way to a real database in tests where Docker runs; here no
engine answers, and the test says so instead of passing."""

import gc
import os
import warnings

import customer_store
import pytest
from sqlalchemy import create_engine


def test_testcontainers_skips_naming_the_missing_engine():
    """testcontainers starts PostgreSQL in Docker; here no engine answers, and the test says so."""
    from container_db import postgres_in_container
    from docker.errors import DockerException

    # The docker client leaves its socket to the garbage collector when the engine is
    # missing; collected here, its ResourceWarning is the library's, not this test's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            with postgres_in_container() as url:
                engine = create_engine(url)
                customer_store.metadata.create_all(engine)
                with engine.begin() as conn:
                    customer_store.add_customer(conn, "Ann@Example.com", "Ann")
                    assert customer_store.find_customer(conn, "ann@example.com")
                engine.dispose()
            return
        except DockerException as e:
            missing = str(e)  # not the exception: its traceback holds the socket
        gc.collect()
    where = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    pytest.skip(f"no Docker engine answers at {where}: {missing}")
