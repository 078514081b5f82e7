"""requirements.lock pins every dependency of pyproject.toml, with hashes, and it is what gets
installed, with hashes required.

Tests the lock that `make lock` writes (from pyproject.toml's ranges) and that `make`, .ci/run
(through `make test`) and the Dockerfile (through its subset, requirements-image.lock) install
from. A dependency added to pyproject.toml
without `make lock`, or a lock edited by hand past pyproject's ranges, fails here.
"""

import re
import tomllib
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from support.site import ROOT

LOCK = ROOT / "requirements.lock"
IMAGE_LOCK = ROOT / "requirements-image.lock"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;]+)\s*(;\s*(?P<marker>[^\\]+?))?"
                 r"\s*(?P<hashes>(?:\s+--hash=sha256:[0-9a-f]{64})+)$")


def entries(lock=LOCK) -> list[str]:
    """The lock's requirements, each on one line (its `\\` continuations joined)."""
    text = re.sub(r"\\\n\s*", " ", lock.read_text())
    return [line for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def pins(lock=LOCK) -> dict[str, Version]:
    """name -> the version locked for this interpreter and platform (markers evaluated)."""
    found: dict[str, Version] = {}
    for line in entries(lock):
        m = PIN.match(line)
        assert m, f"not an exact pin with its hashes: {line!r}"
        if m["marker"] and not Requirement(f"x; {m['marker']}").marker.evaluate():
            continue
        name = canonicalize_name(m["name"])
        assert name not in found, f"{name} pinned twice for this platform"
        found[name] = Version(m["version"])
    return found


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    return [Requirement(r) for r in project["dependencies"] + sum(extras.values(), [])]


def test_every_pyproject_dependency_is_pinned_within_its_range():
    locked = pins()
    wrong = []
    for req in declared():
        name = canonicalize_name(req.name)
        if req.marker and not req.marker.evaluate():
            continue
        if name not in locked:
            wrong.append(f"{req}: not in the lock (run make lock)")
        elif not req.specifier.contains(locked[name], prereleases=True):
            wrong.append(f"{req}: locked at {locked[name]}, outside the range")
    assert wrong == []


def test_the_lock_is_closed_and_is_what_this_venv_has():
    """Everything pyproject's dependencies pull in is locked, and installed at its pin."""
    locked = pins()
    env = default_environment()
    todo = [r for r in declared() if r.marker is None or r.marker.evaluate()]
    seen: dict[str, set[str]] = {}
    wrong = []
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen and set(req.extras) <= seen[name]:
            continue
        seen.setdefault(name, set()).update(req.extras)
        if name not in locked:
            wrong.append(f"{req}: needed, not locked")
            continue
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name}=={locked[name]}: not installed")
            continue
        if Version(installed) != locked[name]:
            wrong.append(f"{name}: {installed} installed, {locked[name]} locked")
        envs = [{**env, "extra": e} for e in seen[name]] or [{**env, "extra": ""}]
        for sub in (Requirement(r) for r in metadata.requires(name) or []):
            if sub.marker is None or any(sub.marker.evaluate(e) for e in envs):
                todo.append(sub)
    assert sorted(set(wrong)) == []
    assert sorted(set(locked) - set(seen)) == []  # no pin that nothing needs any more
    assert len(seen) > 50, len(seen)  # the whole tree, not only the direct dependencies
    print(f"\n{len(seen)} packages needed, all locked and installed at the pins "
          f"({len(locked)} pins apply here)")


def test_make_and_the_image_install_from_the_lock_with_hashes_required():
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --require-hashes --requirement $(LOCK)" in makefile
    assert re.search(r"^LOCK\s*:=\s*requirements\.lock$", makefile, re.M)
    assert re.search(r"^IMAGE_LOCK\s*:=\s*requirements-image\.lock$", makefile, re.M)
    # Both locks, written by `make lock`.
    assert makefile.count("--generate-hashes --no-header") == 2
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert ("pip install --no-cache-dir --require-hashes "
            "--requirement /tmp/requirements-image.lock") in dockerfile
    for lock in (LOCK, IMAGE_LOCK):
        assert lock.read_text().startswith("# ") and "make lock" in lock.read_text().splitlines()[0]


def test_the_image_lock_is_the_main_locks_pins_and_hashes():
    """The image's lock repeats requirements.lock's lines: same version, same hashes."""
    # A package may have a line per Python version, told apart by its marker; where it has one
    # line, the image's may carry a marker the main lock does not need (fewer dependents).
    main: dict[str, list[re.Match]] = {}
    for m in map(PIN.match, entries(LOCK)):
        main.setdefault(m["name"], []).append(m)
    image = [PIN.match(line) for line in entries(IMAGE_LOCK)]
    assert len(image) > 50
    for m in image:
        lines = main[m["name"]]
        same = lines[0] if len(lines) == 1 else next(x for x in lines
                                                     if x["marker"] == m["marker"])
        assert (m["version"], set(m["hashes"].split())) == \
            (same["version"], set(same["hashes"].split())), m["name"]
