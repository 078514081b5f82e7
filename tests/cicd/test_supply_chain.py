"""Q58: hashes refuse a changed file and an unvetted version; the SBOM covers the whole lock;
a signature made with a local key verifies, and fails once one byte changes."""

import re
import shutil
import subprocess

import pytest
import supply_chain
from build_once import build_wheel
from supply_chain import hashed_requirement, new_key, pip_install, sbom, sign, verify

from support.includes import write_observed
from support.paths import ROOT

pytestmark = pytest.mark.usefixtures("untraced_children")  # pip and cyclonedx-py children
OBSERVED: dict[str, str] = {}
ROWS = ["lock", "tampered", "higher", "sbom", "signature"]
LOCK = ROOT / "requirements.lock"
MISMATCH = "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE"


def record(key: str, what: str, seen: str) -> None:
    OBSERVED[key] = f"| {what} | {seen} |"
    write_observed("q58-observed.md", ROWS, OBSERVED)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory):
    """The vetted release (1.0.0) and a higher version someone else published (1.1.0)."""
    out = tmp_path_factory.mktemp("built")
    return build_wheel(out, "1.0.0", epoch=1), build_wheel(out, "1.1.0", epoch=1)


def flip_one_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def installed_version(target) -> str:
    [dist] = target.glob("release_app-*.dist-info")
    return dist.name.split("-")[1].removesuffix(".dist")


def lock_entries() -> list[str]:
    text = re.sub(r"\\\n\s*", " ", LOCK.read_text())
    return [line for line in text.splitlines() if line and not line.lstrip().startswith("#")]


@pytest.mark.slow
def test_the_project_lock_is_hashed_and_every_install_requires_the_hashes():
    entries = lock_entries()
    assert entries and all("--hash=sha256:" in line for line in entries)
    hashes = sum(line.count("--hash=sha256:") for line in entries)
    dry = subprocess.run(["make", "-n", "-B", ".venv/.installed"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert "pip install --quiet --require-hashes --requirement requirements.lock" in dry.stdout
    assert "make test" in (ROOT / ".ci" / "run").read_text()  # which installs through the stamp
    assert "--require-hashes --requirement /tmp/requirements-image.lock" in \
        (ROOT / "Dockerfile").read_text()
    record("lock", "requirements.lock, and the installs of `make`, `.ci/run`, the Dockerfile",
           f"{len(entries)} pinned lines, {hashes} hashes; every install passes "
           "`--require-hashes`")


@pytest.mark.slow
def test_one_tampered_byte_in_the_wheelhouse_is_refused(wheels, tmp_path):
    vetted, _ = wheels
    house = tmp_path / "wheelhouse"
    house.mkdir()
    shutil.copy(vetted, house)
    lock = tmp_path / "requirements.lock"
    lock.write_text(hashed_requirement(vetted) + "\n")
    good = pip_install(lock, house, tmp_path / "good", "--require-hashes")
    assert good.returncode == 0, good.stderr
    flip_one_byte(house / vetted.name)
    bad = pip_install(lock, house, tmp_path / "bad", "--require-hashes")
    assert bad.returncode == 1 and MISMATCH in bad.stderr
    assert not (tmp_path / "bad").exists()
    record("tampered", "One byte of the wheel changed in the wheelhouse",
           f"pip exits {bad.returncode}: *{MISMATCH.capitalize()}*; nothing installed")


@pytest.mark.slow
def test_a_higher_version_is_taken_without_hashes_and_refused_with_them(wheels, tmp_path):
    vetted, higher = wheels
    house = tmp_path / "index"
    house.mkdir()
    for wheel in wheels:
        shutil.copy(wheel, house)
    ranged = tmp_path / "ranged.txt"
    ranged.write_text("release-app>=1.0\n")
    taken = pip_install(ranged, house, tmp_path / "taken")
    assert taken.returncode == 0 and installed_version(tmp_path / "taken") == "1.1.0"
    vetted_hash = hashed_requirement(vetted).split(" ", 1)[1]
    hashed = tmp_path / "hashed.txt"
    hashed.write_text(f"release-app>=1.0 {vetted_hash}\n")
    refused = pip_install(hashed, house, tmp_path / "refused")
    assert refused.returncode == 1 and MISMATCH in refused.stderr
    assert "release-app==1.1.0" in refused.stderr
    pinned = tmp_path / "pinned.txt"
    pinned.write_text(hashed_requirement(vetted) + "\n")
    kept = pip_install(pinned, house, tmp_path / "kept", "--require-hashes")
    assert kept.returncode == 0 and installed_version(tmp_path / "kept") == "1.0.0"
    record("higher", "The wheelhouse offers 1.0.0 (vetted) and 1.1.0",
           "`>=1.0` without a hash installs 1.1.0; with 1.0.0's hash pip exits 1 "
           "(hash mismatch); the lock's `==1.0.0 --hash=…` installs 1.0.0")


@pytest.mark.slow  # cyclonedx-py reads the whole lock: seconds
def test_the_sbom_lists_every_pin_of_the_lock(tmp_path):
    components = sbom(LOCK, tmp_path / "sbom.json")
    pins = sorted(re.match(r"([A-Za-z0-9._-]+)==([^\s;]+)", line).groups()
                  for line in lock_entries())
    assert components == pins
    record("sbom", "`cyclonedx-py requirements requirements.lock`",
           f"{len(components)} components for {len(pins)} pinned lines: every name and version")


def test_a_signature_verifies_and_fails_after_one_byte_changes(wheels, tmp_path):
    artifact = tmp_path / wheels[0].name
    shutil.copy(wheels[0], artifact)
    new_key(tmp_path / "key.pem", tmp_path / "key.pub")
    sign(artifact, tmp_path / "key.pem")
    assert verify(artifact, tmp_path / "key.pub")
    new_key(tmp_path / "other.pem", tmp_path / "other.pub")
    assert not verify(artifact, tmp_path / "other.pub")  # someone else's key
    flip_one_byte(artifact)
    assert not verify(artifact, tmp_path / "key.pub")
    record("signature", "A wheel signed with a local Ed25519 key",
           "verifies with its public key; fails with another key, and after one byte changes")


def test_main_signs_and_verifies(tmp_path, capsys):
    artifact = tmp_path / "artifact.bin"
    artifact.write_bytes(b"release")
    assert supply_chain.main(["keygen", str(tmp_path / "key.pem"), str(tmp_path / "key.pub")]) == 0
    assert supply_chain.main(["sign", str(artifact), str(tmp_path / "key.pem")]) == 0
    assert supply_chain.main(["verify", str(artifact), str(tmp_path / "key.pub")]) == 0
    artifact.write_bytes(b"Release")
    assert supply_chain.main(["verify", str(artifact), str(tmp_path / "key.pub")]) == 1
    assert capsys.readouterr().out.splitlines()[2:] == ["verified", "signature does NOT match"]
