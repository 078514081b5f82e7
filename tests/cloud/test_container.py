"""Q48: image, container and kernel on a real runtime (podman with runc), with a base image
built from Debian packages: the layer cache, the shared kernel, a non-root user, and PID 1
against `podman stop` in exec and shell form."""

import platform
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from support.containers import Podman
from support.includes import write_observed
from support.paths import ROOT
from support.waiting import wait_until

CONTEXT = ROOT / "examples" / "cloud" / "container"
STOP_TIMEOUT = 5  # podman stop -t: SIGTERM, then SIGKILL after this many seconds
OBSERVED: dict[str, str] = {}
ROWS = ["cache", "kernel", "user", "exec", "shell", "no-init", "init"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def table():
    yield
    write_observed("q48-observed.md", ROWS, OBSERVED)


@pytest.fixture(scope="module")
def podman():
    runtime = Podman.find()
    if runtime is None:
        pytest.skip(f"no container runtime here: missing {', '.join(Podman.missing())}")
    runtime.base_image()
    return runtime


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    """A copy of examples/cloud/container/, which the layer-cache test edits."""
    folder = tmp_path_factory.mktemp("context")
    shutil.copytree(CONTEXT, folder, dirs_exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def image(podman, context):
    podman.run("build", "-t", "guide-app:exec", str(context))
    podman.run("build", "-f", str(context / "Containerfile.shell-form"), "-t",
               "guide-app:shell", str(context))
    return "guide-app:exec"


def build_seconds(podman, context, *args) -> tuple[float, str]:
    t0 = time.monotonic()
    out = podman.run("build", *args, "-t", "guide-app:cache", str(context))
    return time.monotonic() - t0, out.stdout + out.stderr


def test_changing_only_the_code_reuses_the_dependency_layer(podman, context):
    first, _ = build_seconds(podman, context, "--no-cache")
    with open(context / "server.py", "a") as code:
        code.write(f"# a code change {uuid.uuid4()}\n")
    again, log = build_seconds(podman, context)
    # The venv layer came from the cache; the COPY of the changed file did not.
    steps = log.split("STEP ")
    venv = next(s for s in steps if "RUN python3 -m venv" in s)
    copy = next(s for s in steps if "COPY server.py" in s)
    assert "Using cache" in venv and "Using cache" not in copy, log
    ratio = again / first
    assert ratio < 0.5, (first, again)
    OBSERVED["cache"] = (f"| Build with `--no-cache`, then change only `server.py` and build "
                         f"again | the `RUN python3 -m venv` layer reused; the rebuild took "
                         f"{ratio:.2f} of the first build's time |")


def test_a_container_runs_on_the_hosts_kernel(podman, image):
    inside = podman.run("run", "--rm", image, "uname", "-r").stdout.strip()
    assert inside == platform.release()
    OBSERVED["kernel"] = (f"| `uname -r` inside the container and on the host | the same "
                          f"kernel, `{inside}` |")


def test_the_non_root_user_cannot_write_outside_its_own_places(podman, image):
    whoami = podman.run("run", "--rm", image, "id", "-u").stdout.strip()
    system = podman.run("run", "--rm", image, "touch", "/app/new-file", check=False)
    tmp = podman.run("run", "--rm", image, "touch", "/tmp/new-file", check=False)
    assert whoami == "10001"
    assert system.returncode != 0 and "Permission denied" in system.stderr
    assert tmp.returncode == 0
    OBSERVED["user"] = ("| `touch /app/new-file`, then `touch /tmp/new-file`, as user "
                        f"{whoami} | `Permission denied`; `/tmp` allowed |")


@pytest.mark.parametrize("form", ["exec", "shell"])
def test_pid_1_and_podman_stop(form, podman, image):
    name = f"guide-stop-{form}-{uuid.uuid4().hex[:8]}"
    podman.run("run", "-d", "--name", name, f"guide-app:{form}")
    try:
        wait_until(lambda: "ready" in podman.run("logs", name).stdout, 30, "the program")
        pid1 = podman.run("exec", name, "cat", "/proc/1/cmdline").stdout.replace("\0", " ")
        t0 = time.monotonic()
        podman.run("stop", "-t", str(STOP_TIMEOUT), name, timeout=60)
        took = time.monotonic() - t0
        code = podman.run("inspect", "-f", "{{.State.ExitCode}}", name).stdout.strip()
    finally:
        podman.run("rm", "-f", name, check=False)
    if form == "exec":
        assert pid1.startswith("python3 /app/server.py")
        assert code == "0" and took < STOP_TIMEOUT, (code, took)
    else:
        assert pid1.startswith("/bin/sh -c python3 /app/server.py")
        assert code == "137" and took >= STOP_TIMEOUT, (code, took)  # 128 + SIGKILL
    OBSERVED[form] = (f"| {form.capitalize()} form: PID 1 is `{pid1.strip()}`; `podman stop "
                      f"-t {STOP_TIMEOUT}` | stopped in {took:.1f} s, exit code {code} |")


# Each orphan's (state, name), from inside the container: `sleep` children of a shell that
# exited, which the kernel hands to PID 1.
SLEEPERS = ("import os; print(sum(open(f'/proc/{p}/stat').read().split(')')[0].endswith('(sleep')"
            " for p in os.listdir('/proc') if p.isdigit()), sum(open(f'/proc/{p}/stat').read()"
            ".rsplit(')', 1)[1].split()[0] == 'Z' for p in os.listdir('/proc') if p.isdigit()))")


@pytest.mark.parametrize("init", [False, True], ids=["no-init", "init"])
def test_an_init_reaps_the_orphans_pid_1_never_waits_for(init, podman, image):
    """What `init: true` is for: an orphan's exit status goes to PID 1, and a program that
    never calls wait() leaves it a zombie, one per orphan, for as long as it runs."""
    name = f"guide-init-{uuid.uuid4().hex[:8]}"
    podman.run("run", "-d", *(["--init"] if init else []), "--name", name, image)
    try:
        wait_until(lambda: "ready" in podman.run("logs", name).stdout, 30, "the program")
        for _ in range(3):  # a shell that leaves a short-lived child behind, like a healthcheck
            podman.run("exec", name, "sh", "-c", "sleep 0.1 & exit 0")

        def sleepers() -> tuple[int, int]:
            named, zombies = podman.run("exec", name, "python3", "-c", SLEEPERS).stdout.split()
            return int(named), int(zombies)

        expected = (0, 0) if init else (3, 3)
        wait_until(lambda: sleepers() == expected, 30, f"{expected} (sleep processes, zombies)")
        pid1 = podman.run("exec", name, "cat", "/proc/1/cmdline").stdout.replace("\0", " ")
    finally:
        podman.run("rm", "-f", "-t", "0", name, check=False)
    assert pid1.startswith("/run/podman-init") == init
    OBSERVED["init" if init else "no-init"] = (
        f"| {'With' if init else 'Without'} `--init`: PID 1 is `{pid1.strip()}`; 3 orphans "
        f"exit | {expected[1]} zombies left |")


def test_the_program_stops_on_sigterm_by_itself():
    """The container's program, run natively: SIGTERM ends it at once, with exit code 0."""
    proc = subprocess.Popen([sys.executable, str(CONTEXT / "server.py")],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        # Asleep in its loop (state S), not between the print and the loop.
        stat = Path(f"/proc/{proc.pid}/stat")
        wait_until(lambda: stat.read_text().rsplit(")", 1)[1].split()[0] == "S", 10,
                   "the program to wait in its loop")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert proc.stdout.read() == "SIGTERM: stopping\n"
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
