"""Q57: build the artifact once, then promote that same file, named by its digest.

A wheel of the release app is built once (`pip wheel`, reproducible with SOURCE_DATE_EPOCH),
pushed into an artifact store under its sha256, and every environment deploys a digest, never
a rebuild. A tag such as `latest` is a name that moves; a digest names one file forever.

    python build_once.py STORE_DIR      # builds, pushes, promotes to staging then production
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "release-app"
version = "{version}"
dependencies = ["fastapi>=0.115", "uvicorn>=0.30", "sqlalchemy>=2.0,<2.2"]

[tool.setuptools]
py-modules = ["release_app"]
"""


# --8<-- [start:build]
def build_wheel(out_dir: Path, version: str = "1.0.0", epoch: int | None = None) -> Path:
    """The release app as a wheel. With `epoch` (the commit's time, as SOURCE_DATE_EPOCH),
    every file in the archive gets that timestamp, so the same source gives the same bytes."""
    with tempfile.TemporaryDirectory() as src:
        (Path(src) / "pyproject.toml").write_text(PYPROJECT.format(version=version))
        shutil.copy2(HERE / "release_app.py", src)  # a checkout gives it a fresh mtime
        os.utime(Path(src) / "release_app.py")
        env = {**os.environ, **({"SOURCE_DATE_EPOCH": str(epoch)} if epoch else {})}
        built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                                "--no-build-isolation", "--wheel-dir", str(out_dir), src],
                               env=env, capture_output=True, text=True, timeout=300)
    if built.returncode:
        raise RuntimeError(f"pip wheel failed:\n{built.stderr}")
    return next(out_dir.glob(f"release_app-{version}-*.whl"))


def digest(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
# --8<-- [end:build]


# --8<-- [start:store]
class ArtifactStore:
    """Files kept by digest, plus tags: names that point at a digest and can be moved."""

    def __init__(self, root: Path):
        self.root = root
        (root / "blobs").mkdir(parents=True, exist_ok=True)
        self.tags_file = root / "tags.json"

    def push(self, wheel: Path, tag: str | None = None) -> str:
        ref = digest(wheel)
        shutil.copy2(wheel, self.root / "blobs" / ref.replace(":", "-"))
        if tag:
            self.tags = {**self.tags, tag: ref}
        return ref

    @property
    def tags(self) -> dict[str, str]:
        return json.loads(self.tags_file.read_text()) if self.tags_file.exists() else {}

    @tags.setter
    def tags(self, value: dict[str, str]) -> None:
        self.tags_file.write_text(json.dumps(value))

    def resolve(self, ref: str) -> str:
        """A digest stays itself; a tag is looked up now, at deploy time."""
        return ref if ref.startswith("sha256:") else self.tags[ref]

    def fetch(self, ref: str) -> Path:
        """The file, checked against its digest before anyone installs it."""
        wanted = self.resolve(ref)
        path = self.root / "blobs" / wanted.replace(":", "-")
        if digest(path) != wanted:
            raise ValueError(f"{path.name} does not match its digest")
        return path


def deploy(store: ArtifactStore, environment: dict[str, str], instance: str, ref: str) -> str:
    """Record which artifact an instance of an environment runs: the digest `ref` resolves to."""
    store.fetch(ref)
    environment[instance] = store.resolve(ref)
    return environment[instance]


def promote(store: ArtifactStore, source: dict[str, str], target: dict[str, str]) -> str:
    """The digest the source environment runs, deployed as is to every instance of the target."""
    [ref] = set(source.values())  # one artifact per environment, or it is not ready to promote
    for instance in target:
        deploy(store, target, instance, ref)
    return ref
# --8<-- [end:store]


def main(store_dir: str) -> None:
    store = ArtifactStore(Path(store_dir))
    with tempfile.TemporaryDirectory() as out:
        ref = store.push(build_wheel(Path(out), epoch=1_700_000_000), tag="latest")
    staging = {"staging-1": ""}
    production = {"prod-1": "", "prod-2": ""}
    deploy(store, staging, "staging-1", ref)
    promote(store, staging, production)
    print(f"built once: {ref}")
    print(f"staging: {staging}")
    print(f"production: {production}")


if __name__ == "__main__":
    main(sys.argv[1])
