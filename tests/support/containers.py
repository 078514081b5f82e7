"""A real container runtime for the tests: Debian's podman with runc, and a base image built
from Debian packages with debootstrap (no registry is reachable here).

    runtime = Podman.find()          # None, with `Podman.missing()` naming what is not there
    runtime.base_image()             # guide-base:bookworm, built once and kept (see below)
    runtime.run("build", "-t", "app", "folder")   # any podman command, in the private store

The base image's root file system is built once per set of inputs (suite, packages, mirror)
into ~/.cache/guide-cloud/ (about a minute on an idle machine, several on a busy one), and
the runtime's store lives there too, so later runs import nothing. `make test` builds it
before the tests start (`make container-base`, this module's `__main__`). Nothing is left
running: `run` is one podman command to its end; a test removes the containers it starts.

Two limits of this kind of machine: crun refuses its cgroup setup (so `--runtime runc`), and
the machine's open-files limit is above what a container may set (so `--ulimit` lower).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

CACHE = Path(os.environ.get("GUIDE_CACHE", Path.home() / ".cache" / "guide-cloud"))
BASE = "guide-base:bookworm"
SUITE, PACKAGES = "bookworm", ("python3", "python3-venv")
# What `build` and `run` confine a container to: a few limits, and no network. Nothing in
# these containers needs one, and a bridge with a veth pair per container changes the host's
# interfaces, which makes a Chromium in a neighbouring test abort its requests
# (net::ERR_NETWORK_CHANGED).
CONFINEMENT = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024", "--network", "none"]
NEEDED = {"podman": "podman", "runc": "runc", "debootstrap": "debootstrap"}


def mirror() -> str:
    """The Debian mirror this machine's apt uses."""
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        for line in sources.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


class Podman:
    def __init__(self, store: Path):
        self.store = store

    @staticmethod
    def missing() -> list[str]:
        gone = [package for program, package in NEEDED.items() if not shutil.which(program)]
        if os.geteuid() != 0:
            gone.append("root (debootstrap builds the base image as root)")
        return gone

    @classmethod
    def find(cls) -> Podman | None:
        if cls.missing():
            return None
        return cls(CACHE / "podman")

    def argv(self, *args: str) -> list[str]:
        return ["podman", "--root", str(self.store / "root"), "--runroot",
                str(self.store / "run"), "--runtime", "runc", *args]

    def run(self, *args: str, timeout: float = 300, check: bool = True,
            ) -> subprocess.CompletedProcess:
        """One podman command; `build` and `run` get CONFINEMENT."""
        if args and args[0] in ("build", "run"):
            args = (args[0], *CONFINEMENT, *args[1:])
        out = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout)
        if check and out.returncode:
            raise RuntimeError(f"podman {' '.join(args)} exited {out.returncode}:\n"
                               f"{out.stdout}{out.stderr}")
        return out

    def base_image(self) -> str:
        """guide-base:bookworm in the store, built from a cached root file system."""
        CACHE.mkdir(parents=True, exist_ok=True)
        with open(CACHE / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one builder at a time, across test processes
            if self.run("image", "exists", BASE, check=False).returncode == 0:
                return BASE
            tarball = rootfs()
            with open(tarball, "rb") as data:
                out = subprocess.run(self.argv("import", "-", BASE), stdin=data,
                                     capture_output=True, text=True, timeout=600)
            if out.returncode:
                raise RuntimeError(f"podman import failed:\n{out.stderr}")
        return BASE


def rootfs() -> Path:
    """A tarball of `debootstrap --variant=minbase` with PACKAGES, keyed by its inputs."""
    source = mirror()
    key = hashlib.sha256(f"{SUITE} {' '.join(PACKAGES)} {source}".encode()).hexdigest()[:16]
    tarball = CACHE / f"rootfs-{key}.tar"
    if tarball.exists():
        return tarball
    folder = CACHE / f"rootfs-{key}"
    shutil.rmtree(folder, ignore_errors=True)
    subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
                    SUITE, str(folder), source], check=True, capture_output=True, timeout=1800)
    partial = tarball.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(folder), "-cf", str(partial), "."], check=True,
                   timeout=600)
    partial.rename(tarball)
    shutil.rmtree(folder, ignore_errors=True)
    return tarball


if __name__ == "__main__":
    # `make container-base`: the one-time build, before the tests, so that no test's time
    # bound pays for a debootstrap.
    import time

    runtime = Podman.find()
    if runtime is None:
        print(f"no container runtime here (missing {', '.join(Podman.missing())}): "
              "the container tests will skip")
    else:
        started = time.monotonic()
        runtime.base_image()
        print(f"{BASE}: ready after {time.monotonic() - started:.0f} s")
