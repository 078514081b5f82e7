"""tools/source_pages.py writes one page per example, tool and test, before any build.

Tests the generator on its own, into a temp folder: which pages, what each holds, and that
a second run changes nothing but what changed. The built site's links between these pages
are checked by tests/site/test_site_links.py.
"""

import pytest
import source_pages
from source_pages import ROOT, write

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process


def published() -> list[str]:
    return sorted(p.relative_to(ROOT).with_suffix(".md").as_posix()
                  for pattern in source_pages.PUBLISHED for p in ROOT.glob(pattern))


def test_one_page_per_published_file_kept_out_of_search(tmp_path):
    count = write(tmp_path)
    pages = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.md"))
    assert pages == published() and count == len(pages)
    assert "examples/celery/celery_app.md" in pages
    assert "tests/celery/test_celery_app.md" in pages and "tools/source_pages.md" in pages
    for page in pages:
        assert (tmp_path / page).read_text().startswith("---\nsearch:\n  exclude: true\n---\n")


def test_a_module_page_is_the_module_without_markers_and_links_its_tests(tmp_path):
    write(tmp_path)
    text = (tmp_path / "examples" / "celery" / "celery_app.md").read_text()
    module = (ROOT / "examples" / "celery" / "celery_app.py").read_text()
    assert "--8<--" in module and "--8<--" not in text
    kept = "".join(line for line in module.splitlines(keepends=True) if "--8<--" not in line)
    assert f"````python\n{kept}````\n" in text
    assert "[`tests/celery/test_celery_app.py`](../../tests/celery/test_celery_app.md)" in text
    assert "Shown on [" in text  # the question pages that include its sections
    test_page = (tmp_path / "tests" / "celery" / "test_celery_app.md").read_text()
    assert "Tests [`examples/celery/celery_app.py`](../../examples/celery/celery_app.md)." \
        in test_page


def test_a_second_run_rewrites_nothing_and_drops_stale_pages(tmp_path):
    write(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.md")}
    stale = tmp_path / "examples" / "celery" / "renamed_since.md"
    stale.write_text("# an old page\n")
    write(tmp_path)
    assert not stale.exists()
    assert {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.md")} == before
    assert not list(tmp_path.rglob("*.tmp"))
