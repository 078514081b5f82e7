"""Files under MEDIA_DIR: the only place the API and the worker touch."""

import os
import time
from pathlib import Path

from PIL import Image


def media_dir() -> Path:
    return Path(os.environ.get("MEDIA_DIR", "media")).resolve()


# --8<-- [start:safe_path]
class UnsafePath(ValueError):
    """A name that would leave MEDIA_DIR (absolute, '..', or a symlink out)."""


def safe_path(name: str) -> Path:
    """Resolve `name` inside MEDIA_DIR, or raise UnsafePath."""
    root = media_dir()
    if not name or "\x00" in name or Path(name).is_absolute():
        raise UnsafePath(f"{name!r} must be a relative name inside the media folder")
    path = (root / name).resolve()  # follows symlinks, collapses '..'
    if not path.is_relative_to(root):
        raise UnsafePath(f"{name!r} points outside the media folder")
    return path
# --8<-- [end:safe_path]


# --8<-- [start:resize]
def resize(name: str, width: int = 800) -> dict:
    """Shrink an image to fit `width` pixels and save an optimized copy in resized/."""
    source = safe_path(name)
    out = media_dir() / "resized" / source.relative_to(media_dir())
    out.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as img:
        img.thumbnail((width, width))
        img.save(out, format=img.format, optimize=True)
        size = img.size
    return {"output": str(out.relative_to(media_dir())), "size": list(size)}
# --8<-- [end:resize]


# --8<-- [start:delete_old_files]
def delete_old_files(days: int) -> int:
    """Delete regular files under MEDIA_DIR not modified for `days` days."""
    cutoff = time.time() - days * 86400
    deleted = 0
    for path in media_dir().rglob("*"):
        if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
            path.unlink()
            deleted += 1
    return deleted
# --8<-- [end:delete_old_files]
