"""The answers as a reader uses them: sayable in 30 seconds, and every proof one click away.

- Every "What to say" box (`!!! quote "What to say…"`) holds at most 80 words, code spans
  included, and every question page has one.
- Every link to a test's published page (`source/tests/…`) opens a test function: its
  anchor is the name of a `def test_…` in that file. Only a link whose text is the file's
  own path may open the top of the page.
- Every "The usual version says…" box, and every row of Q27's comparison table, links at
  least one test function.
- The visibility-timeout figures Q28 quotes are the ones the test runs, and the words of the
  benchmarks page stay within what the committed run measured.

The built site gives each `def test_…` its anchor (tools/source_pages.py), and
test_site_links checks that every anchor of the built site resolves.
"""

import json
import re
from pathlib import Path

import pytest

from support.docs_pages import (
    DOCS,
    NOT_PAGES,
    QUESTION_FILE,
    ROOT,
    composed,
    question_pages,
)

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

MAX_WORDS = 80
BOX = re.compile(r'^(?P<indent> *)!!! quote "What to say[^"]*"\n(?P<body>(?:(?P=indent) {4}.*\n|\n)+)',
                 re.M)
USUAL = re.compile(r'^(?P<indent> *)[!?]{3}\+? (?:warning|danger) "(?:The usual version says|'
                   r'Missing from the usual version)[^\n]*\n(?P<body>(?:(?P=indent) {4}.*\n|\n)+)',
                   re.M)
TEST_LINK = re.compile(r"\[(?P<text>[^\]]+)\]\((?P<target>(?:\.\./)*source/(?P<file>tests/[^)#]+)"
                       r"\.md)(?:#(?P<anchor>[^)]+))?\)")
ALL_MARKDOWN = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")
                      if not {"hooks", "source"} & set(p.relative_to(DOCS).parts))


def words(body: str) -> int:
    """Spoken words: every whitespace-separated token, so a code span counts as words too."""
    return len(re.sub(r"\*\*|__", "", body).split())


def boxes(text: str) -> list[str]:
    return [m["body"] for m in BOX.finditer(text)]


def test_every_question_file_is_a_question_of_its_section():
    """A page named q<N>-… is one of its section's questions by the description: one that
    falls outside every range would miss every check of a question page."""
    named = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.glob("*/q*.md")
                   if QUESTION_FILE.match(p.name) and p.parent.name not in NOT_PAGES)
    assert named == sorted(question_pages())
    numbers = [int(QUESTION_FILE.match(p.split("/")[1])[1]) for p in question_pages()]
    assert len(numbers) == len(set(numbers)), "two pages share a question number"


# The parts of every question page, in this order.
PARTS = ["## In 30 seconds", '!!! quote "What to say"', "## The full answer",
         "The usual version says", "## Follow-up questions", "## Try it", "### In the sandbox",
         "## Sources"]


@pytest.mark.parametrize("page", question_pages())
def test_each_question_page_has_every_part_in_order(page):
    text = composed(page)
    positions = {part: text.find(part) for part in PARTS}
    missing = [part for part, at in positions.items() if at == -1]
    assert not missing, f"{page}: no {missing}"
    assert list(positions.values()) == sorted(positions.values()), positions


def test_every_question_page_has_a_what_to_say_box():
    questions = question_pages()
    assert len(questions) >= 3
    for page in questions:
        assert boxes(composed(page)), f"{page} has no What to say box"


@pytest.mark.parametrize("page", [p for p in ALL_MARKDOWN if boxes((DOCS / p).read_text())])
def test_what_to_say_fits_in_30_seconds(page):
    for body in boxes((DOCS / page).read_text()):
        count = words(body)
        print(f"{page}: {count} words")
        assert count <= MAX_WORDS, f"{page}: a What to say box of {count} words:\n{body}"


def test_the_word_count_sees_code_spans_and_nested_boxes():
    text = ('!!! quote "What to say"\n    One `task_acks_late=True` **two** `a b`.\n\n'
            '!!! quote "What to say, with numbers"\n    Three words here.\n')
    assert [words(b) for b in boxes(text)] == [5, 3]


def proof_links(page_text: str) -> list[re.Match]:
    return list(TEST_LINK.finditer(page_text))


def functions_of(file: str) -> set[str]:
    return set(re.findall(r"^(?:async )?def (test_\w+)\(", (ROOT / f"{file}.py").read_text(), re.M))


