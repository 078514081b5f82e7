"""The sandbox on a real Docker engine: built, healthy, the pages' commands replayed, mail seen.

Where a Docker engine answers and the base images are there (or can be pulled), the test
copies the repository's tracked files to a temporary folder and, from there:

1. `docker compose up -d --build --wait`: the image builds and every healthcheck passes,
   as the engine runs them;
2. replays every command of the sandbox page and of the sandbox sections the question pages
   include, block by block, in bash, as a reader would paste them (a block's variables,
   like TASK_ID, live for that block);
3. asks Mailpit's API for the mails the replay sent;
4. stops the worker, queues three signups, `docker compose kill -s SIGKILL redis`, starts
   Redis again: the three messages are still in the list (AOF on), and the worker, started
   again, sends the three mails;
5. `docker compose down -v`, whatever happened.

Where no engine answers, or the images cannot be had, it skips and says why. A GitHub
Actions workflow (.github/workflows/sandbox-engine.yml) runs it on every push.
"""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from support import docs_pages
from support.sandbox import ROOT, resolved
from support.waiting import port_open, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800),
              pytest.mark.usefixtures("untraced_module")]

PROJECT = "celery-guide-engine-test"
PAGES = ["sandbox.md", "_includes/q26-sandbox.md", "_includes/q27-sandbox.md",
         "_includes/q28-sandbox.md"]
# Commands the test runs itself (start, reset) or that never end (MONITOR until Ctrl+C).
NOT_REPLAYED = [r"^docker compose (up -d --build|down)\b", r"\bMONITOR$"]
PUBLISHED = {"api": 8000, "flower": 5555, "mailpit": 8025}
SIGNUPS = [f"kept-{i}@example.com" for i in range(3)]


def docker(*args: str, cwd: Path | None = None, timeout: float = 120,
           check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(["docker", *args], cwd=cwd, capture_output=True, text=True,
                         timeout=timeout)
    if check and out.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} exited {out.returncode}:\n"
                             f"{out.stdout}\n{out.stderr}")
    return out


def engine_missing() -> str | None:
    """Why this machine cannot run the test, or None."""
    if shutil.which("docker") is None:
        return "no docker CLI on PATH"
    info = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                          capture_output=True, text=True, timeout=30)
    if info.returncode != 0:
        return f"no Docker engine answers: {info.stderr.strip()[:200]}"
    version = subprocess.run(["docker", "compose", "version", "--short"],
                             capture_output=True, text=True, timeout=30)
    if version.returncode != 0:
        return "no `docker compose` (Compose v2) plugin"
    busy = [f"{name} ({port})" for name, port in PUBLISHED.items() if port_open(port)]
    if busy:
        return f"the sandbox's ports are taken on 127.0.0.1: {', '.join(busy)}"
    return None


def base_images() -> list[str]:
    dockerfile = (ROOT / "Dockerfile").read_text()
    images = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    images += [s["image"] for s in resolved()["services"].values()
               if "image" in s and "build" not in s]
    return sorted(set(images))


def images_missing() -> str | None:
    for image in base_images():
        if docker("image", "inspect", image, check=False).returncode != 0:
            pulled = docker("pull", image, timeout=600, check=False)
            if pulled.returncode != 0:
                return f"base image {image} is not here and cannot be pulled: " + (
                    pulled.stderr.strip()[:200])
    return None


