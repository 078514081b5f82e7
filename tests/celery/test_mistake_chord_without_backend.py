"""examples/celery/mistake_chord_without_backend.py: a chord on an app without a result backend.

Run as a reader's script would be: a separate Python process whose environment names a
broker (the module's own Redis) and no result backend.
"""

import subprocess
import sys

import pytest

from support import celery_procs

pytestmark = pytest.mark.slow


def test_a_chord_without_a_result_backend_is_refused_before_anything_is_sent(
        example_env, module_redis):
    env = {k: v for k, v in example_env.items() if k != "CELERY_RESULT_BACKEND"}
    env["CELERY_BROKER_URL"] = module_redis.url(0)
    out = subprocess.run(
        [sys.executable, "-c",
         "import mistake_chord_without_backend as m; m.sum_of_squares(3)"],
        cwd=celery_procs.EXAMPLES, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert ("NotImplementedError: Starting chords requires a result backend to be configured."
            in out.stderr)
    assert module_redis.client(0).keys("*") == []  # no message reached the broker


def test_the_tasks_themselves_are_fine(module_env):
    import mistake_chord_without_backend as m

    assert (m.square(3), m.total([1, 4])) == (9, 5)  # called as plain functions, no Celery
