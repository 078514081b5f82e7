"""Tests examples/celery/message_anatomy.py: the protocol 2 envelope, built with no broker at
all."""

import os
import re
import subprocess
import sys

from support.paths import EXAMPLES
from support.waiting import free_port


def test_runs_offline_and_prints_what_its_comments_say():
    closed = free_port()  # nothing listens: the script must not need a broker or a backend
    env = {**os.environ,
           "CELERY_BROKER_URL": f"redis://127.0.0.1:{closed}/0",
           "CELERY_RESULT_BACKEND": f"redis://127.0.0.1:{closed}/1"}
    run = subprocess.run([sys.executable, "message_anatomy.py"], cwd=EXAMPLES, env=env,
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    source = (EXAMPLES / "message_anatomy.py").read_text()
    promised = re.findall(r"^ *#> (.*)$", source, flags=re.M)
    assert run.stdout.splitlines() == promised
    # The points Q28 makes with it, spelled out.
    assert promised[0] == (
        "send_email() missing 2 required positional arguments: 'subject' and 'body'"
    )
    assert "celery_app.send_email abc-123 0" in promised
    assert "['user@example.com', 'Hi', 'Welcome'] {}" in promised
