"""The suite's own PostgreSQL clusters (support.postgres) do not outlive a killed run."""

import os
import signal
import subprocess
import sys

from support.paths import ROOT
from support.postgres import _alive, sweep_orphans
from support.untraced import untraced

START_AND_HANG = """
import sys, time
sys.path.insert(0, "tests")
from support.postgres import PostgresServer
server = PostgresServer().start()
print(server.root, server._postmaster_pid(), flush=True)
time.sleep(120)
"""


def test_a_cluster_whose_test_process_was_killed_is_stopped_and_removed_by_the_next_start():
    proc = subprocess.Popen([sys.executable, "-c", START_AND_HANG], cwd=ROOT,
                            env=untraced(), stdout=subprocess.PIPE, text=True)
    try:
        root, pid = proc.stdout.readline().split()  # waits for the cluster (pg_ctl -w)
        assert _alive(int(pid))
        os.kill(proc.pid, signal.SIGKILL)  # no stop(): the postmaster is left running
        proc.wait(10)
        assert _alive(int(pid)) and os.path.isdir(root)
        sweep_orphans()  # what every PostgresServer.start() does first
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    assert not _alive(int(pid)), "the orphaned postmaster still runs"
    assert not os.path.exists(root), "the orphaned cluster's folder is still there"
