"""Q27, Distributed: two worker nodes on one Redis share one batch."""

from collections import Counter

import pytest
from celery import group

pytestmark = pytest.mark.slow
BATCH = 20


@pytest.fixture(scope="module")
def nodes(own_stack) -> list[str]:
    """`celery -A two_workers worker -n alpha@%h` and `-n beta@%h`, started side by side."""
    procs = [own_stack.worker("two_workers", "--pool=solo", name=name, ready=False)
             for name in ("alpha", "beta")]
    yield [p.wait_for_log(r"(\w+@\S+) ready\.")[1] for p in procs]
    own_stack.stop(*procs)


def test_two_nodes_share_a_batch(own_stack, nodes):
    import two_workers

    own_stack.bind(two_workers.app)
    batch = group(two_workers.make_thumbnail.s(n) for n in range(BATCH))
    ran_on = Counter(batch.apply_async().get(timeout=30))

    assert set(ran_on) == set(nodes)  # both nodes, and nothing else
    assert all(count > 0 for count in ran_on.values())
    assert sum(ran_on.values()) == BATCH
