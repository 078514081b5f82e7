"""examples/celery/prefetch.py: the prefetch multiplier is per child process; -c 4 is one worker.

A private Redis and two real prefork workers of celery_app (multiplier 1 in
celeryconfig.py), started side by side: `-c 2` and `-c 4`.
"""

import socket

import pytest
from prefetch import prefetch_report

pytestmark = pytest.mark.slow


def test_prefetch_count_is_multiplier_times_concurrency(make_stack):
    stack = make_stack()
    # Untraced: these workers only answer `inspect stats`; celery_app's tasks are run (and
    # measured) by the session's worker.
    two = stack.worker("celery_app", "--pool=prefork", "-c", "2", name="two", ready=False,
                       traced=False)
    four = stack.worker("celery_app", "--pool=prefork", "-c", "4", name="four", ready=False,
                        traced=False)
    for worker in (two, four):
        worker.wait_for_log(r"ready\.")
    host, client = socket.gethostname(), stack.client()

    assert prefetch_report(client, f"two@{host}") == {
        "prefetch_count": 2, "max-concurrency": 2, "processes": 2}
    assert prefetch_report(client, f"four@{host}") == {
        "prefetch_count": 4, "max-concurrency": 4, "processes": 4}
    # --concurrency=4 is one node with four children, not four workers.
    nodes = client.control.inspect(timeout=0.5).ping()  # every node that answers
    assert sorted(nodes) == [f"four@{host}", f"two@{host}"]
    assert len(four.children()) == 4
