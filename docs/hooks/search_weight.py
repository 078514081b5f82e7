"""MkDocs hook: what search costs a page that loads.

Material fetches search/search_index.json as soon as any page loads over http(s),
and that index covers the whole site, so every page would carry it in its weight
(a question page has a 500 KB budget). Two things keep it out:

- The generated source/ pages stay out of the index. They repeat whole example and
  test files, which would more than double it, while the sections readers search
  for are already indexed on the pages that show them. They stay one link away.
- docs/assets/javascripts/lazy-search-index.js holds the index request back until
  the reader opens search. It must run before Material's bundle (which sends the
  request while it starts), so this hook puts it right in front of the bundle.
"""

import re

from mkdocs.exceptions import PluginError

LAZY = "lazy-search-index.js"
BUNDLE = re.compile(r'<script src="(?P<dir>[^"]*assets/javascripts/)bundle\.[0-9a-f]+\.min\.js">')


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri.startswith("source/"):
        page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}
    return markdown


def _hold_index(output: str) -> str:
    m = BUNDLE.search(output)
    if not m:
        raise PluginError("search_weight: no <script> for Material's bundle; did the theme change?")
    return f'{output[:m.start()]}<script src="{m["dir"]}{LAZY}"></script>{output[m.start():]}'


def on_post_page(output, page, config):
    return _hold_index(output)


def on_post_template(output, template_name, config):
    # 404.html is a theme template, not a page.
    return _hold_index(output) if BUNDLE.search(output) else output
