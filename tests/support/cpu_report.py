"""CPU seconds per test module (this process and the children it reaped), for the speed report.

Loaded with `-p support.cpu_report` and CPU_REPORT=<file>: each module appends one line,
`<seconds> <wall> <module>`, to that file.
"""

import os
import resource
import time

import pytest


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@pytest.fixture(scope="module", autouse=True)
def _cpu_per_module(request):
    """Set up before, torn down after every other module-scoped fixture of the module."""
    start, wall = _cpu(), time.monotonic()
    yield
    path = os.environ.get("CPU_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(f"{_cpu() - start:.2f} {time.monotonic() - wall:.2f} "
                      f"{request.node.nodeid}\n")


def pytest_sessionfinish(session):
    """The process's whole total, session-scoped servers and workers included."""
    path = os.environ.get("CPU_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(f"{_cpu():.2f} - [total of process {os.getpid()}]\n")
