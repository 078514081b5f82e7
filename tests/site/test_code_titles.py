"""Every Python block names the file its code comes from, so a reader knows where to paste it.

A pulled block's fence carries `title="examples/<section>/<m>.py"` (pymdownx.highlight
renders it as the block's caption), and the title is exactly the file its snippets pull from.
"""

import re

from support import docs_pages

TITLE = re.compile(r'\btitle="([^"]*)"')


def python_fences():
    files = docs_pages.pages() + [f"_includes/{p.name}"
                                  for p in sorted(docs_pages.INCLUDES.glob("*.md"))]
    return [fence for file in files
            for fence in docs_pages.fences((docs_pages.DOCS / file).read_text(), file)
            if fence.is_python]


def sources(fence) -> set[str]:
    """The files a pulled fence's snippet lines name (`examples/celery/m.py:section`)."""
    return {docs_pages.SNIPPET_LINE.match(line)["path"].split(":")[0]
            for line in fence.body.split("\n") if line.strip()}


def test_every_pulled_python_block_is_titled_with_its_file():
    fences = python_fences()
    problems = []
    for fence in fences:
        title = TITLE.search(fence.info)
        if not docs_pages.is_pulled(fence):
            continue  # test_docs_blocks fails a block typed into a page
        files = sources(fence)
        if len(files) != 1:
            problems.append(f"{fence.page}:{fence.line}: pulls from {sorted(files)}: one file "
                            f"per block, so that one title names it")
        elif not title or title[1] != next(iter(files)):
            problems.append(f"{fence.page}:{fence.line}: title {title and title[1]!r}, but "
                            f"the code comes from {next(iter(files))}")
    print(f"\n{len(fences)} Python blocks, each titled with the file it comes from")
    assert not problems, "\n".join(problems)
    assert len(fences) > 50


def test_the_title_is_rendered_as_the_blocks_caption():
    md = docs_pages._markdown()
    html = md.convert('```python title="examples/celery/celery_app.py"\nx = 1\n```')
    assert '<span class="filename">examples/celery/celery_app.py</span>' in html
