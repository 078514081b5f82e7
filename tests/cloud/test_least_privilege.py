"""Q50: a user whose policy allows one prefix gets 403 outside it, on moto's server with IAM
enforced."""

import pytest

from support.includes import write_include


@pytest.fixture
def aws(moto, monkeypatch):
    """boto3 aimed at moto: AWS_ENDPOINT_URL, a region, and keys for the admin calls."""
    for name, value in {"AWS_ENDPOINT_URL": moto.url, "AWS_DEFAULT_REGION": "us-east-1",
                        "AWS_ACCESS_KEY_ID": "admin", "AWS_SECRET_ACCESS_KEY": "admin"}.items():
        monkeypatch.setenv(name, value)
    return moto


@pytest.mark.slow
def test_a_call_outside_the_allowed_prefix_gets_403(aws):
    import least_privilege

    statuses = least_privilege.main("guide-uploads", "uploads/")
    assert statuses == {"uploads/report.txt": 200, "private/report.txt": 403}
    write_include("q50-least-privilege.md", "\n".join(
        ["| `PutObject` as `uploader` | Status |", "|---|---|",
         *[f"| `{key}` | {status} |" for key, status in statuses.items()]]))
