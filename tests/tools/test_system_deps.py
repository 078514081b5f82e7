"""tools/system-deps installs the system packages the tests need, or names the command at once.

Runs the script with a PATH that hides the machine's programs. apt-get is a stand-in here
(a script that logs its arguments and, for `install`, puts the named programs on the PATH):
what is under test is which packages the script asks for, and when.
"""

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from support.site import ROOT

SCRIPT = ROOT / "tools" / "system-deps"
EVERYTHING = ["redis-server", "chromium", "curl", "redis-tools", "iproute2", "prometheus",
              "npm", "podman", "runc", "debootstrap"]
PROGRAM = {"redis-server": "redis-server", "chromium": "chromium", "curl": "curl",
           "redis-tools": "redis-cli", "iproute2": "ip", "prometheus": "prometheus",
           "npm": "npm", "podman": "podman", "runc": "runc",
           "debootstrap": "debootstrap"}

FAKE_APT = """#!/bin/bash
echo "$*" >> "{log}"
if [ "$1" = install ]; then
  for arg in "$@"; do
    case "$arg" in -*|install) ;; *) printf '#!/bin/sh\\n' > "{bin}/$(prog "$arg")"
                                      {chmod} +x "{bin}/$(prog "$arg")" ;; esac
  done
fi
"""


@pytest.fixture
def bare() -> tuple[Path, Path]:
    """A bin folder with only what the script itself runs, plus a logging apt-get.

    In a folder of its own that any user can read, with a copy of the script (the checkout
    may sit where others can't read, such as /root): one test runs it as nobody.
    """
    tmp_path = Path(tempfile.mkdtemp(prefix="system-deps-"))
    tmp_path.chmod(0o755)
    shutil.copy(SCRIPT, tmp_path / SCRIPT.name)
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for tool in ("bash", "env", "id"):
        (bin_ / tool).symlink_to(shutil.which(tool))
    log = tmp_path / "apt.log"
    cases = "\n".join(f"    {pkg}) echo {prog} ;;" for pkg, prog in PROGRAM.items())
    prog = f"prog() {{\n  case $1 in\n{cases}\n  esac\n}}\n"
    script = FAKE_APT.format(log=log, bin=bin_, chmod=shutil.which("chmod"))
    script = script.replace("\n", "\n" + prog, 1)  # the function, right after the #! line
    (bin_ / "apt-get").write_text(script)
    (bin_ / "apt-get").chmod(0o755)
    yield bin_, log
    shutil.rmtree(tmp_path)


def run(bin_: Path, *args: str, user: str | None = None) -> subprocess.CompletedProcess:
    argv = [str(bin_.parent / SCRIPT.name), *args]
    if user:
        argv = [shutil.which("setpriv"), f"--reuid={user}", f"--regid={user}",
                "--clear-groups", *argv]
    return subprocess.run(argv, env={"PATH": str(bin_)}, capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)


def test_check_names_every_missing_package_in_one_line(bare):
    bin_, log = bare
    out = run(bin_, "check")
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.count("\n") == 1
    assert f"sudo apt-get install {' '.join(EVERYTHING)}" in out.stderr
    assert not log.exists()  # check never installs


@pytest.mark.skipif(os.geteuid() != 0, reason="the install path is taken only as root")
def test_as_root_it_updates_once_installs_what_is_missing_then_does_nothing(bare):
    bin_, log = bare
    (bin_ / "curl").symlink_to(shutil.which("true") or "/bin/true")  # one program is there
    out = run(bin_)
    assert out.returncode == 0, out.stderr
    missing = [p for p in EVERYTHING if p != "curl"]
    assert log.read_text().splitlines() == [
        "update -qq", f"install -y -qq --no-install-recommends {' '.join(missing)}"]
    assert out.stderr == f"system-deps: installing {' '.join(missing)} (apt-get)\n"
    again = run(bin_)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    assert len(log.read_text().splitlines()) == 2  # nothing more asked of apt


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                    reason="needs root to drop to another user")
def test_without_root_it_stops_at_once_naming_the_command(bare):
    bin_, log = bare
    start = time.monotonic()
    out = run(bin_, user="65534")
    assert time.monotonic() - start < 5
    assert out.returncode == 1
    command = f"sudo apt-get install {' '.join(EVERYTHING)}"
    assert out.stderr == f"missing system packages; run: {command}\n"
    assert not log.exists()


def test_this_machine_has_everything_after_make_test_set_it_up():
    # `make test` ran the script before pytest; whatever it installed is found now.
    out = subprocess.run([str(SCRIPT), "check"], capture_output=True, text=True, timeout=30)
    assert (out.returncode, out.stderr) == (0, ""), out.stderr
