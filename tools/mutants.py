"""The claims-mutation check: break each central claim of the guide, and see its proof fail.

tests/mutants.toml lists, for each claim a page makes, a minimal change to an example that
makes the claim false (`find`, text that occurs exactly once in `file`, becomes `replace`)
and the proof test that must then fail. For every entry this applies the change in a
temporary copy of the project (the shared .venv linked in), runs that test there
(`pytest -p no:cacheprovider -q -x`), and expects it to FAIL. A proof that still passes
with its claim broken tests something else: a copy of the example, or nothing.

    python tools/mutants.py                 # every entry, 2 at a time (`make mutants`)
    python tools/mutants.py -k Q40          # the entries whose claim or page mentions Q40
    python tools/mutants.py --list          # the table, checked, without running anything
    python tools/mutants.py --baseline      # each proof on the unchanged copy: all must pass

It prints each outcome, then claims, mutations, killed out of total and the run time, and
exits non-zero unless every mutation was killed. A full run also produces
docs/_includes/mutants.md (the "How this guide is tested" page shows it): written under
UPDATE_INCLUDES=1 (`make includes`), otherwise compared with the committed one, times aside,
like every figure the pages quote (tests/support/includes.py).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "mutants.toml"
INCLUDE = "mutants.md"
TIMEOUT_S = 900  # a bound per entry; the proof tests carry their own, shorter ones
# What a copy holds when the project is not a git checkout (otherwise: the files git knows,
# tracked or new, and nothing it ignores).
COPIED = ["examples", "tests", "tools", "docs", "pyproject.toml", "mkdocs.yml",
          "docker-compose.yml", "Dockerfile", "requirements.lock", "README.md"]


@dataclass(frozen=True)
class Mutant:
    claim: str
    page: str  # under docs/
    file: str  # relative to the project
    find: str
    replace: str
    test: str  # pytest node ids, relative to the project (several: space-separated, in order)

    @property
    def tests(self) -> list[str]:
        return self.test.split()

    @property
    def label(self) -> str:
        return f"{self.claim} [{' '.join(t.rsplit('::', 1)[-1] for t in self.tests)}]"


@dataclass
class Outcome:
    mutant: Mutant
    killed: bool
    seconds: float
    how: str  # "failed", or why the run said nothing about the claim


def load(path: Path = TABLE) -> list[Mutant]:
    entries = tomllib.loads(path.read_text()).get("mutant", [])
    return [Mutant(**entry) for entry in entries]


def problems(mutants: list[Mutant], root: Path = ROOT) -> list[str]:
    """What makes an entry unusable: a missing page, file or test, or a `find` that does not
    occur exactly once (the change would be ambiguous, or would change nothing)."""
    found = []
    for m in mutants:
        if not (root / "docs" / m.page).is_file():
            found.append(f"{m.label}: no page docs/{m.page}")
        source = root / m.file
        if not source.is_file():
            found.append(f"{m.label}: no file {m.file}")
        elif (count := source.read_text().count(m.find)) != 1:
            found.append(f"{m.label}: `find` occurs {count} times in {m.file}, not once")
        if m.find == m.replace:
            found.append(f"{m.label}: `replace` is `find`: nothing would change")
        for test in m.tests:
            test_file, _, function = test.partition("::")
            test_path = root / test_file
            if not test_path.is_file():
                found.append(f"{m.label}: no test file {test_file}")
            elif not re.search(rf"^def {re.escape(function.split('[')[0])}\(",
                               test_path.read_text(), re.M):
                found.append(f"{m.label}: no function {function} in {test_file}")
    return found


def project_files(root: Path) -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                              "-z"], cwd=root, capture_output=True, check=True, timeout=60)
    except (OSError, subprocess.CalledProcessError):
        return [p.relative_to(root) for name in COPIED for p in
                ([root / name] if (root / name).is_file() else (root / name).rglob("*"))
                if p.is_file() and "__pycache__" not in p.parts]
    names = [Path(n) for n in out.stdout.decode().split("\0") if n]
    return [n for n in names if n.parts[0] != ".venv" and (root / n).is_file()]


def copy_project(root: Path, dest: Path, files: list[Path]) -> Path:
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, target)
    (dest / ".venv").symlink_to((root / ".venv").resolve(), target_is_directory=True)
    return dest


def run_one(mutant: Mutant, root: Path, files: list[Path], python: str,
            apply: bool = True) -> Outcome:
    """Copy `files` of `root` (with its .venv linked in), apply the change, run the test.
    `apply=False` runs the test on the unchanged copy: the baseline, which must pass."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="guide-mutant-") as tmp:
        copy = copy_project(root, Path(tmp) / "project", files)
        source = copy / mutant.file
        if apply:
            source.write_text(source.read_text().replace(mutant.find, mutant.replace, 1))
        env = {k: v for k, v in os.environ.items()
               if k not in ("UPDATE_INCLUDES", "COVERAGE_PROCESS_START", "PYTEST_ADDOPTS")}
        argv = [python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-q",
                "-x", *mutant.tests]
        # A session of its own: a run that outlives its bound goes with everything it started.
        proc = subprocess.Popen(argv, cwd=copy, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return Outcome(mutant, False, time.monotonic() - started,
                           f"no verdict within {TIMEOUT_S} s")
        seconds = time.monotonic() - started
    # pytest exits 1 when a test failed; 0 is a survivor; anything else (no such test, a
    # collection error, an interrupted run) says nothing about the claim.
    if proc.returncode == 1:
        return Outcome(mutant, True, seconds, "failed")
    if proc.returncode == 0:
        return Outcome(mutant, False, seconds, "passed: the mutant survived")
    tail = "\n".join(output.strip().splitlines()[-5:])
    return Outcome(mutant, False, seconds, f"pytest exited {proc.returncode}:\n{tail}")


def markdown(outcomes: list[Outcome], wall: float, jobs: int) -> str:
    claims = {o.mutant.claim for o in outcomes}
    killed = sum(o.killed for o in outcomes)
    lines = [f"**{len(claims)} claims, {len(outcomes)} mutations: {killed} of "
             f"{len(outcomes)} killed.** The whole check took {wall:.0f} s, {jobs} at a time, on "
             "the run that wrote this table (`make mutants`).", "",
             "| Page | Claim | Change to the example | Proof that must fail | Outcome |",
             "|---|---|---|---|---|"]
    for o in outcomes:
        m = o.mutant
        proofs = []
        for test in m.tests:
            test_file, _, function = test.partition("::")
            function = function.split("[")[0]
            source = test_file.removesuffix(".py") + ".md"
            proofs.append(f"[`{function}`](source/{source}#{function})")
        title = m.page.rsplit("/", 1)[-1].removesuffix(".md")
        after = code(m.replace) if m.replace.strip() else "removed"
        change = f"`{m.file}`: {code(m.find)} → {after}"
        verdict = f"killed ({o.seconds:.1f} s)" if o.killed else f"**survived** ({o.how})"
        lines.append(f"| [{title}]({m.page}) | {escape(m.claim)} | {change} | "
                     f"{', '.join(proofs)} | {verdict} |")
    return "\n".join(lines) + "\n"


def code(text: str) -> str:
    """`text` as inline code in a table cell: one line, pipes escaped."""
    one_line = " ".join(part.strip() for part in text.strip().splitlines())
    return "`" + one_line.replace("|", "\\|") + "`"


def escape(text: str) -> str:
    return text.replace("|", "\\|")


def masked(text: str) -> str:
    """Times vary from run to run; the claims, changes and verdicts must not."""
    return re.sub(r"\d+(\.\d+)? s\b", "N s", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="only", help="only entries whose claim or page has this")
    parser.add_argument("--jobs", type=int, default=2, help="entries run at once (2)")
    parser.add_argument("--list", action="store_true", help="check and list; run nothing")
    parser.add_argument("--baseline", action="store_true",
                        help="run each proof on the unchanged copy instead: it must pass")
    parser.add_argument("--table", type=Path, default=TABLE)
    args = parser.parse_args(argv)

    mutants = load(args.table)
    wrong = problems(mutants)
    if wrong:
        print("tests/mutants.toml:\n  " + "\n  ".join(wrong), file=sys.stderr)
        return 2
    chosen = [m for m in mutants if not args.only or args.only in m.claim or args.only in m.page]
    if args.list or not chosen:
        for m in chosen:
            print(f"{m.page}: {m.label}")
        print(f"{len({m.claim for m in chosen})} claims, {len(chosen)} mutations")
        return 0 if chosen else 2

    python, started = str(ROOT / ".venv" / "bin" / "python"), time.monotonic()
    with (tempfile.TemporaryDirectory(prefix="guide-mutants-") as tmp,
          ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool):
        # One snapshot of the project, taken now: every entry starts from the same files,
        # whatever is edited in the work tree while the check runs.
        files = project_files(ROOT)
        snapshot = copy_project(ROOT, Path(tmp) / "snapshot", files)
        futures = [pool.submit(run_one, m, snapshot, files, python, not args.baseline)
                   for m in chosen]
        outcomes = []
        for future in futures:  # in table order, each printed as soon as it is known
            outcome = future.result()
            outcomes.append(outcome)
            if args.baseline:
                ok = outcome.how.startswith("passed")
                print(f"{'PASSES' if ok else 'FAILS '} {outcome.seconds:6.1f} s  "
                      f"{outcome.mutant.label}" + ("" if ok else f"\n         {outcome.how}"),
                      flush=True)
                continue
            word = "KILLED  " if outcome.killed else "SURVIVED"
            print(f"{word} {outcome.seconds:6.1f} s  {outcome.mutant.label}"
                  + ("" if outcome.killed else f"\n         {outcome.how}"), flush=True)
    wall = time.monotonic() - started
    if args.baseline:
        passing = sum(o.how.startswith("passed") for o in outcomes)
        print(f"baseline: {passing} of {len(outcomes)} proofs pass unchanged, in {wall:.0f} s")
        return 0 if passing == len(outcomes) else 1
    killed = sum(o.killed for o in outcomes)
    print(f"{len({m.claim for m in chosen})} claims, {len(chosen)} mutations: {killed} of "
          f"{len(chosen)} killed, in {wall:.0f} s ({args.jobs} at a time)")
    if chosen == mutants and args.table == TABLE:
        sys.path.insert(0, str(ROOT / "tests"))
        from support.includes import write_include

        try:
            write_include(INCLUDE, markdown(outcomes, wall, args.jobs), same=masked)
        except AssertionError as error:
            print(error, file=sys.stderr)
            return 1
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main())
