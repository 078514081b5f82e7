"""A reader's Try it, reproduced: the files a page says to take, and only what it says to install.

`copy_files` copies what a question page names (files, or a whole folder) into an empty
folder. `IsolatedEnv` is a Python environment that holds exactly the distributions the
page's `pip install` line pulls in: a venv made without pip, whose site-packages links
to those distributions (and the ones they require, with their extras) as installed in the
project's venv, with console scripts (`celery`, `uvicorn`) of its own. Nothing else is
importable there, so a module that needs a package the line does not name fails with
ImportError, as it would on the reader's machine; and no install runs: it costs a venv and some
symbolic links, not a `pip install` of Celery, FastAPI and Pillow.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .docs_pages import ROOT


def parse_install_line(line: str) -> list[str]:
    words = shlex.split(line)
    if words[:2] != ["pip", "install"] or any(w.startswith("-") for w in words[2:]):
        raise ValueError(f"not a plain `pip install <requirements>` line: {line!r}")
    return words[2:]


def closure(requirements: list[str]) -> dict[str, metadata.Distribution]:
    """Every installed distribution the requirements pull in, by canonical name.

    Each requirement must be satisfied by the project's venv (its version within the
    specifier); the markers of each dependency are evaluated for the extras asked for.
    """
    found: dict[str, metadata.Distribution] = {}
    done: set[tuple[str, frozenset]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if (name, frozenset(req.extras)) in done:
            continue
        done.add((name, frozenset(req.extras)))
        dist = metadata.distribution(req.name)
        if not req.specifier.contains(dist.version, prereleases=True):
            raise RuntimeError(f"{req} is not what the project's venv has: {dist.version}")
        found[name] = dist
        for text in dist.requires or []:
            dep = Requirement(text)
            if dep.marker is None or any(dep.marker.evaluate({"extra": extra})
                                         for extra in {"", *req.extras}):
                todo.append(dep)
    return found


def _site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / (
        "site-packages")


class IsolatedEnv:
    """A venv holding only the closure of `requirements` (see the module's docstring)."""

    def __init__(self, path: Path, requirements: list[str]):
        self.path, self.requirements = path, requirements
        self.dists = closure(requirements)

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def create(self) -> IsolatedEnv:
        subprocess.run([sys.base_prefix + "/bin/python3", "-m", "venv", "--without-pip",
                        str(self.path)], check=True, capture_output=True)
        site = _site_packages(self.path)
        for dist in self.dists.values():
            tops = {Path(str(f)).parts[0] for f in dist.files or []}
            for top in sorted(tops - {"..", "__pycache__"}):
                source = Path(dist.locate_file(top))
                if source.exists() and not (site / top).exists():
                    (site / top).symlink_to(source)
            for ep in dist.entry_points.select(group="console_scripts"):
                script = self.bin / ep.name
                module, _, attr = ep.value.partition(":")
                script.write_text(f"#!{self.bin / 'python'}\nimport sys\n"
                                  f"from {module} import {attr.split('.')[0]}\n"
                                  f"sys.exit({attr}())\n")
                script.chmod(0o755)
        return self

    def env(self, base: dict) -> dict:
        """`base` with this venv first on PATH and no Python variables leaking in."""
        env = {k: v for k, v in base.items()
               if not k.startswith(("PYTHON", "VIRTUAL_ENV", "COVERAGE_"))}
        path = [p for p in base.get("PATH", "").split(":") if p and Path(p) != Path(sys.prefix,
                                                                                    "bin")]
        return {**env, "VIRTUAL_ENV": str(self.path), "PYTHONUNBUFFERED": "1",
                "PATH": ":".join([str(self.bin), *path])}


def is_app_root(folder: Path) -> bool:
    """examples/<section>/ itself, not a folder inside it."""
    return folder.parent == ROOT / "examples"


def copy_files(names: list[str], dest: Path) -> list[str]:
    """Copy the files (or whole folders, named with a trailing /) a page lists into `dest`,
    as a reader would; returns what landed there. A section's folder (examples/<section>/)
    is the one the reader works in: its contents land in `dest`. A folder inside one
    (examples/testing/fixture_suite/) keeps its name (`dest/fixture_suite/`), as "from the
    folder holding them" reads."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        source = ROOT / name
        if name.endswith("/"):
            into = dest if is_app_root(source) else dest / source.name
            shutil.copytree(source, into, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "media",
                                                          "celerybeat-schedule*"))
        else:
            shutil.copy(source, dest / source.name)
    return sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())

