"""The GitHub Actions workflow is valid and does what the README promises: test, build, publish.

Tests .github/workflows/*.yml, offline: check-jsonschema validates them against the official
workflow schema it bundles (SchemaStore's github-workflow.json), then the steps are read.
"""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support.site import ROOT
from support.untraced import untraced

pytestmark = pytest.mark.usefixtures("untraced_module")  # no example code runs in this process

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CHECK = str(Path(sys.executable).with_name("check-jsonschema"))


def validate(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHECK, "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True, text=True, timeout=60, env=untraced(),
    )


def test_workflows_match_the_official_schema():
    assert WORKFLOWS, "no workflow in .github/workflows/"
    result = validate(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("mistake", [
    {"permissions": {"pages": "yes"}},  # not read/write/none
    {"runs-on": None},  # a job that says where to run
])
def test_the_schema_check_fails_on_a_broken_workflow(tmp_path, mistake):
    """The validator really validates, offline: a workflow with a known mistake is refused."""
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    job = flow["jobs"]["deploy"]
    for key, value in mistake.items():
        if value is None:
            job.pop(key)
        else:
            job[key] = value
    bad = tmp_path / "bad.yml"
    bad.write_text(yaml.safe_dump(flow, sort_keys=False))
    result = validate(bad)
    assert result.returncode == 1
    assert "Schema validation errors" in result.stdout  # refused by the schema, not the parser


def _steps(job: dict) -> list[str]:
    return [s.get("uses", "").split("@")[0] or s.get("run", "") for s in job["steps"]]


def test_pages_workflow_tests_then_builds_strictly_then_publishes():
    flow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    triggers = flow[True]  # PyYAML reads the key `on` as the boolean True
    assert triggers["push"]["branches"] == ["main"]
    build, deploy = flow["jobs"]["build"], flow["jobs"]["deploy"]

    steps = _steps(build)
    test = next(i for i, s in enumerate(steps) if "bash .ci/run" in s)
    strict = next(i for i, s in enumerate(steps) if "mkdocs build --strict" in s)
    upload = steps.index("actions/upload-pages-artifact")
    assert test < strict < steps.index("actions/configure-pages") < upload
    assert "make test" in (ROOT / ".ci" / "run").read_text()  # what `bash .ci/run` runs
    assert build["steps"][upload]["with"]["path"] == "site"  # mkdocs' site_dir

    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert _steps(deploy) == ["actions/deploy-pages"]
    # Publishing happens from main only, never from a pull request.
    for guarded in (deploy, build["steps"][upload]):
        assert "refs/heads/main" in guarded["if"] and "pull_request" in guarded["if"]
