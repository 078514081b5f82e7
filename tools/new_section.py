"""A new section of the guide, ready to fill in: `make section NAME=testing TITLE="Testing"`.

    python tools/new_section.py --name testing --title Testing [--questions 41-46]

writes, for a section `<name>` whose questions follow the last section's (or --questions):

- its entry in pyproject.toml's [[tool.guide.sections]], and an empty extra `<name>` (what its
  Try it installs: add the section's requirements there, then `python tools/install_line.py`);
- docs/<name>/index.md, and its first question page with every part of one, in order: In 30
  seconds (What to say and its Shown by list), the full answer, the usual version, follow-up
  questions, Try it (the install line, the files to take, the folder, the settings), In the
  sandbox and Sources;
- examples/<name>/<name>_basics.py, one module with a section a page can show, and
  tests/<name>/test_<name>_basics.py, its first test, which passes;
- the section's block in mkdocs.yml's nav, its line in README.md's list of sections, its
  install line (docs/_includes/<name>-install.md), its cheat sheet and practice questions
  (tools/rehearse.py) and the home page's list (docs/index.md);
- where the claims-mutation table (tests/mutants.toml) exists, the first page's entry: the
  change to the example that makes its claim false, and the test that must then fail.

It refuses a name the description already has, or one whose module would shadow another.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import home_page
import install_line
import rehearse
import sections

NAME = re.compile(r"^[a-z][a-z0-9]*$")


def module_name(name: str) -> str:
    return f"{name}_basics"


def description_entry(name: str, title: str, questions: tuple[int, int]) -> str:
    return (f'\n[[tool.guide.sections]]\nname = "{name}"\ntitle = "{title}"\n'
            f"questions = [{questions[0]}, {questions[1]}]\nservices = []\n"
            f'about = "{title}: what to say in an interview, and each claim shown by a test."\n')


def add_to_pyproject(text: str, name: str, title: str, questions: tuple[int, int]) -> str:
    # The extra goes after the last section's, before the project's own (docs, test).
    last_extra = re.search(r"^docs = \[", text, re.M)
    start = last_extra.start()
    while text.rfind("\n#", 0, start - 1) == text.rfind("\n", 0, start - 1):
        start = text.rfind("\n", 0, start - 1) + 1  # above the comment lines of `docs`
    extra = (f"# The {title} section's requirements: what its Try it installs.\n"
             f"{name} = []\n")
    text = text[:start] + extra + text[start:]
    return text.rstrip("\n") + "\n" + description_entry(name, title, questions)


def sources_row(section: sections.Section) -> str:
    module = f"{section.name}/{module_name(section.name)}"
    test = f"{section.name}/test_{module_name(section.name)}"
    return (f"| [examples/{module}.py](../source/examples/{module}.md) "
            f"| [tests/{test}.py](../source/tests/{test}.md) |")


def index_page(section: sections.Section, question: str, heading: str) -> str:
    return f"""# {section.title}

{section.about}

## The questions

{heading.split(" ", 1)[0]} [{heading.split(" ", 1)[1]}]({question})
:   What the page shows, in one or two sentences.

## Sources

| Example module | Tested by |
|---|---|
{sources_row(section)}
"""


def question_page(section: sections.Section, number: int, heading: str) -> str:
    name, module = section.name, module_name(section.name)
    test = f"../source/tests/{name}/test_{module}.md"

    def proof(function: str) -> str:
        return f"[`{function}`]({test}#{function})"

    first = proof("test_the_example_says_what_the_page_says")

    return f"""# {heading}

## In 30 seconds

!!! quote "What to say"
    The central idea first, in one sentence. A second sentence that a test shows.

??? success "Shown by"
    - **The central idea first, in one sentence.** {first}
    - **A second sentence that a test shows.** {proof("test_the_module_runs_as_a_script")}

## The full answer

The answer in depth, each claim next to the code that shows it:

```python {{title="examples/{name}/{module}.py" data-cheat="def answer()"}}
--8<-- "examples/{name}/{module}.py:answer"
```

!!! warning "The usual version says: what the commonly circulated answer claims"
    **What really happens:** what the test observed instead. **Proof:**
    {first}.

## Follow-up questions

??? question "The question an interviewer asks next?"
    Its short answer.

## Try it

--8<-- "docs/_includes/{name}-install.md"

Take `examples/{name}/{module}.py`, and run it from the folder you put it in
(`examples/{name}/` in this repository). It reads no setting from the environment:

```bash {{data-check="native"}}
python {module}.py
```

It prints the answer.

### In the sandbox

The [sandbox](../sandbox.md)'s image holds every section's examples:

```bash {{data-check="sandbox"}}
docker compose exec -w /app/{name} api python {module}.py
```

## Sources

| Example module | Tested by |
|---|---|
{sources_row(section)}
"""


def example_module(section: sections.Section) -> str:
    return f'''"""{section.title}: the first example, shown on the section's first page."""


# --8<-- [start:answer]
def answer() -> str:
    return "the answer"
# --8<-- [end:answer]


if __name__ == "__main__":
    print(answer())
