"""Q27, Distributed: two worker nodes on one Redis share one batch."""

from collections import Counter

import pytest

from celery import group
from support import celery_procs
from support.proofs import together

pytestmark = pytest.mark.slow
BATCH = 20


@pytest.fixture(scope="module")
def nodes(module_env, tmp_path_factory) -> list[str]:
    """`celery -A two_workers worker -n alpha@%h` and `-n beta@%h`, started side by side."""
    logs = tmp_path_factory.mktemp("two-workers-logs")

    def start(name):
        return celery_procs.worker(module_env, logs / f"{name}.log", "--pool=solo",
                                   app="two_workers", name=name)

    procs = together(lambda: start("alpha"), lambda: start("beta"))
    yield [p.wait_for_log(r"(\w+@\S+) ready\.")[1] for p in procs]
    together(*(proc.stop for proc in procs))


def test_two_nodes_share_a_batch(module_env, nodes):
    import two_workers

    batch = group(two_workers.make_thumbnail.s(n) for n in range(BATCH))
    ran_on = Counter(batch.apply_async().get(timeout=30))

    assert set(ran_on) == set(nodes)  # both nodes, and nothing else
    assert all(count > 0 for count in ran_on.values())
    assert sum(ran_on.values()) == BATCH
