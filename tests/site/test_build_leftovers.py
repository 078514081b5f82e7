"""What builds and test runs write is git-ignored, and `make clean` removes it.

Tests .gitignore and the Makefile's clean recipe against the folders the builds write:
MkDocs' site/, Zensical's .cache/, the generated docs/source/, setuptools' build/ and egg-info,
coverage data, the browser test's screenshots.
"""

import re
import subprocess

import pytest

from support.site import ROOT

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

WRITTEN = ["site", ".cache", "docs/source", "build", "interview_guide_part3.egg-info",
           ".coverage-data", "screenshots"]


def test_every_build_output_is_ignored_and_cleaned():
    probes = [f"{folder}/probe.txt" for folder in WRITTEN]
    out = subprocess.run(["git", "check-ignore", "--no-index", *probes], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert sorted(out.stdout.split()) == sorted(probes)
    recipe = re.search(r"^clean:\n\t(?P<cmd>.+)$", (ROOT / "Makefile").read_text(), re.M)
    removed = recipe["cmd"].split()
    assert removed[:2] == ["rm", "-rf"]
    for folder in WRITTEN:
        assert folder in removed or (folder.endswith(".egg-info") and "*.egg-info" in removed)


def test_tracked_files_are_not_ignored():
    # A pattern like `site/` would also hide tests/site/: new tests there would never be added.
    tracked = subprocess.run(["git", "ls-files", "-ci", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, text=True, timeout=30, check=True).stdout
    assert tracked == ""
