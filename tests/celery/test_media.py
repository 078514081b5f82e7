"""examples/celery/media.py: the path rule (property-based, with hypothesis), resizing and cleanup.

Each test points MEDIA_DIR at a folder of its own, so nothing here touches the
session's media folder that the worker uses.
"""

import os
import time
from pathlib import Path

import media
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

# No .hypothesis/ folder in the working tree; no deadline on a loaded 2-core machine.
quick = settings(database=None, deadline=None, max_examples=100,
                 suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """MEDIA_DIR with a folder, a file, a link that stays inside and a link that leads out.

        root/d/f.png   root/in -> root/d   root/out -> outside/
    """
    base = tmp_path_factory.mktemp("tree")
    root, outside = base / "root", base / "outside"
    (root / "d").mkdir(parents=True)
    outside.mkdir()
    (root / "d" / "f.png").write_bytes(b"")
    (outside / "secret.png").write_bytes(b"")
    (root / "in").symlink_to(root / "d", target_is_directory=True)
    (root / "out").symlink_to(outside, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEDIA_DIR", str(root))
        yield root.resolve()


def expected(root: Path, name: str) -> Path | None:
    """The rule, spelled out without resolve(): where `name` lands, or None if outside.

    A model of this tree only: `in` is replaced by `d`, `out` leaves the tree, and
    '..' above the root leaves it too (no segment leads back in from there).
    """
    if "\x00" in name or name.startswith("/") or not name:
        return None
    parts: list[str] = []
    for segment in name.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if not parts:
                return None
            parts.pop()
        elif parts == [] and segment == "out":
            return None
        elif parts == [] and segment == "in":
            parts.append("d")
        else:
            parts.append(segment)
    return root.joinpath(*parts)


SEGMENTS = st.sampled_from(["..", ".", "", "d", "f.png", "in", "out", "new", "x\x00"])
NAMES = st.builds(lambda lead, parts: lead + "/".join(parts),
                  st.sampled_from(["", "/", "./", "../"]), st.lists(SEGMENTS, max_size=7))


@quick
@given(name=NAMES)
def test_safe_path_follows_the_rule_exactly(tree, name):
    want = expected(tree, name)
    if want is None:
        with pytest.raises(media.UnsafePath):
            media.safe_path(name)
    else:
        assert media.safe_path(name) == want


@quick
@given(name=st.text(max_size=60) | NAMES.map(lambda n: n + "/../" * 3))
def test_safe_path_never_returns_a_path_outside(tree, name):
    try:
        path = media.safe_path(name)
    except media.UnsafePath:
        return
    assert path.is_relative_to(tree)
    assert path == path.resolve()  # no link left to follow later


SAFE_SEGMENT = st.text(st.characters(codec="utf-8", exclude_characters="/\x00"), min_size=1,
                       max_size=12).filter(lambda s: s not in (".", "..", "in", "out"))


@quick
@given(parts=st.lists(SAFE_SEGMENT, min_size=1, max_size=5))
def test_names_inside_are_accepted(tree, parts):
    assert media.safe_path("/".join(parts)) == tree.joinpath(*parts)


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../x", "d/../../x", "out/secret.png",
                                  "a\x00b", "in/../../x"])
def test_unsafe_names_say_why(tree, name):
    with pytest.raises(media.UnsafePath, match="media folder"):
        media.safe_path(name)


# --- resize and delete_old_files ----------------------------------------------------------


@pytest.fixture
def own_media(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDIA_DIR", str(tmp_path))
    return tmp_path


def test_resize_keeps_the_aspect_ratio_and_the_format(own_media):
    (own_media / "albums").mkdir()
    Image.new("RGB", (1200, 900), "orange").save(own_media / "albums" / "cat.webp")
    assert media.resize("albums/cat.webp", 300) == {"output": "resized/albums/cat.webp",
                                                    "size": [300, 225]}
    with Image.open(own_media / "resized" / "albums" / "cat.webp") as img:
        assert (img.format, img.size) == ("WEBP", (300, 225))


def test_resize_never_enlarges(own_media):
    Image.new("L", (100, 50)).save(own_media / "tiny.png")
    assert media.resize("tiny.png", 800)["size"] == [100, 50]


def test_resize_refuses_unsafe_names_too(own_media):
    with pytest.raises(media.UnsafePath):
        media.resize("../elsewhere.png")


def test_delete_old_files_by_modification_time(own_media):
    now = time.time()
    for name, days in [("a.log", 10.01), ("b.log", 9.99), ("sub/c.log", 365)]:
        path = own_media / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(name)
        os.utime(path, (now - days * 86400,) * 2)
    assert media.delete_old_files(10) == 2
    assert sorted(p.name for p in own_media.rglob("*")) == ["b.log", "sub"]  # folders stay
    assert media.delete_old_files(10) == 0
