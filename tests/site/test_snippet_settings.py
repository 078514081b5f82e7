"""Code shown on the pages reads only settings a reader sets.

Every snippet section (`# --8<-- [start:x]` … `[end:x]`) of examples/**/*.py and tools/*.py
is code a reader copies. An environment variable read inside one must be a setting the
sandbox documents, in docker-compose.yml or .env.example; a variable that only tests set
(a shortened delay, a pause before a crash) belongs in the test configuration instead
(support.launch), not in the published code.
"""

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.docs_pages import SECTION_MARKER
from support.paths import ROOT

DOCUMENTED_IN = [ROOT / "docker-compose.yml", ROOT / ".env.example"]


@dataclass(frozen=True)
class Read:
    path: str
    line: int
    section: str
    name: str | None  # None: not a string literal, so nobody can tell what it reads

    def __str__(self) -> str:
        return f"{self.path}:{self.line} [{self.section}] {self.name or '<not a literal>'}"


def sections(source: str) -> list[tuple[str, int, int]]:
    """(name, first line, last line) of each snippet section, 1-based and inclusive."""
    found, open_at = [], {}
    for number, line in enumerate(source.splitlines(), 1):
        if marker := SECTION_MARKER.search(line):
            if marker["type"] == "start":
                open_at[marker["name"]] = number
            else:
                found.append((marker["name"], open_at.pop(marker["name"]), number))
    assert not open_at, f"sections without an end marker: {sorted(open_at)}"
    return found


def _is_os_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ"
            and isinstance(node.value, ast.Name) and node.value.id == "os")


def env_reads(source: str) -> list[tuple[int, str | None]]:
    """(line, variable) of every os.environ.get, os.getenv and os.environ[...] in `source`."""
    reads = []
    for node in ast.walk(ast.parse(source)):
        key = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            func = node.func
            environ_get = func.attr == "get" and _is_os_environ(func.value)
            getenv = (func.attr == "getenv" and isinstance(func.value, ast.Name)
                      and func.value.id == "os")
            if (environ_get or getenv) and node.args:
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_os_environ(node.value):
            key = node.slice
        else:
            continue
        if key is not None:
            literal = isinstance(key, ast.Constant) and isinstance(key.value, str)
            reads.append((node.lineno, key.value if literal else None))
    return reads


def reads_in_sections(path: Path, root: Path = ROOT) -> list[Read]:
    source = path.read_text()
    spans = sections(source)
    return [Read(path.relative_to(root).as_posix(), line, name, variable)
            for line, variable in sorted(env_reads(source), key=lambda read: read[0])
            for name, first, last in spans if first < line < last]


def documented(name: str | None, texts: list[str]) -> bool:
    return name is not None and any(re.search(rf"\b{re.escape(name)}\b", t) for t in texts)


def undocumented(reads: list[Read], texts: list[str]) -> list[Read]:
    return [read for read in reads if not documented(read.name, texts)]


def published_modules() -> list[Path]:
    return sorted([*ROOT.glob("examples/**/*.py"), *ROOT.glob("tools/*.py")])


def test_every_env_read_in_a_snippet_is_a_documented_setting():
    texts = [path.read_text() for path in DOCUMENTED_IN]
    reads = [read for path in published_modules() for read in reads_in_sections(path)]
    print("\n" + "\n".join(map(str, reads)))
    assert reads, "no environment read found at all: the scan itself is broken"
    assert {read.name for read in reads} >= {"CELERY_BROKER_URL", "SMTP_HOST"}
    assert undocumented(reads, texts) == []


PLANTED = '''\
import os

# --8<-- [start:task]
def send(to):
    delay = float(os.environ.get("WELCOME_DELAY", "2"))  # a knob only a test turns
    retries = int(os.getenv("EMAIL_RETRY_DELAY", "60"))
    host = os.environ["SMTP_HOST"]  # documented
    other = os.environ.get(NAME)  # not a literal: nobody can tell
    return delay, retries, host, other
# --8<-- [end:task]

OUTSIDE = os.environ.get("ONLY_OUTSIDE")  # not shown on any page
'''


@pytest.fixture
def planted(tmp_path) -> list[Read]:
    module = tmp_path / "examples" / "demo" / "knobs.py"
    module.parent.mkdir(parents=True)
    module.write_text(PLANTED)
    return reads_in_sections(module, root=tmp_path)


def test_a_planted_test_knob_is_caught(planted):
    """The check can fail: reads the compose file and .env.example don't name are reported."""
    texts = [path.read_text() for path in DOCUMENTED_IN]
    assert [(r.line, r.section, r.name) for r in planted] == [
        (5, "task", "WELCOME_DELAY"), (6, "task", "EMAIL_RETRY_DELAY"),
        (7, "task", "SMTP_HOST"), (8, "task", None)]
    assert [r.name for r in undocumented(planted, texts)] == [
        "WELCOME_DELAY", "EMAIL_RETRY_DELAY", None]


def test_a_name_counts_as_documented_only_as_a_whole_word():
    assert documented("SMTP_HOST", ["SMTP_HOST: mailpit"])
    assert not documented("SMTP", ["SMTP_HOST: mailpit"])
    assert not documented("HOST", ["SMTP_HOST: mailpit"])
    assert not documented(None, ["anything"])


def test_a_section_without_its_end_marker_fails_the_scan():
    with pytest.raises(AssertionError, match="without an end marker"):
        sections("# --8<-- [start:open]\nx = 1\n")
