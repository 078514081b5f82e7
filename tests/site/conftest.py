"""The built site served on loopback, and Chromium to read it, for the browser tests."""

import pytest

from support.site import SiteServer, shared_build


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The strict build of this run (built once, shared), served over HTTP on 127.0.0.1."""
    dest, seconds = shared_build(tmp_path_factory)
    print(f"\nstrict build: {seconds:.2f} s wall")
    server = SiteServer(dest).start()
    yield server
    server.stop()