def clean_copy(dest: Path) -> Path:
    """The repository's tracked files (as they are in the working tree), nothing else."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


def shown_blocks() -> list[tuple[str, list[str]]]:
    """(where, commands) of every bash block on the sandbox pages, in page order."""
    blocks = []
    for page in PAGES:
        text = (docs_pages.expanded(page) if not page.startswith("_includes/")
                else (docs_pages.DOCS / page).read_text())
        for fence in docs_pages.fences(text, page):
            if fence.lang != "bash":
                continue
            lines = [line.strip() for line in fence.body.replace("\\\n", " ").split("\n")]
            commands = [c for c in lines if c and not c.startswith("#")
                        and not any(re.search(p, c) for p in NOT_REPLAYED)]
            if commands:
                blocks.append((f"{page}:{fence.line}", commands))
    return blocks


def test_the_pages_show_blocks_to_replay():
    blocks = shown_blocks()
    assert len(blocks) >= 8, blocks
    every = [c for _, commands in blocks for c in commands]
    assert any(c.startswith("docker compose exec redis") for c in every)
    assert any("/send-email" in c for c in every)
    assert not any("MONITOR" in c or c.startswith("docker compose down") for c in every)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    reason = engine_missing() or images_missing()
    if reason:
        pytest.skip(reason)
    copy = clean_copy(tmp_path_factory.mktemp("sandbox-copy"))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("CELERY_", "SMTP_", "COMPOSE_", "CLEANUP_"))}
    env["COMPOSE_PROJECT_NAME"] = PROJECT

    def compose(*args: str, timeout: float = 300, check: bool = True):
        out = subprocess.run(["docker", "compose", *args], cwd=copy, env=env,
                             capture_output=True, text=True, timeout=timeout)
        print(f"$ docker compose {' '.join(args)}  -> {out.returncode}")
        if check and out.returncode != 0:
            logs = subprocess.run(["docker", "compose", "logs", "--tail", "30"], cwd=copy,
                                  env=env, capture_output=True, text=True, timeout=60)
            raise AssertionError(f"{out.stdout}\n{out.stderr}\n{logs.stdout}")
        return out

    started = time.monotonic()
    try:
        compose("up", "-d", "--build", "--wait", timeout=1200)
        print(f"up --build --wait: every service healthy after "
              f"{time.monotonic() - started:.0f} s")
        yield copy, env, compose
    finally:
        compose("down", "-v", "--remove-orphans", timeout=300, check=False)


def mailpit_messages() -> list[dict]:
    import httpx

    response = httpx.get("http://127.0.0.1:8025/api/v1/messages?limit=200", timeout=10)
    response.raise_for_status()
    return response.json()["messages"]


def recipients() -> list[str]:
    return [to["Address"] for m in mailpit_messages() for to in m["To"]]


def test_every_service_is_healthy(sandbox):
    _, _, compose = sandbox
    out = compose("ps", "--format", "json").stdout.strip()
    # Compose prints one JSON object a line (an array before v2.21).
    states = json.loads(out) if out.startswith("[") else [
        json.loads(line) for line in out.splitlines() if line.strip()]
    health = {s["Service"]: s["Health"] for s in states}
    print(f"services: {health}")
    assert health == dict.fromkeys(["api", "beat", "flower", "mailpit", "redis", "worker"],
                                   "healthy")


def test_the_pages_commands_run_and_the_mail_reaches_mailpit(sandbox):
    copy, env, _ = sandbox
    replayed = 0
    for where, commands in shown_blocks():
        script = "set -euo pipefail\n" + "\n".join(commands)
        out = subprocess.run(["bash", "-c", script], cwd=copy, env=env, capture_output=True,
                             text=True, timeout=300, stdin=subprocess.DEVNULL)
        print(f"{where}: {len(commands)} commands -> exit {out.returncode}")
        assert out.returncode == 0, f"{where}\n{script}\n{out.stdout}\n{out.stderr}"
        replayed += len(commands)
    print(f"replayed {replayed} commands")
    # The mails the pages send: the tour's, the signups' (welcome mails).
    expected = {"reader@example.com", "ada@example.com", "grace@example.com",
                "kept@example.com"}
    seen = wait_until(lambda: expected <= set(recipients()) and recipients(), 60,
                      f"Mailpit to hold mail for {sorted(expected)}")
    print(f"Mailpit holds {len(seen)} mails, for {sorted(set(seen))}")


def test_queued_tasks_survive_a_redis_kill(sandbox):
    _, _, compose = sandbox
    compose("stop", "worker")
    for email in SIGNUPS:
        out = subprocess.run(
            ["curl", "-s", "-X", "POST", "http://127.0.0.1:8000/q27/celery/signup",
             "-H", "Content-Type: application/json", "-d", json.dumps({"email": email})],
            capture_output=True, text=True, timeout=30)
        assert '"task_id"' in out.stdout, out.stdout

    def llen() -> int:
        return int(compose("exec", "-T", "redis", "redis-cli", "LLEN", "celery").stdout)

    assert llen() == len(SIGNUPS)
    compose("kill", "-s", "SIGKILL", "redis")
    compose("up", "-d", "--wait", "redis")
    kept = llen()
    print(f"after kill -s SIGKILL redis and a restart: {kept} of {len(SIGNUPS)} still queued")
    assert kept == len(SIGNUPS)
    compose("up", "-d", "--wait", "worker")
    wait_until(lambda: set(SIGNUPS) <= set(recipients()), 60, "the kept signups' mails")
    assert llen() == 0
