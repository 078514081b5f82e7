"""Every sentence an answer asks the reader to say is shown, one click away.

- Below each "What to say" box, a folded "Shown by" box lists each sentence of the box,
  verbatim and in bold, one list item per sentence, in the box's order. After the sentence
  come the test functions that assert exactly it (links to `source/tests/…md#test_…`, a
  `def test_…` of that file), or `Advice:` / `Definition:` and the source of a sentence no
  test can show (a link).
- Every "The usual version says" box ends its "What really happens" with a `**Proof:**`
  naming a test function, or with `Advice:` / `Definition:` and its source.

Sentences are split where a sentence ends, never inside a code span nor after "e.g." or
"i.e.": `engine.dispose()` stays one piece.
"""

import re

import pytest

from support.docs_pages import ROOT, composed, pages

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

SAY = re.compile(r'^(?P<indent> *)!!! quote "What to say"\n(?P<body>(?:(?P=indent) {4}.*\n|\n)+)',
                 re.M)
SHOWN = re.compile(r'(?P<indent> *)\?\?\?\+? success "Shown by"\n'
                   r'(?P<body>(?:(?P=indent) {4}.*\n|\n)+)')
USUAL = re.compile(r'^(?P<indent> *)[!?]{3}\+? (?:warning|danger) "(?:The usual version says|'
                   r'Missing from the usual version)[^\n]*\n(?P<body>(?:(?P=indent) {4}.*\n|\n)+)',
                   re.M)
TEST_LINK = re.compile(r"\]\((?:\.\./)*source/(?P<file>tests/[^)#]+)\.md#(?P<anchor>[^)]+)\)")
SOURCE = re.compile(r"\b(?:Advice|Definition):\s*(?:[^\[]*)\[[^\]]+\]\([^)]+\)")
ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "cf.", "etc.")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"')]?\s+(?=[^a-z\s])")


def flat(text: str) -> str:
    return " ".join(text.split())


def sentences(box: str) -> list[str]:
    """The sentences of a box's text, whitespace folded; a code span is never split."""
    text = flat(box)
    masked = re.sub(r"`[^`]*`", lambda m: "`" + "x" * (len(m[0]) - 2) + "`", text)
    found, start = [], 0
    for end in SENTENCE_END.finditer(masked):
        before = masked[start:end.start()].rsplit(" ", 1)[-1]
        if before.lower().endswith(ABBREVIATIONS) and masked[end.start() - 1] == ".":
            continue
        found.append(text[start:end.start()].strip())
        start = end.end()
    found.append(text[start:].strip())
    return [s for s in found if s]


def dedent(body: str, indent: int) -> str:
    return "\n".join(line[indent:] for line in body.split("\n"))


def items(body: str) -> list[str]:
    """The top-level list items of a box body (already dedented), each folded to one line."""
    found: list[list[str]] = []
    for line in body.split("\n"):
        if line.startswith("- "):
            found.append([line[2:]])
        elif found and (line.startswith(" ") or not line.strip()):
            found[-1].append(line)
    return [flat(" ".join(item)) for item in found]


def bold_opening(item: str, wanted: list[str]) -> tuple[str | None, str]:
    """(sentence, the rest) of an item that opens with `**sentence**`. A sentence that holds
    bold words of its own matches with or without their `**`; else the first bold run."""
    if not item.startswith("**"):
        return None, item
    plain = {s.replace("**", ""): s for s in wanted}
    ends = [m.start() for m in re.finditer(r"\*\*", item)][1:]
    for end in reversed(ends):  # the longest bold opening that is a sentence of the box
        said = plain.get(item[2:end].replace("**", ""))
        if said:
            return said, item[end + 2:]
    return (item[2:ends[0]], item[ends[0] + 2:]) if ends else (None, item)


def functions_in(file: str) -> set[str]:
    path = ROOT / f"{file}.py"
    if not path.exists():
        return set()
    return set(re.findall(r"^(?:async )?def (test_\w+)\(", path.read_text(), re.M))


def shown(rest: str) -> list[str]:
    """Problems with what follows a sentence: no proof, or a link to a function that isn't."""
    links = list(TEST_LINK.finditer(rest))
    problems = [f"{link['file']}.py has no def {link['anchor']}" for link in links
                if link["anchor"] not in functions_in(link["file"])]
    if not links and not SOURCE.search(rest):
        problems.append("no test function, and no Advice:/Definition: with its source")
    return problems


