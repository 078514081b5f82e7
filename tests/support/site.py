"""The built site as a reader gets it: a strict build, served on loopback, and a browser for it.

- `build(dest)` runs `mkdocs build --strict` from the repo root (snippets resolve from there);
  `shared_build()` does it once per test run for the modules that only read the result.
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
import subprocess
import sys
import threading
import time
from pathlib import Path

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
