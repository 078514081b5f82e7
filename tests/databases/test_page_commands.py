"""Every shell command of the Databases pages runs, against the test's own PostgreSQL.

tests/site/test_page_commands.py runs the other sections' commands against a native copy of
the sandbox, which has no PostgreSQL; the Databases pages' blocks run here instead, each in
one bash session from examples/databases/ (the folder the pages say to start from), with
only what the reader's machine or Docker supplies rewritten:

- `localhost:5432/guide`, the reader's database, becomes a fresh `guide` database on the
  private cluster;
- `docker compose exec [-w DIR] api CMD` runs CMD natively with DATABASE_URL aimed at that
  same database, after Compose has accepted the line (it parses the flags and checks the
  service, then stops at the missing engine);
- `pip install …` is not run; its requirements must be pyproject's, word for word.
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import sections

from support import docs_pages
from support.postgres import PostgresServer
from support.sandbox import DAEMON_DOWN, compose
from support.untraced import untraced

ROOT = docs_pages.ROOT
EXAMPLES = ROOT / "examples" / "databases"
EXEC = re.compile(r"^docker compose exec (?:-w (?P<workdir>\S+) )?(?P<service>[a-z]+) (?P<cmd>.+)$")


def blocks() -> list[tuple[str, int, list[str]]]:
    """The shell blocks delegated to this module (`data-check="delegated"` naming it)."""
    found = []
    for page in docs_pages.pages():
        for fence in docs_pages.fences(docs_pages.expanded(page), page):
            if fence.lang == "bash" and 'data-check="delegated"' in fence.info and \
                    "tests/databases/test_page_commands.py" in fence.info:
                lines = [line.strip() for line in fence.body.splitlines()
                         if line.strip() and not line.strip().startswith("#")]
                found.append((page, fence.line, lines))
    return found


BLOCKS = blocks()


@pytest.fixture(scope="module")
def guide(postgres: PostgresServer) -> str:
    url = postgres.create_database("guide")
    yield url
    postgres.drop_database("guide")


def runtime_requirements() -> set[str]:
    return set(sections.get("databases").extra)


def localize(line: str, postgres: PostgresServer) -> str:
    """Only what the reader's machine supplies: the address of their PostgreSQL."""
    return line.replace("postgres@localhost:5432/guide",
                        f"postgres@127.0.0.1:{postgres.port}/guide")


def test_the_pages_show_commands():
    pages = {page for page, _, _ in BLOCKS}
    assert "databases/q35-transactions-and-isolation.md" in pages
    assert all(lines for _, _, lines in BLOCKS)


@pytest.mark.slow  # a Python start per command, like tests/site/test_page_commands.py
@pytest.mark.parametrize("page, line, lines", BLOCKS, ids=[f"{p}:{n}" for p, n, _ in BLOCKS])
def test_the_block_runs_as_written(page, line, lines, postgres, guide):
    script = ["set -e"]
    for text in lines:
        if text.startswith("pip install "):
            shown = set(shlex.split(text)[2:])
            assert shown <= runtime_requirements(), f"{page}:{line}: {text}"
            continue
        m = EXEC.match(text)
        if m:
            accepted = compose(*shlex.split(text)[2:])
            assert accepted.returncode == 0 or DAEMON_DOWN in accepted.stderr, accepted.stderr
            assert m["service"] == "api" and m["workdir"] == "/app/databases", text
            script.append(f"( export DATABASE_URL={shlex.quote(guide)}; {m['cmd']} )")
        else:
            script.append(localize(text, postgres))
    # A block that forgot to set DATABASE_URL must fail, not reach the machine's own server.
    env = {**untraced(), "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/unset",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    out = subprocess.run(["bash", "-c", "\n".join(script)], cwd=EXAMPLES, env=env,
                         capture_output=True, text=True, timeout=120)
    print(f"{page}:{line}\n{out.stdout}{out.stderr}")
    assert out.returncode == 0, f"{page}:{line}\n{out.stdout}\n{out.stderr}"


QUESTION_PAGES = sorted(p for p in docs_pages.pages() if re.match(r"databases/q\d+-", p))
PARTS = ['!!! quote "What to say"', "## The full answer", "The usual version says",
         "## Follow-up questions", "## Try it", "### In the sandbox", "## Sources"]


@pytest.mark.parametrize("page", QUESTION_PAGES)
def test_each_question_page_has_the_house_parts_and_a_short_answer(page):
    text = docs_pages.raw(page)
    positions = [text.find(part) for part in PARTS]
    where = dict(zip(PARTS, positions, strict=True))
    assert -1 not in positions and positions == sorted(positions), where
    box = re.search(r'!!! quote "What to say"\n((?:    .*\n|\n)+)', text)[1]
    words = len(box.split())
    print(f"{page}: What to say, {words} words")
    assert words <= 80
