"""tools/rehearse.py: the cheat sheets and the practice mode's questions are the pages' own.

The committed files must be exactly what the tool writes from the pages now, every question
page of every section must be on its sheet with its What to say, and the line a page marks
(`data-cheat` on a fence) must be one line of that block as the build expands it. The
printed and browser side is tested in tests/site/test_cheat_sheets.py and
tests/site/test_practice_mode.py.
"""

import json
import re

import pytest
import rehearse
import sections

from support.docs_pages import DOCS, expanded, fences, raw

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process


def test_committed_sheets_and_questions_are_what_the_pages_say_now():
    stale = [p.relative_to(rehearse.ROOT).as_posix() for p in rehearse.stale()]
    assert stale == [], f"out of date, run `python tools/rehearse.py`: {stale}"


def test_every_question_page_of_every_section_is_on_its_sheet():
    data = json.loads(rehearse.PRACTICE_JSON.read_text())
    in_json = {s["name"]: [q["number"] for q in s["questions"]] for s in data["sections"]}
    counted = 0
    for section in sections.all_sections():
        # Found from the description and the folder, not from a list.
        pages = sorted(p.name for p in section.docs.glob("q*-*.md"))
        first, last = section.questions
        pages = [p for p in pages if first <= int(re.match(r"q(\d+)-", p)[1]) <= last]
        if not pages:
            continue
        sheet = (section.docs / rehearse.SHEET).read_text()
        for page in pages:
            q = rehearse.question(f"{section.name}/{page}")
            assert f"## [{q.title}]({page})" in sheet
            assert f"> {q.say}\n" in sheet
            assert q.number in in_json[section.name]
            counted += 1
        assert len(in_json[section.name]) == len(pages)
    assert counted >= 15


def test_the_what_to_say_and_follow_ups_are_taken_whole():
    page = "databases/q37-n-plus-one.md"
    q = rehearse.question(page)
    box = re.search(r'!!! quote "What to say"\n((?: {4}.*\n)+)', raw(page))[1]
    assert q.say == " ".join(box.split())
    assert len(q.follow_ups) == raw(page).count('??? question "')
    title, answer = q.follow_ups[0]
    assert title == 'Should relationships be eager by default, `lazy="selectin"` on the model?'
    assert answer.startswith("It removes N+1 everywhere") and "fails loudly." in answer


@pytest.mark.parametrize("section", [s.name for s in sections.all_sections()
                                     if rehearse.question_pages(s)])
def test_every_question_page_marks_the_line_that_shows_it(section):
    for page in rehearse.question_pages(sections.get(section)):
        q = rehearse.question(page)
        assert q.line, f"{page}: no fence carries data-cheat=\"…\""
        # The line as the reader sees it in the page's block, code from examples/ included.
        marked = [f for f in fences(expanded(page)) if "data-cheat=" in f.info]
        assert [line.strip() for line in marked[0].body.split("\n")].count(q.line) == 1


def test_a_mark_that_matches_no_line_or_two_fails_loudly():
    text = '```python {data-cheat="nowhere"}\nx = 1\n```\n'
    with pytest.raises(ValueError, match="matches 0 lines"):
        rehearse.marked_line("x.md", text)
    text = '```python {data-cheat="x"}\nx = 1\nx = 2\n```\n'
    with pytest.raises(ValueError, match="matches 2 lines"):
        rehearse.marked_line("x.md", text)
    assert rehearse.marked_line("x.md", '```bash {data-cheat="up"}\nmake\ndocker compose up\n```\n'
                                ) == ("docker compose up", "bash", "")


def test_links_in_answers_open_the_built_pages_from_practice():
    html = rehearse._html("[t](../source/tests/databases/test_n_plus_one.md#test_x) and "
                          "[i](index.md)", "databases/q37-n-plus-one.md")
    assert 'href="../source/tests/databases/test_n_plus_one/#test_x"' in html
    assert 'href="../databases/"' in html
    # Every link of the JSON points at a page the build writes.
    data = rehearse.PRACTICE_JSON.read_text()
    for target in set(re.findall(r'href=\\"\.\./([^"#\\]*)', data)):
        built = target.rstrip("/") + ".md" if target else "index.md"
        assert (DOCS / built).exists() or (DOCS / target / "index.md").exists() \
            or target.startswith("source/"), target
