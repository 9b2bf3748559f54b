"""Lay out the partial Debian mirror that lab hosts install packages from.

The mirror contains the real signed ``InRelease`` files and the uncompressed
indexes that apt fetched while the image was built, plus every ``.deb`` the
lessons may install, each at the pool path its index names. Lab hosts keep
their stock apt sources and signature checks. An index is also reachable
under ``by-hash/SHA256/<sum>`` next to it, because Debian's Release files set
``Acquire-By-Hash: yes`` and apt then requests indexes by hash.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from workshop_tui.core.errors import LabError
from workshop_tui.lab import cgroups, naming, network
from workshop_tui.lab.sources import Repository

MIRROR_PORT = 80

# Characters that apt's URItoFileName() escapes as %xx before turning "/" into "_".
_APT_QUOTED = set('\\|{}[]<>"^~_=!@#$%&*')


@dataclass(frozen=True)
class ReleaseEntry:
    """One line of a Release file's ``SHA256:`` section."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class MirrorSummary:
    index_files: int
    packages: int
    total_bytes: int


def apt_list_name(uri: str) -> str:
    """Return the file name apt gives a downloaded index under /var/lib/apt/lists."""
    parts = urlsplit(uri)
    text = (parts.hostname or "") + (f":{parts.port}" if parts.port else "") + parts.path
    quoted = "".join(f"%{ord(c):02x}" if c in _APT_QUOTED else c for c in text)
    return quoted.replace("/", "_")


def parse_release(text: str) -> list[ReleaseEntry]:
    """Return the ``SHA256:`` entries of a Release or clearsigned InRelease file."""
    entries: list[ReleaseEntry] = []
    in_section = False
    for line in text.splitlines():
        if line.startswith("SHA256:"):
            in_section = True
            continue
        if in_section and line.startswith(" "):
            words = line.split()
            if len(words) == 3:
                entries.append(ReleaseEntry(words[2], int(words[1]), words[0]))
            continue
        in_section = False
    return entries


def iter_packages(text: str) -> Iterator[tuple[str, str]]:
    """Yield ``(Filename, SHA256)`` for every stanza of a Packages index."""
    for stanza in re.split(r"\n\n+", text):
        filename = sha256 = ""
        for line in stanza.splitlines():
            if line.startswith("Filename:"):
                filename = line.split(":", 1)[1].strip()
            elif line.startswith("SHA256:"):
                sha256 = line.split(":", 1)[1].strip()
        if filename and sha256:
            yield filename, sha256


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _safe_relative(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts:
        raise LabError(f"invalid path {path!r} in a Debian index")
    return relative


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        return
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def build_mirror(
    lists_dir: Path,
    archives_dir: Path,
    repositories: list[Repository],
    output: Path,
) -> MirrorSummary:
    """Lay out a mirror under ``output`` from apt's lists and downloaded packages.

    ``lists_dir`` is an image's /var/lib/apt/lists and ``archives_dir`` its
    /var/cache/apt/archives. Each repository lands under ``output/<URI path>``.
    The .deb files are moved, not copied. Raises LabError when an InRelease file
    is missing or a downloaded package appears in no index.
    """
    pool_targets: dict[str, list[Path]] = {}
    index_files = 0
    for repository in repositories:
        base = output / repository.path
        for suite in repository.suites:
            dists = base / "dists" / suite
            in_release = lists_dir / apt_list_name(f"{repository.uri}/dists/{suite}/InRelease")
            if not in_release.is_file():
                raise LabError(
                    f"apt fetched no InRelease for {repository.uri} {suite} (expected {in_release})"
                )
            dists.mkdir(parents=True, exist_ok=True)
            shutil.copy2(in_release, dists / "InRelease")
            index_files += 1
            for entry in parse_release(in_release.read_text(errors="replace")):
                relative = _safe_relative(entry.path)
                listed = lists_dir / apt_list_name(f"{repository.uri}/dists/{suite}/{entry.path}")
                if not listed.is_file() or listed.stat().st_size != entry.size:
                    continue
                if file_sha256(listed) != entry.sha256:
                    continue
                target = dists / relative
                _link_or_copy(listed, target)
                _link_or_copy(target, target.parent / "by-hash" / "SHA256" / entry.sha256)
                index_files += 1
                if relative.name == "Packages":
                    text = listed.read_text(errors="replace")
                    for filename, sha256 in iter_packages(text):
                        pool_targets.setdefault(sha256, []).append(base / _safe_relative(filename))

    packages = 0
    total_bytes = 0
    for deb in sorted(archives_dir.glob("*.deb")):
        targets = pool_targets.get(file_sha256(deb))
        if not targets:
            raise LabError(f"downloaded package {deb.name} is listed in no mirrored index")
        for target in targets:
            _link_or_copy(deb, target)
        total_bytes += deb.stat().st_size
        deb.unlink()
        packages += 1
    return MirrorSummary(index_files=index_files, packages=packages, total_bytes=total_bytes)


def start_mirror_server(lab: str, mirror_dir: Path, address: str, directory: Path) -> int:
    """Start the mirror's HTTP server on ``address`` port 80 in the lab's services cgroup."""
    package_parent = Path(__file__).resolve().parents[2]
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(package_parent), environment.get("PYTHONPATH", "")])
    )
    log = directory / "mirror.log"
    argv = [
        sys.executable, "-m", "workshop_tui.lab.mirror_server",
        "--directory", str(mirror_dir), "--address", address, "--port", str(MIRROR_PORT),
        "--log-file", str(log),
    ]  # fmt: skip
    pid = cgroups.spawn(argv, naming.cgroup_services(lab), log, environment)
    network.wait_for_tcp(address, MIRROR_PORT, pid, "the lab package mirror server", log)
    return pid
