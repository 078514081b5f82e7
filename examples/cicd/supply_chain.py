"""Q58: what a lock with hashes refuses, an SBOM of the lock, and a signature with a local key.

    python supply_chain.py keygen KEY.pem PUBLIC.pem
    python supply_chain.py sign FILE KEY.pem        # writes FILE.sig
    python supply_chain.py verify FILE PUBLIC.pem   # exit 0 if FILE.sig is FILE's, else 1
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

BIN = Path(sys.executable).parent


# --8<-- [start:hashes]
def hashed_requirement(wheel: Path) -> str:
    """The lock line for one wheel: its exact version, and the sha256 of its bytes."""
    name, version = wheel.name.split("-")[:2]
    sha = hashlib.sha256(wheel.read_bytes()).hexdigest()
    return f"{name.replace('_', '-')}=={version} --hash=sha256:{sha}"


def pip_install(requirements: Path, wheelhouse: Path, target: Path,
                *extra: str) -> subprocess.CompletedProcess:
    """pip, offline, from one folder of wheels only (no index, no pip.conf)."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-index", "--find-links", str(wheelhouse),
         "--no-deps", "--target", str(target), "--requirement", str(requirements), *extra],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PIP_CONFIG_FILE": os.devnull})
# --8<-- [end:hashes]


# --8<-- [start:sbom]
def sbom(lock: Path, out: Path) -> list[tuple[str, str]]:
    """A CycloneDX SBOM of the lock (cyclonedx-py reads it as pip would): its components'
    (name, version), one per pinned line, markers and all."""
    subprocess.run([str(BIN / "cyclonedx-py"), "requirements", "--of", "JSON", "-o", str(out),
                    str(lock)], check=True, capture_output=True, timeout=120)
    return sorted((c["name"], c["version"]) for c in json.loads(out.read_text())["components"])
# --8<-- [end:sbom]


# --8<-- [start:signing]
def new_key(private: Path, public: Path) -> None:
    key = Ed25519PrivateKey.generate()
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def sign(artifact: Path, private: Path) -> Path:
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    signature = artifact.with_name(artifact.name + ".sig")
    signature.write_bytes(key.sign(artifact.read_bytes()))
    return signature


def verify(artifact: Path, public: Path) -> bool:
    key = serialization.load_pem_public_key(public.read_bytes())
    try:
        key.verify(artifact.with_name(artifact.name + ".sig").read_bytes(), artifact.read_bytes())
    except InvalidSignature:
        return False
    return True
# --8<-- [end:signing]


def main(argv: list[str]) -> int:
    action, artifact, key = argv
    if action == "keygen":
        new_key(Path(artifact), Path(key))
        print(f"wrote {artifact} (keep it secret) and {key}")
        return 0
    if action == "sign":
        print(sign(Path(artifact), Path(key)))
        return 0
    good = verify(Path(artifact), Path(key))
    print("verified" if good else "signature does NOT match")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