'''


def first_test(section: sections.Section) -> str:
    module = module_name(section.name)
    return f'''"""examples/{section.name}/{module}.py: what its page says, and its Try it line."""

import subprocess
import sys
from pathlib import Path

import {module}


def test_the_example_says_what_the_page_says():
    assert {module}.answer() == "the answer"


def test_the_module_runs_as_a_script():
    out = subprocess.run([sys.executable, "{module}.py"], cwd=Path({module}.__file__).parent,
                         capture_output=True, text=True, timeout=60)
    assert (out.returncode, out.stdout) == (0, "the answer\\n"), out.stderr
'''


def mutant_entry(section: sections.Section, page: str, number: int) -> str:
    module = module_name(section.name)
    return (f'\n[[mutant]]\nclaim = "Q{number}: the example returns the answer the page gives"\n'
            f'page = "{section.name}/{page}"\nfile = "examples/{section.name}/{module}.py"\n'
            f'find = \'return "the answer"\'\nreplace = \'return "another answer"\'\n'
            f'test = "tests/{section.name}/test_{module}.py::'
            f'test_the_example_says_what_the_page_says"\n')


def add_to_nav(text: str, section: sections.Section, question: str, heading: str) -> str:
    """The section's block after the last section's block of the nav."""
    block = (f"  - {section.title}:\n      - {section.name}/index.md\n"
             f'      - "{heading}": {section.name}/{question}\n'
             f'      - "Cheat sheet": {section.name}/{rehearse.SHEET}\n')
    lines = text.split("\n")
    nav = lines.index("nav:")
    last = None
    for i in range(nav + 1, len(lines)):
        if lines[i] and not lines[i].startswith(" "):
            break
        m = re.match(r"^      - .*?([a-z0-9]+)/[^/]+\.md$", lines[i])
        if m and m[1] in {s.name for s in sections.load(section.root / "pyproject.toml")}:
            last = i
    lines.insert(last + 1, block.rstrip("\n"))
    return "\n".join(lines)


def add_to_readme(text: str, section: sections.Section) -> str:
    bullets = list(re.finditer(r"^- \*\*[^*]+\*\* \(Q\d+–Q\d+\).*(?:\n  .*)*", text, re.M))
    end = bullets[-1].end()
    line = f"\n- **{section.title}** ({section.label}): {section.about}"
    return text[:end] + line + text[end:]


def create(root: Path, name: str, title: str,
           questions: tuple[int, int] | None = None) -> list[str]:
    if not NAME.match(name):
        raise SystemExit(f"{name!r}: a section name is lowercase letters and digits")
    existing = sections.load(root / "pyproject.toml")
    if any(s.name == name for s in existing):
        raise SystemExit(f"section {name!r} is already in pyproject.toml")
    if questions is None:
        first = existing[-1].questions[1] + 1
        questions = (first, first + 5)
    module = module_name(name)
    # Refused before anything is written, as a clash would stop every test run.
    clashes = sections.shadowing({**{s.name: s.modules() for s in existing}, name: {module}})
    if clashes:
        raise SystemExit("example modules that would shadow each other:\n" + "\n".join(clashes))
    for folder in ("docs", "examples", "tests"):
        if (root / folder / name).exists():
            raise SystemExit(f"{folder}/{name}/ exists already")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(add_to_pyproject(pyproject.read_text(), name, title, questions))
    section = next(s for s in sections.load(pyproject) if s.name == name)
    number = questions[0]
    heading = f"Q{number} {title}: the first question?"
    question = f"q{number}-first-question.md"
    files = {
        section.docs / "index.md": index_page(section, question, heading),
        section.docs / question: question_page(section, number, heading),
        section.examples / f"{module}.py": example_module(section),
        section.tests / f"test_{module}.py": first_test(section),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    section.install_include.write_text(install_line.include(section))
    mkdocs = root / "mkdocs.yml"
    mkdocs.write_text(add_to_nav(mkdocs.read_text(), section, question, heading))
    readme = root / "README.md"
    readme.write_text(add_to_readme(readme.read_text(), section))
    # The cheat sheet and the practice mode's questions, from the pages as they now are (a
    # process of its own: this one has read the description without the new section).
    subprocess.run([sys.executable, str(root / "tools" / "rehearse.py")], check=True,
                   capture_output=True, timeout=120)
    practice = root / rehearse.PRACTICE_JSON.relative_to(rehearse.ROOT)
    home = home_page.write(root)
    written = [*files, section.install_include, pyproject, mkdocs, readme,
               section.docs / rehearse.SHEET, practice, home]
    mutants = root / "tests" / "mutants.toml"
    if mutants.is_file():
        mutants.write_text(mutants.read_text().rstrip("\n") + "\n"
                           + mutant_entry(section, question, number))
        written.append(mutants)
    return [p.relative_to(root).as_posix() for p in written]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--title", required=True)
    parser.add_argument("--questions", help="first-last, e.g. 41-46 (default: the next six)")
    parser.add_argument("--root", type=Path, default=sections.ROOT)
    args = parser.parse_args(argv)
    questions = tuple(map(int, args.questions.split("-"))) if args.questions else None
    for path in create(args.root.resolve(), args.name, args.title, questions):
        print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
