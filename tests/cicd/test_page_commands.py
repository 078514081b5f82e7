"""Every shell command of the CI/CD pages runs as written, in bash, from a copy of the app
root (examples/cicd/, beside the Databases section's migrations, the workflows, the lock and
tools/), against the test's own servers. Only what the reader's machine supplies is rewritten:

- `localhost:5432/guide`, the reader's database, becomes a fresh database of the private
  PostgreSQL, at the Databases section's revision 0002;
- `localhost:4242` and the token, the reader's Unleash server, become the private one's;
- port 8000 becomes a free port, and `/tmp/` a temporary folder;
- `docker compose exec [-w DIR] api CMD` runs CMD natively with the same DATABASE_URL, after
  Compose has accepted the line (it parses the flags and the service, then stops at the
  missing engine).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support import docs_pages
from support.sandbox import DAEMON_DOWN, compose
from support.unleash import CLIENT_TOKEN
from support.untraced import untraced
from support.waiting import free_port

from .conftest import migrate

ROOT = docs_pages.ROOT
ME = "tests/cicd/test_page_commands.py"
EXEC = re.compile(r"^docker compose exec (?:-w (?P<workdir>\S+) )?(?P<service>[a-z]+) (?P<cmd>.+)$")
PAGES = sorted(p for p in docs_pages.pages() if p.startswith("cicd/"))


def delegated(page: str) -> list[list[str]]:
    """The page's bash blocks delegated to this module, as their command lines."""
    return [[line for line in f.body.splitlines() if line.strip()]
            for f in docs_pages.fences(docs_pages.expanded(page), page)
            if f.lang == "bash" and 'data-check="delegated"' in f.info and ME in f.info]


BLOCKS = [(page, n, lines) for page in PAGES for n, lines in enumerate(delegated(page))]


@pytest.fixture
def copy(tmp_path):
    """The reader's checkout, as the pages' relative paths see it."""
    (tmp_path / "examples").mkdir()
    shutil.copytree(ROOT / "examples" / "cicd", tmp_path / "examples" / "cicd",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "examples" / "databases", tmp_path / "examples" / "databases",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / ".github", tmp_path / ".github")
    shutil.copy(ROOT / "requirements.lock", tmp_path)
    (tmp_path / "tools").symlink_to(ROOT / "tools")
    (tmp_path / "tmp").mkdir()
    return tmp_path


def test_every_page_shows_commands():
    assert {page for page, _, _ in BLOCKS} == {p for p in PAGES if "/q" in p}


@pytest.mark.slow
@pytest.mark.parametrize("page, n, lines", BLOCKS, ids=[f"{p}:{n}" for p, n, _ in BLOCKS])
def test_the_block_runs_as_written(page, n, lines, copy, postgres, monkeypatch, request):
    name = f"cicd_page_{n}_{Path(page).stem[:3]}"
    url = postgres.create_database(name)
    migrate(url, "0002", monkeypatch)
    port = free_port()
    rewrites = {"postgres@localhost:5432/guide": url.split("://", 1)[1],
                "localhost:8000": f"localhost:{port}", "--port 8000": f"--port {port}",
                "/tmp/": f"{copy / 'tmp'}/"}
    if any("localhost:4242" in line for line in lines):
        unleash = request.getfixturevalue("unleash")
        rewrites["localhost:4242"] = f"127.0.0.1:{unleash.port}"
        rewrites["default:development.unleash-insecure-api-token"] = CLIENT_TOKEN
    script = ["set -e"]
    for text in lines:
        for old, new in rewrites.items():
            text = text.replace(old, new)
        m = EXEC.match(text)
        if m:
            accepted = compose(*shlex.split(text)[2:])
            assert accepted.returncode == 0 or DAEMON_DOWN in accepted.stderr, accepted.stderr
            assert m["service"] == "api" and m["workdir"] == "/app/cicd", text
            text = f"( export DATABASE_URL={shlex.quote(url)}; {m['cmd']} )"
        script.append(text)
    env = {**untraced(), "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/unset",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    out = subprocess.run(["bash", "-c", "\n".join(script)], cwd=copy / "examples" / "cicd",
                         env=env, capture_output=True, text=True, timeout=300)
    print(f"{page} block {n}\n{out.stdout}{out.stderr}")
    postgres.drop_database(name)
    assert out.returncode == 0, f"{page} block {n}\n{out.stdout}\n{out.stderr}"
