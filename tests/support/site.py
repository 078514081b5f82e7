"""The built site as a reader gets it: a strict build, served on loopback, and a browser for it.

- `build(dest)` writes the source pages (tools/source_pages.py) and runs `mkdocs build --strict`
  from the repo root (snippets resolve from there), as `make site` does;
  `shared_build()` does it once per test run for the modules that only read the result.
- `zensical_build(project)` builds the same mkdocs.yml with Zensical, Material's successor, in a
  mirror of the repo (Zensical takes docs_dir only inside the config's folder, and writes its
  .cache/ there), so the two builders can be compared.
- `SiteServer` serves the build on 127.0.0.1 from a thread and logs every response's size,
  which is what page weights are measured from.
- `launch(playwright)` starts Debian's Chromium with the same flags as the mermaid hook, which
  `mermaid_hook()` loads (docs/hooks/mermaid_svg.py).
- `html_files(site)` and `url_of(site, path)` list the pages and say where they are served.
"""

import functools
import http.server
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import source_pages

from support.once_per_run import once_per_run, run_dir
from support.paths import ROOT
from support.untraced import untraced
from support.waiting import free_port

MKDOCS = str(Path(sys.executable).with_name("mkdocs"))


def build(dest: Path, timeout: float = 120, **env: str) -> tuple[float, float]:
    """Strict build of the real site into `dest`, untraced, as `make site` runs it.

    `env` adds variables. Returns (wall, CPU) seconds; the CPU time (from wait4) includes
    the processes the build itself waited for, such as a Chromium drawing new diagrams.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    log = dest.parent / f"{dest.name}-build.log"
    start = time.monotonic()
    source_pages.write()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [MKDOCS, "build", "--strict", "--quiet", "-d", str(dest)],
            cwd=ROOT, env=untraced({**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}),
            stdout=out, stderr=subprocess.STDOUT,
        )
        timer = threading.Timer(timeout, proc.kill)  # bounded, like every wait in the suite
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)  # reaped here, so tell Popen
        finally:
            timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    assert proc.returncode == 0, log.read_text()
    return wall, usage.ru_utime + usage.ru_stime


ZENSICAL = str(Path(sys.executable).with_name("zensical"))


def zensical_build(project: Path, timeout: float = 180) -> tuple[Path, float]:
    """`zensical build --strict` of mkdocs.yml into `project`/site: (site dir, wall seconds).

    `project` mirrors the repo: a copy of docs/ (Zensical refuses a docs_dir outside the
    config's folder, even through a symlink) and a link to each tracked file that the pages'
    snippets may read. Snippets resolve from the current directory, as under `make site`.
    Files only, not folders: Zensical walks the project, and a linked tools/ would take it
    through tools/node/node_modules (70 s instead of 5).
    """
    source_pages.write()
    project.mkdir(parents=True, exist_ok=True)
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    for path in tracked:
        if path.split("/")[0] not in ("docs", "mkdocs.yml") and (ROOT / path).exists():
            (project / path).parent.mkdir(parents=True, exist_ok=True)
            (project / path).symlink_to(ROOT / path)
    shutil.copytree(ROOT / "docs", project / "docs", symlinks=True)
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    log = project / "zensical-build.log"
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.run([ZENSICAL, "build", "--strict", "-f", "mkdocs.yml"], cwd=project,
                              env=untraced(), stdout=out, stderr=subprocess.STDOUT,
                              timeout=timeout)
    wall = time.monotonic() - start
    assert proc.returncode == 0, log.read_text()
    return project / "site", wall


def shared_build(tmp_path_factory) -> tuple[Path, float]:
    """One strict build per test run, for the tests that only read it: (site dir, wall s).

    The first xdist worker to ask builds; the others wait for it and read the same folder.
    """
    seconds = once_per_run(tmp_path_factory, "site", lambda work: str(build(work / "site")[0]))
    return run_dir(tmp_path_factory) / "site.work" / "site", float(seconds)


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def url_of(site: Path, html: Path) -> str:
    """The URL path a file is served at: directory URLs for index.html."""
    rel = html.relative_to(site).as_posix()
    return "/" + (rel.removesuffix("index.html") if rel.endswith("index.html") else rel)


class _Handler(http.server.SimpleHTTPRequestHandler):
    def send_header(self, keyword, value):
        if keyword.lower() == "content-length":
            self.server.log.append((self.path.split("?")[0], int(value)))
        super().send_header(keyword, value)

    def log_message(self, format, *args):  # quiet: the test output is the report
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A browser that navigates on drops the downloads it no longer needs: not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class SiteServer:
    """A static file server for a built site, on a free loopback port, in a thread."""

    def __init__(self, root: Path):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        handler = functools.partial(_Handler, directory=str(root))
        self._httpd = _Server(("127.0.0.1", self.port), handler)
        self._httpd.log = []  # (path, bytes) for every response with a body length
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def log(self) -> list[tuple[str, int]]:
        return self._httpd.log

    def start(self) -> "SiteServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


@functools.cache
def mermaid_hook():
    # One place says which Chromium and which flags: the docs hook that draws the diagrams.
    path = ROOT / "docs" / "hooks" / "mermaid_svg.py"
    spec = importlib.util.spec_from_file_location("mermaid_svg_hook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launch(playwright):
    hook = mermaid_hook()
    return playwright.chromium.launch(
        executable_path=hook.chromium_executable(), args=hook.CHROMIUM_ARGS
    )


# The site's own origin, or a URL a page makes for itself: nothing else may be asked for.
LOOPBACK = re.compile(r"^(data:|blob:|about:|(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/)")


def loopback_context(browser, site: SiteServer, **options):
    """A browser context on the served site that records every request it makes and refuses
    any that leaves loopback: (context, requests). The caller asserts on `requests`."""
    requests: list[str] = []
    context = browser.new_context(base_url=site.url, **options)
    context.set_default_timeout(20_000)  # generous: the suite shares 2 cores
    context.on("request", lambda r: requests.append(r.url))
    context.route(re.compile(r"^(?!" + LOOPBACK.pattern[1:] + ")"), lambda r: r.abort())
    return context, requests


def pdf_pages(pdf: bytes) -> int:
    """The pages of a PDF as Chromium writes it: its page objects, checked against the
    page tree's own count."""
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    counts = [int(n) for n in re.findall(rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", pdf)]
    counts += [int(n) for n in re.findall(rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b", pdf)]
    assert counts and max(counts) == pages, (pages, counts)
    return pages
