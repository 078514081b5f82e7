"""What an orchestrator does with a liveness probe, in one loop: start a program, probe it
every `period` seconds, and after `failures` failed probes in a row kill it and start it
again. Kubernetes' kubelet does this with livenessProbe (periodSeconds, failureThreshold).

    python probe_supervisor.py --startup http://127.0.0.1:8001/livez \\
        http://127.0.0.1:8001/readyz 30 -- uvicorn health_app:app --port 8001

runs for 30 seconds, the liveness probe on /readyz once /livez answers, and prints how many
times it restarted the program.
"""

import argparse
import subprocess
import time
import urllib.error
import urllib.request


# --8<-- [start:loop]
def probe(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def supervise(argv: list[str], liveness_url: str, run_for: float, *,
              startup_url: str | None = None, period: float = 0.5, failures: int = 3,
              start_grace: float = 30.0) -> int:
    """Run `argv` for `run_for` seconds; return how many times its liveness probe got it
    restarted. The probe starts once `startup_url` answers (Kubernetes' startupProbe)."""
    startup = startup_url or liveness_url
    restarts = 0
    deadline = time.monotonic() + run_for
    proc = subprocess.Popen(argv)
    try:
        while time.monotonic() < deadline:
            grace_ends = min(time.monotonic() + start_grace, deadline)
            while not probe(startup) and time.monotonic() < grace_ends:
                time.sleep(period)
            failed = 0
            while failed < failures and time.monotonic() < deadline:
                time.sleep(period)
                failed = 0 if probe(liveness_url) else failed + 1
            if failed >= failures:
                proc.terminate()
                proc.wait(10)
                restarts += 1
                proc = subprocess.Popen(argv)
    finally:
        proc.terminate()
        proc.wait(10)
    return restarts
# --8<-- [end:loop]


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description="Restart a program when its liveness probe fails.")
    cli.add_argument("--startup", help="a URL that answers once the program has started")
    cli.add_argument("liveness")
    cli.add_argument("seconds", type=float)
    cli.add_argument("command", nargs="+")
    args = cli.parse_args()
    restarts = supervise(args.command, args.liveness, args.seconds, startup_url=args.startup)
    print(f"restarts: {restarts}")
