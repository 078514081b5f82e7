"""Every Python block a reader sees comes from examples/, is ruff-clean, and prints what it says.

The pages are read through tests/support/docs_pages.py, which expands the
`--8<--` snippets with the same pymdownx.snippets settings as mkdocs.yml.
Markdown fragments in docs/_includes/ count as part of the page that includes them.
"""

from pathlib import Path

import pytest
from pytest_examples import find_examples

from support import docs_pages
from support.docs_pages import ALL_EXAMPLES, TOOLS, expanded, fences, is_pulled, pages

PAGES = pages()


def test_every_section_marker_has_its_pair():
    problems = []
    sections = 0
    for path in sorted(ALL_EXAMPLES.glob("*/**/*.py")) + sorted(TOOLS.glob("*.py")):
        open_at: dict[str, int] = {}
        closed: set[str] = set()
        for line, kind, name in docs_pages.section_markers(path.read_text()):
            where = f"{path.name}:{line} [{kind}:{name}]"
            if kind == "start":
                if name in open_at or name in closed:
                    problems.append(f"{where}: section started twice")
                open_at[name] = line
            elif name not in open_at:
                problems.append(f"{where}: end without a start before it")
            else:
                del open_at[name]
                if name in closed:
                    problems.append(f"{where}: section ended twice")
                closed.add(name)
                sections += 1
        # A start with no end silently includes the rest of the file, even with check_paths.
        problems += [f"{path.name}:{line} [start:{name}]: no end" for name, line in open_at.items()]
    assert not problems, "\n".join(problems)
    assert sections > 0


def test_no_python_block_is_pasted_into_a_page():
    """Count Python blocks as rendered vs. pulled from examples/; they must be equal."""
    examples = docs_pages.example_texts()
    rendered_total = pulled_total = 0
    report, problems = [], []
    for page in PAGES:
        pulled = [f for f in fences(docs_pages.composed(page), page) if f.is_python]
        problems += [
            f"{page}: a Python block at line {f.line} of the composed page is typed in, "
            f"not pulled from examples/:\n{f.body}"
            for f in pulled if not is_pulled(f)
        ]
        rendered = [f for f in fences(expanded(page), page) if f.is_python]
        for f in rendered:
            if not any(f.body in text for text in examples.values()):
                problems.append(f"{page}: a rendered Python block stands in no file under "
                                f"examples/:\n{f.body}")
        n_pulled = sum(map(is_pulled, pulled))
        rendered_total += len(rendered)
        pulled_total += n_pulled
        report.append(f"  {page:45} rendered {len(rendered):3}  pulled {n_pulled:3}")
    print(f"\n{len(PAGES)} pages\n" + "\n".join(report)
          + f"\n  {'total':45} rendered {rendered_total:3}  pulled {pulled_total:3}")
    assert not problems, "\n\n".join(problems)
    assert rendered_total == pulled_total
    assert rendered_total > 0


def _expanded_examples(page: str, tmp_path: Path) -> list:
    # pytest-examples reads raw Markdown, where a block is only a `--8<--` line:
    # give it the page as the build sees it instead.
    md = tmp_path / Path(page).name
    text = expanded(page)
    md.write_text(text)
    found = [e for e in find_examples(md) if e.prefix.split()[0] in ("python", "py")]
    # Cross-check the two parsers: a fence pytest-examples can't see would go unlinted.
    assert len(found) == sum(f.is_python for f in fences(text)), page
    return found


def _configure(eval_example) -> None:
    # The project's ruff rules (pyproject.toml) apply as well, since ruff runs from
    # the repo root; F821 is ignored because a section uses names defined above it.
    eval_example.set_config(
        line_length=100, ruff_line_length=100, target_version="py311", ruff_ignore=["F821"]
    )


@pytest.mark.parametrize("page", PAGES)
def test_rendered_python_blocks_are_ruff_clean(page, eval_example, tmp_path):
    _configure(eval_example)
    for example in _expanded_examples(page, tmp_path):
        eval_example.lint_ruff(example)


def _print_blocks() -> list[str]:
    return [page for page in PAGES
            if any(f.is_python and "#> " in f.body for f in fences(expanded(page)))]


@pytest.mark.parametrize("page", _print_blocks())
def test_blocks_with_output_run_and_print_it(page, eval_example, tmp_path):
    """A block with `#>` lines is executed; what it prints must match them."""
    _configure(eval_example)
    ran = 0
    for example in _expanded_examples(page, tmp_path):
        if "#> " in example.source:
            eval_example.run_print_check(example)
            ran += 1
    print(f"{page}: {ran} block(s) with #> output run and checked")
    assert ran > 0
