"""tools/home_page.py: the home page lists every section and every question page, from the
description, and is never stale; the README lists the same sections."""

import re

import home_page
import sections

from support.docs_pages import DOCS, ROOT, question_pages

HOME = DOCS / "index.md"


def test_the_committed_home_page_is_what_the_tool_writes_now():
    text = HOME.read_text()
    assert home_page.update(text, sections.all_sections(), DOCS) == text, (
        "docs/index.md is stale: run `python tools/home_page.py`")


def test_it_links_every_section_and_the_30_second_answer_of_every_question_page():
    text = HOME.read_text()
    for section in sections.all_sections():
        assert f"## {section.title} ({section.label})" in text
        assert f"]({section.name}/index.md)" in text
    pages = question_pages()
    assert len(pages) >= len(sections.all_sections())
    for page in pages:
        assert f"]({page}#in-30-seconds)" in text, f"the home page misses {page}"
    first, last = sections.all_sections()[0].questions[0], sections.all_sections()[-1].questions[1]
    assert f"questions Q{first} to Q{last}" in text


def write_section(root, name, questions, pages):
    docs = root / "docs" / name
    docs.mkdir(parents=True)
    (docs / "index.md").write_text(f"# {name}\n")
    for file, heading in pages.items():
        (docs / file).write_text(f"# {heading}\n\nText.\n")
    return f'[[tool.guide.sections]]\nname = "{name}"\ntitle = "{name.title()}"\n' \
           f'questions = {questions}\nservices = []\nabout = "About {name}."\n'


def test_a_new_page_or_section_appears_and_rehearsing_only_once_its_pages_exist(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    entries = write_section(tmp_path, "alpha", [1, 2], {"q1-one.md": "Q1 One?",
                                                       "notes.md": "Notes"})
    entries += write_section(tmp_path, "beta", [3, 4], {})
    pyproject.write_text('[project]\ndependencies = []\n[project.optional-dependencies]\n'
                         'alpha = []\nbeta = []\n' + entries)
    docs = tmp_path / "docs"
    described = sections.load(pyproject)
    text = home_page.render(described, docs)
    assert "covers two sections, questions Q1 to Q4: **Alpha** and **Beta**" in text
    assert "- [Q1 One?](alpha/q1-one.md) · [the answer in 30 seconds](alpha/q1-one.md#in-30-" in (
        text)
    assert "Also in this section: [Notes](alpha/notes.md)." in text
    assert "## Beta (Q3–Q4)" in text and "- No question page yet." in text
    assert "Rehearse" not in text
    # A new question page, the practice mode and a cheat sheet: the list follows them.
    (docs / "beta" / "q3-three.md").write_text("# Q3 Three?\n")
    (docs / "practice.md").write_text("# Practice\n")
    (docs / "alpha" / "cheat-sheet.md").write_text("# Alpha on one sheet\n")
    text = home_page.render(described, docs)
    assert "- [Q3 Three?](beta/q3-three.md)" in text
    assert ("Rehearse: [practice mode](practice.md) · cheat sheets: "
            "[Alpha](alpha/cheat-sheet.md)") in text
    assert "Also in this section: [Notes](alpha/notes.md)." in text  # not the sheet


README_SECTION = re.compile(r"^- \*\*(?P<title>[^*]+)\*\* \((?P<label>Q\d+–Q\d+)\)", re.M)


def test_the_readme_lists_the_sections_of_the_description_in_order():
    listed = [(m["title"], m["label"]) for m in
              README_SECTION.finditer((ROOT / "README.md").read_text())]
    assert listed == [(s.title, s.label) for s in sections.all_sections()], (
        "README.md's list of sections differs from pyproject.toml's [tool.guide]")
