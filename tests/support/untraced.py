"""The environment for a child process that runs no code from examples/.

`make test` measures examples/ only, and coverage's subprocess patch starts a
tracer in every Python child it can reach (it passes COVERAGE_PROCESS_CONFIG on).
A strict mkdocs build or a schema check traced that way costs twice the CPU and
adds no line, so such children get the environment without it.
"""

import contextlib
import os
from collections.abc import Iterator

import coverage


def environ() -> dict[str, str]:
    """A copy of os.environ that is safe beside pytest: it sets and deletes
    PYTEST_CURRENT_TEST in its own thread while a test's threads read the environment, and
    a plain copy can then find a key gone between listing it and reading it (KeyError)."""
    return {key: value for key in list(os.environ)
            if (value := os.environ.get(key)) is not None}


# What coverage's subprocess patch passes on to start a tracer in a Python child.
COVERAGE_VARS = ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START")


def untraced(env: dict | None = None) -> dict:
    """A copy of `env` (default: os.environ) that starts no coverage in the child."""
    env = dict(environ() if env is None else env)
    for name in COVERAGE_VARS:
        env.pop(name, None)
    return env


@contextlib.contextmanager
def coverage_paused() -> Iterator[None]:
    """Stop measuring in this process meanwhile, for code that runs nothing from examples/.

    Under coverage on Python 3.11 every function call pays for the tracer, so a module
    that drives a browser or builds the site in-process runs about twice as slow traced.
    """
    cov = coverage.Coverage.current()
    if cov is None:  # not under `coverage run`
        yield
        return
    cov.stop()
    try:
        yield
    finally:
        cov.start()
