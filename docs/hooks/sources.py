"""MkDocs hook: publish every example module and test as a page of the site.

Pages link to `source/examples/<module>.md` and `source/tests/<test>.md`,
so "where is this code, and what runs it?" is one click, and works offline.
"""

from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]


def _page(rel: Path) -> str:
    # Snippet section markers are for the pages, not for readers of the whole file.
    lines = (ROOT / rel).read_text().splitlines(keepends=True)
    text = "".join(line for line in lines if "--8<--" not in line)
    module = rel.stem
    if rel.parts[0] == "examples":
        other = f"tests/test_{module}.py"
        see = f"Tested by [`{other}`](../tests/test_{module}.md)."
        see = see if (ROOT / other).exists() else ""
    else:
        name = module.removeprefix("test_")
        other = f"examples/{name}.py"
        see = f"Tests [`{other}`](../examples/{name}.md)." if (ROOT / other).exists() else ""
    # A fence longer than any backtick run in the file, so nothing can close it early.
    fence = "`" * 4
    return f"# `{rel}`\n\n{see}\n\n{fence}python\n{text}{fence}\n"


def on_files(files, config):
    for folder in ("examples", "tests"):
        for path in sorted((ROOT / folder).glob("*.py")):
            rel = path.relative_to(ROOT)
            if path.name in ("__init__.py", "conftest.py"):
                continue
            files.append(
                File.generated(config, f"source/{folder}/{path.stem}.md", content=_page(rel))
            )
    return files