@pytest.mark.parametrize("page", ALL_MARKDOWN)
def test_every_proof_link_opens_a_test_function(page):
    for link in proof_links((DOCS / page).read_text()):
        if link["anchor"] is None:
            assert link["text"].strip("`") == f"{link['file']}.py", (
                f"{page}: {link[0]} opens a whole test module; link the function (#test_…)")
        else:
            assert link["anchor"] in functions_of(link["file"]), (
                f"{page}: {link[0]}: no def {link['anchor']} in {link['file']}.py")


def test_every_usual_version_box_links_a_test_function():
    found = 0
    for page in ALL_MARKDOWN:
        for box in USUAL.finditer((DOCS / page).read_text()):
            found += 1
            assert any(link["anchor"] for link in proof_links(box["body"])), (
                f"{page}: a box without a proof link:\n{box[0][:200]}")
    assert found >= 15


def test_every_row_of_q27s_table_links_a_test_function():
    text = (DOCS / "celery/q27-celery-vs-backgroundtasks.md").read_text()
    table = text.split("### The comparison, corrected", 1)[1].split("\n\n|", 1)[1].split("\n\n")[0]
    rows = [row for row in ("|" + table).splitlines()[2:] if row.startswith("|")]
    assert len(rows) >= 8
    for row in rows:
        assert any(link["anchor"] for link in proof_links(row)), f"a row without a proof: {row}"


def test_the_checks_catch_a_module_link_and_a_missing_function():
    module_link = "[`test_crash_safety`](../source/tests/celery/test_crash_safety.md)"
    (link,) = proof_links(module_link)
    assert link["anchor"] is None and link["text"].strip("`") != f"{link['file']}.py"
    (link,) = proof_links("[x](../source/tests/celery/test_crash_safety.md#test_nothing_at_all)")
    assert link["anchor"] not in functions_of(link["file"])


def test_q28_quotes_the_visibility_timeout_the_test_runs():
    config = (ROOT / "examples/celery/visibility_timeout.py").read_text()
    test = (ROOT / "tests/celery/test_visibility_timeout.py").read_text()
    timeout = re.search(r'"visibility_timeout": (\d+)', config)[1]
    countdown = re.search(r'remind", \["late"\], countdown=([\d.]+)', test)[1]
    page = (DOCS / "celery/q28-how-celery-works.md").read_text()
    assert f"a {timeout} s visibility timeout and a {countdown} s countdown" in page
    assert not re.search(r"visibility_timeout=10|countdown=30|2 s visibility", page)


def test_pages_name_the_test_pages_they_link_to():
    """A guard on the guard: the pages link many test functions, and each file exists."""
    links = [link for page in ALL_MARKDOWN for link in proof_links((DOCS / page).read_text())]
    anchored = [link for link in links if link["anchor"]]
    print(f"{len(anchored)} proof links to test functions, {len(links) - len(anchored)} to files")
    assert len(anchored) >= 60
    for link in links:
        assert Path(ROOT / f"{link['file']}.py").exists(), link[0]


# The words of the benchmarks page, and the range of the committed run each one stands for.
# `make bench` rewrites docs/assets/benchmark.json; when a new run leaves a range, the words
# must change with it.
BENCHMARK_WORDS = [
    ("a small fraction of one Redis `LPUSH`", "call", "add_task", "ratio", 0, 0.1),
    ("`.delay()` costs several\n    `LPUSH`es", "call", "delay", "ratio", 2, 10),
    ("stays around a\n    millisecond", "call", "delay", "median", 300, 3000),  # µs
    ("A Celery round trip costs several bare Redis round trips", "latency", "solo_p50", "ratio",
     2, 10),
    ("several hundred no-op tasks per second", "throughput", "pf1_late", "median", 200, 1000),
    ("`add_task` is hundreds of times\n  cheaper than `.delay()`", "call", "delay/add_task",
     "median", 100, 1000),
]


@pytest.mark.parametrize(("words", "group", "row", "field", "low", "high"), BENCHMARK_WORDS,
                         ids=[w[0].split("\n")[0][:40] for w in BENCHMARK_WORDS])
def test_benchmark_words_follow_the_generated_table(words, group, row, field, low, high):
    run = json.loads((DOCS / "assets/benchmark.json").read_text())
    rows = {r["id"]: r for g in run["groups"] if g["id"] == group for r in g["rows"]}
    if "/" in row:
        over, under = row.split("/")
        value = rows[over][field] / rows[under][field]
    else:
        value = rows[row][field]
    assert words in (DOCS / "celery/benchmarks.md").read_text()
    assert low <= value < high, f"{words!r} stands for {low}-{high}; the run says {value:.3g}"