def problems(text: str) -> list[str]:
    """Everything the rules above find wrong in one page's Markdown."""
    found = []
    for say in SAY.finditer(text):
        indent = len(say["indent"])
        wanted = sentences(dedent(say["body"], indent + 4))
        after = text[say.end():]
        box = SHOWN.match(after)
        if not box or len(box["indent"]) != indent:
            found.append(f'no "Shown by" box right after the What to say box: {wanted[0][:60]}…')
            continue
        listed = {}
        for item in items(dedent(box["body"], indent + 4)):
            sentence, rest = bold_opening(item, wanted)
            if sentence is None:
                found.append(f"a Shown by item that does not open with a bold sentence: {item}")
                continue
            listed[sentence] = rest
        for sentence in wanted:
            if sentence not in listed:
                found.append(f"not listed in bold under Shown by: {sentence!r}")
                continue
            found.extend(f"{sentence[:50]!r}: {p}" for p in shown(listed[sentence]))
        found.extend(f"listed but not said (stale?): {s!r}" for s in listed if s not in wanted)
        if list(listed) != [s for s in wanted if s in listed]:
            found.append("the Shown by list is not in the box's order")
    for usual in USUAL.finditer(text):
        body = usual["body"]
        title = flat(usual[0].split("\n", 1)[0])[:90]
        if "**Proof:**" in body:
            proof = body.split("**Proof:**", 1)[1]
            if not list(TEST_LINK.finditer(proof)):
                found.append(f"{title}: its Proof: links no test function")
            found.extend(f"{title}: {p}" for p in shown(proof) if "has no def" in p)
        elif not SOURCE.search(flat(body)):
            found.append(f"{title}: no Proof: and no Advice:/Definition: with its source")
    return found


def answer_pages() -> list[str]:
    return [page for page in pages()
            if SAY.search(composed(page)) or USUAL.search(composed(page))]


@pytest.mark.parametrize("page", answer_pages())
def test_every_sentence_to_say_is_shown(page):
    text = composed(page)
    found = problems(text)
    said = [s for m in SAY.finditer(text) for s in sentences(m["body"])]
    print(f"{page}: {len(said)} sentences to say, {len(found)} problems")
    assert not found, f"{page}:\n  " + "\n  ".join(found)


# The checker, on small synthetic pages: it must catch what it exists to catch.
LINK = "[`{0}`](../source/tests/site/test_shown_by.md#{0})"
PAGE = f'''# Q0

!!! quote "What to say"
    Use `engine.dispose()` in the child, e.g. after a fork. It is one call.
    Take advice.

??? success "Shown by"
    - **Use `engine.dispose()` in the child, e.g. after a fork.**
      {LINK.format("test_the_checker_accepts_a_complete_page")}
    - **It is one call.** {LINK.format("test_the_checker_catches_a_missing_sentence")}
    - **Take advice.** Advice: [a manual, its page](https://example.org/manual)

!!! warning "The usual version says: one thing"
    **What really happens:** another.

    **Proof:** {LINK.format("test_the_checker_catches_a_missing_sentence")}
'''


def test_sentences_end_at_sentence_ends_only():
    assert sentences("Call `engine.dispose()` first, e.g. in the child. Then `a.b` runs! Ok?\n"
                     "    Yes i.e. no. `Done.` Next.") == [
        "Call `engine.dispose()` first, e.g. in the child.", "Then `a.b` runs!", "Ok?",
        "Yes i.e. no.", "`Done.` Next."]


def test_the_checker_accepts_a_complete_page():
    assert problems(PAGE) == []


def test_the_checker_catches_a_missing_sentence():
    planted = PAGE.replace("    Take advice.\n", "    Take advice. Say a new thing.\n")
    assert problems(planted) == ["not listed in bold under Shown by: 'Say a new thing.'"]


@pytest.mark.parametrize("change, problem", [
    (("- **It is one call.**", "- **It is one call**"), "not listed in bold"),
    (("Advice: [a manual", "See [a manual"), "no test function, and no Advice"),
    (("#test_the_checker_accepts_a_complete_page", "#test_nothing_at_all"),
     "has no def test_nothing_at_all"),
    (("    **Proof:** [", "    Also [x](https://example.org) ["), "no Proof: and no Advice"),
    (("??? success \"Shown by\"", "??? note \"Shown by\""), 'no "Shown by" box'),
    (("- **Take advice.**", "- **Take advice, maybe.**"), "listed but not said"),
])
def test_the_checker_catches_each_kind_of_gap(change, problem):
    planted = PAGE.replace(*change)
    assert planted != PAGE
    assert any(problem in p for p in problems(planted)), problems(planted)


def test_a_sentence_with_bold_words_matches_with_or_without_them():
    said = PAGE.replace("fork. It is one call.", "fork. It is **one** call.")
    for listed in ("It is **one** call.", "It is one call."):
        assert problems(said.replace("- **It is one call.**", f"- **{listed}**")) == [], listed
