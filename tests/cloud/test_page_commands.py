"""Every shell block the Cloud pages delegate here runs as written, from a copy of
examples/cloud/ (the folder the pages start from), against servers this module provides:
HAProxy, s3rver (tools/node-deps) and moto's server from the PATH, a private PostgreSQL for
the reader's `localhost:5432/guide`, a private Redis, podman in the tests' own store.

Only what the reader's machine or Docker supplies is rewritten:
- the reader's ports (8000, 8001, 8002, 8080, 4568, 5000) become free ones, in the lines and
  in the copied haproxy.cfg and upload_cors.xml;
- `postgres@localhost:5432/guide` becomes a `guide` database on the private cluster (or, on
  the page whose reader has stopped PostgreSQL, an address where nothing listens);
- `redis://localhost:6379/0` becomes the private Redis;
- `podman` runs with the store, runtime and limits of support.containers;
- `docker compose exec [-w DIR] [-e K=V]... api CMD` runs CMD natively with those variables
  and the sandbox's DATABASE_URL, after Compose has accepted the line; another
  `docker compose ...` line is only checked by Compose (no engine runs here);
- `pip install` and `npm install` lines are not run: pip's requirements must be the extra's.
"""

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sections

from support import docs_pages
from support.containers import CONFINEMENT, Podman
from support.paths import ROOT, TOOLS
from support.sandbox import DAEMON_DOWN, compose
from support.untraced import untraced
from support.waiting import free_port

THIS = "tests/cloud/test_page_commands.py"
CLOUD = ROOT / "examples" / "cloud"
PORTS = (8000, 8001, 8002, 8080, 4568, 5000)
EXEC = re.compile(r"^docker compose exec (?P<flags>(?:-[we] \S+ )*)api (?P<cmd>.+)$")
# What each block must print, besides exiting 0.
EXPECT = {
    "cloud/q47-stateless-services.md": ['"detail":"not logged in"', '"user":"alice"'],
    "cloud/q48-containers.md": [os.uname().release, "refused"],
    "cloud/q49-presigned-uploads.md": ['"url":"http://127.0.0.1:', "is not accepted"],
    "cloud/q50-config-and-secrets.md": ["missing required setting: PAYMENT_API_KEY",
                                        "PUT uploads/report.txt: 200",
                                        "PUT private/report.txt: 403"],
    "cloud/q51-health-and-shutdown.md": ["restarts: "],
    "cloud/q52-observability.md": ['http_requests_total{route="/checkout",status="502"} 2.0',
                                   'checkouts_by_user_total{user_id="10"} 1.0'],
}
EXPECT_SANDBOX = {"cloud/q50-config-and-secrets.md": ["recorded the start in"]}
STOPPED_DATABASE = {"cloud/q51-health-and-shutdown.md"}


def blocks() -> list[tuple[str, int, list[str]]]:
    found = []
    for page in docs_pages.pages():
        for fence in docs_pages.fences(docs_pages.expanded(page), page):
            if fence.lang == "bash" and 'data-check="delegated"' in fence.info \
                    and THIS in fence.info:
                lines = [line.strip() for line in fence.body.splitlines()
                         if line.strip() and not line.strip().startswith("#")]
                found.append((page, fence.line, lines))
    return found


BLOCKS = blocks()


def test_every_cloud_page_delegates_its_try_it_here():
    pages = {page for page, _, _ in BLOCKS}
    assert pages == set(EXPECT), pages


@pytest.fixture(scope="module")
def guide(postgres) -> str:
    url = postgres.create_database("guide")
    yield url
    postgres.drop_database("guide")


def sandboxed(line: str, env: dict[str, str]) -> str:
    m = EXEC.match(line)
    accepted = compose(*shlex.split(line)[2:])
    assert accepted.returncode == 0 or DAEMON_DOWN in accepted.stderr, accepted.stderr
    flags = shlex.split(m["flags"])
    variables = [flags[i + 1] for i in range(0, len(flags), 2) if flags[i] == "-e"]
    assert tuple(flags[:2]) == ("-w", "/app/cloud"), line  # the section's app root
    exports = " ".join(shlex.quote(v) for v in [*variables, f"DATABASE_URL={env['SANDBOX_DB']}"])
    return f"( export {exports}; {m['cmd']} )"


@pytest.mark.slow
@pytest.mark.parametrize("page, line, lines", BLOCKS, ids=[f"{p}:{n}" for p, n, _ in BLOCKS])
def test_the_block_runs_as_written(page, line, lines, postgres, guide, own_stack, tmp_path):
    work = tmp_path / "cloud"
    shutil.copytree(CLOUD, work, ignore=shutil.ignore_patterns("__pycache__"))
    ports = {port: free_port() for port in PORTS}

    def localize(text: str) -> str:
        for reader, ours in ports.items():
            text = re.sub(rf"(?<=[:\s]){reader}\b", str(ours), text)
        database = (f"postgres@127.0.0.1:{free_port()}/guide" if page in STOPPED_DATABASE
                    else guide.split("://", 1)[1])
        text = text.replace("postgres@localhost:5432/guide", database)
        return text.replace("redis://localhost:6379/0", own_stack.redis.url(5))

    for name in ("haproxy.cfg", "upload_cors.xml"):
        (work / name).write_text(localize((work / name).read_text()))
    script = ["set -e"]
    env = {**untraced(), "SANDBOX_DB": guide,
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/sbin",
                                    str(TOOLS / "node" / "node_modules" / ".bin"),
                                    os.environ["PATH"]])}
    env.pop("PYTHONPATH", None)
    if any(text.startswith("s3rver ") for text in lines):
        from support.s3rver import install

        install()
    if any(text.startswith("podman ") for text in lines):
        runtime = Podman.find()
        if runtime is None:
            pytest.skip(f"no container runtime here: missing {', '.join(Podman.missing())}")
        runtime.base_image()
        base = "command " + " ".join(shlex.quote(a) for a in runtime.argv())
        confinement = " ".join(CONFINEMENT)
        script.append(f'podman() {{ case $1 in build|run) local c=$1; shift; '
                      f'{base} "$c" {confinement} "$@" ;; *) {base} "$@" ;; esac; }}')
        work = work / "container"
    expected = EXPECT[page]
    for text in lines:
        if text.startswith(("pip install ", "npm install ")):
            if text.startswith("pip install "):
                assert set(shlex.split(text)[2:]) <= set(sections.get("cloud").extra), text
            continue
        if text.startswith("docker compose exec "):
            script.append(sandboxed(text, env))
            expected = EXPECT_SANDBOX.get(page, [])
        elif text.startswith("docker compose "):  # Compose only: no engine runs here
            accepted = compose(*shlex.split(text)[2:])
            assert accepted.returncode == 0 or DAEMON_DOWN in accepted.stderr, accepted.stderr
            expected = EXPECT_SANDBOX.get(page, [])
        else:
            script.append(localize(text))
    log = tmp_path / "output.txt"
    with open(log, "w") as output:
        proc = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=work, env=env,
                                stdout=output, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)
    try:
        proc.wait(timeout=240)
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):  # whatever the block left running
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            if sig == signal.SIGTERM:
                subprocess.run(["sleep", "1"])
        proc.wait()
        out = log.read_text()
        print(f"{page}:{line}\n{out}")
    assert proc.returncode == 0, f"{page}:{line}\n{out}"
    for text in expected:
        assert text in out, f"{page}:{line}: {text!r} not in the output:\n{out}"
