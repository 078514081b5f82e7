"""examples/celery/mistake_chord_without_backend.py: a chord on an app without a result backend.

Run as a reader's script would be: a separate Python process whose environment names a
broker (the module's own Redis, from `own_stack`) and no result backend.
"""

import subprocess
import sys

import pytest

from support.paths import EXAMPLES

pytestmark = pytest.mark.slow


def test_a_chord_without_a_result_backend_is_refused_before_anything_is_sent(own_stack):
    broker = own_stack.redis  # started now: the script's broker
    env = {k: v for k, v in own_stack.env().items() if k != "CELERY_RESULT_BACKEND"}
    assert env["CELERY_BROKER_URL"] == broker.url(0)
    out = subprocess.run(
        [sys.executable, "-c",
         "import mistake_chord_without_backend as m; m.sum_of_squares(3)"],
        cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert ("NotImplementedError: Starting chords requires a result backend to be configured."
            in out.stderr)
    assert broker.client(0).keys("*") == []  # no message reached the broker


def test_the_tasks_themselves_are_fine():
    import mistake_chord_without_backend as m

    assert (m.square(3), m.total([1, 4])) == (9, 5)  # called as plain functions, no Celery
