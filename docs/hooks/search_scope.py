"""MkDocs hook: the generated source/ pages stay out of the search index.

Every page downloads the whole search index when it loads (Material fetches
search/search_index.json eagerly), so the index counts against a question
page's 500 KB budget. The source/ pages repeat whole example and test files:
they would more than double the index, while the sections readers search for
are already indexed on the pages that show them. They stay one link away.
"""


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri.startswith("source/"):
        page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
    return markdown
