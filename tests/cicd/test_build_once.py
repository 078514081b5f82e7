"""Q57: one build, one digest, promoted; reproducible with SOURCE_DATE_EPOCH; tags move,
digests don't."""

import time
import zipfile

import build_once
import pytest
from build_once import ArtifactStore, build_wheel, deploy, digest, promote

from support.includes import write_observed

# Each build is a pip subprocess, a tool: no coverage in it.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("untraced_children")]
OBSERVED: dict[str, str] = {}
ROWS = ["rebuild", "epoch", "promote", "tag", "by_digest"]
EPOCH = 1_700_000_000


def record(key: str, what: str, seen: str) -> None:
    OBSERVED[key] = f"| {what} | {seen} |"
    write_observed("q57-observed.md", ROWS, OBSERVED)


def short(ref: str) -> str:
    return f"`{ref[:19]}…`"


def test_without_source_date_epoch_a_rebuild_differs_with_it_it_is_identical(tmp_path):
    first = build_wheel(tmp_path / "a")
    time.sleep(2.1)  # zip timestamps have a 2-second resolution
    second = build_wheel(tmp_path / "b")
    assert digest(first) != digest(second)
    with zipfile.ZipFile(first) as a, zipfile.ZipFile(second) as b:
        assert [i.filename for i in a.infolist()] == [i.filename for i in b.infolist()]
        assert all(a.read(n) == b.read(n) for n in a.namelist() if not n.endswith("RECORD"))
        assert a.getinfo("release_app.py").date_time != b.getinfo("release_app.py").date_time
    record("rebuild", "The same source built twice, 2 s apart",
           f"{short(digest(first))} and {short(digest(second))}: only the files' timestamps differ")
    pinned = [build_wheel(tmp_path / f"e{i}", epoch=EPOCH) for i in range(2)]
    assert digest(pinned[0]) == digest(pinned[1])
    with zipfile.ZipFile(pinned[0]) as z:
        assert z.getinfo("release_app.py").date_time == (2023, 11, 14, 22, 13, 20)
    record("epoch", f"The same, with SOURCE_DATE_EPOCH={EPOCH}",
           f"both {short(digest(pinned[0]))}: identical bytes")


@pytest.fixture
def store(tmp_path):
    store = ArtifactStore(tmp_path / "store")
    store.push(build_wheel(tmp_path / "v1", "1.0.0", epoch=EPOCH), tag="latest")
    return store


def test_the_digest_built_once_is_what_every_environment_runs(store):
    ref = store.resolve("latest")
    staging, production = {"staging-1": ""}, {"prod-1": "", "prod-2": ""}
    deploy(store, staging, "staging-1", ref)
    assert promote(store, staging, production) == ref
    assert set(production.values()) == {ref}
    assert len(list((store.root / "blobs").iterdir())) == 1  # one build, one file
    record("promote", "Built once, deployed to staging, promoted to 2 production instances",
           f"3 instances, 1 digest {short(ref)}, 1 file in the store")


def test_a_moving_tag_splits_instances_a_digest_does_not(store, tmp_path):
    production = {"prod-1": "", "prod-2": ""}
    deploy(store, production, "prod-1", "latest")
    store.push(build_wheel(tmp_path / "v2", "1.1.0", epoch=EPOCH), tag="latest")  # tag moves
    deploy(store, production, "prod-2", "latest")  # a restart, a scale-out…
    assert production["prod-1"] != production["prod-2"]
    record("tag", "Two instances deployed from `latest`, a push in between",
           f"{short(production['prod-1'])} and {short(production['prod-2'])}: two releases")
    pinned = production["prod-1"]
    for instance in production:
        deploy(store, production, instance, pinned)
    assert set(production.values()) == {pinned}
    record("by_digest", "The same two, deployed by digest", f"both {short(pinned)}")


def test_promotion_refuses_an_environment_running_two_artifacts(store, tmp_path):
    other = store.push(build_wheel(tmp_path / "v2", "1.1.0", epoch=EPOCH))
    staging = {"staging-1": store.resolve("latest"), "staging-2": other}
    with pytest.raises(ValueError, match="too many values"):
        promote(store, staging, {"prod-1": ""})


def test_a_stored_file_that_no_longer_matches_its_digest_is_refused(store):
    blob = next((store.root / "blobs").iterdir())
    blob.write_bytes(blob.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="does not match its digest"):
        store.fetch("latest")


def test_main_builds_and_promotes(tmp_path, capsys):
    build_once.main(str(tmp_path / "store"))
    out = capsys.readouterr().out.splitlines()
    ref = out[0].removeprefix("built once: ")
    assert ref.startswith("sha256:") and all(ref in line for line in out[1:])


def test_a_failed_build_says_why(tmp_path):
    with pytest.raises(RuntimeError, match="pip wheel failed"):
        build_wheel(tmp_path, version="not a version")
