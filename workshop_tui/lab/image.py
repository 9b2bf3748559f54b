"""Build and cache the Debian 12 image that lab hosts are cloned from, with its mirror.

The image lives in ``ROOT/image/<key>/`` with ``rootfs/`` (the lower layer of
every host's overlay), ``mirror/`` (the partial apt mirror) and ``image.json``.
The key changes with the package lists, the apt sources and
``PROVISION_VERSION``, so a changed recipe builds a new image. A build runs in
a temporary directory that is renamed into place at the end, so an interrupted
build never looks complete.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from workshop_tui.core.errors import LabError
from workshop_tui.lab import mounts
from workshop_tui.lab.commands import run, tail
from workshop_tui.lab.mirror import build_mirror
from workshop_tui.lab.sources import RELEASE, Repository, machine_repositories, render_deb822

PROVISION_VERSION = 1
"""Raise this whenever the provisioning steps below change, so images are rebuilt."""

BASE_PACKAGES = (
    "systemd", "systemd-sysv", "dbus", "openssh-server", "sudo", "iproute2",
    "iputils-ping", "netbase", "ifupdown", "less", "nano", "vim-tiny", "procps",
    "whiptail", "ca-certificates", "curl", "wget",
)  # fmt: skip
"""Packages of a typical minimal Debian 12 VPS, installed without recommends."""

LESSON_PACKAGES = (
    "postfix", "dovecot-core", "dovecot-imapd", "dovecot-pop3d", "dovecot-lmtpd",
    "dovecot-submissiond", "mutt", "mailutils", "bsd-mailx", "swaks", "sasl2-bin",
    "libsasl2-modules", "netcat-openbsd", "telnet", "opendkim", "opendkim-tools",
    "nginx", "python3", "certbot", "ssl-cert",
)  # fmt: skip
"""Packages the lessons may install; the lab mirror contains them with all dependencies."""

LAB_USER = "learner"
"""The normal user, in group sudo, on every lab host."""

SSH_KEYS_UNIT = "ssh-host-keys.service"

Progress = Callable[[str], None]

# Runs a command chrooted into the image with /proc, /sys and /dev mounted.
# unshare gives it private mount and PID namespaces, so the mounts and any
# process the command leaves behind vanish when it exits.
_CHROOT_SCRIPT = """\
set -e
root=$1
shift
mount -t proc proc "$root/proc"
mount -t sysfs -o ro sysfs "$root/sys"
mount --rbind /dev "$root/dev"
exec chroot "$root" "$@"
"""

_CHROOT_ENV = (
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    "DEBIAN_FRONTEND=noninteractive",
    "LC_ALL=C.UTF-8",
    "HOME=/root",
)

_APT_CONF = """\
// The lab's package mirror serves a frozen copy of Debian's signed indexes,
// so their Valid-Until and Date fields must not make apt reject them later.
Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
"""

_SSHD_CONF = """\
# Practice host: log in with the passwords that the workshop lab shows.
PasswordAuthentication yes
PermitRootLogin yes
"""

_INTERFACES = """\
# eth0 of this practice host is configured from outside by the workshop lab.
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback
"""

_SSH_KEYS_UNIT_TEXT = """\
[Unit]
Description=Generate missing SSH host keys
Before=ssh.service

[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
"""

_POLICY_RC_D = "#!/bin/sh\n# Start no services while the image is built.\nexit 101\n"


@dataclass(frozen=True)
class Image:
    """A built image: root filesystem, package mirror and the sources both use."""

    key: str
    directory: Path
    repositories: tuple[Repository, ...]

    @property
    def rootfs(self) -> Path:
        return self.directory / "rootfs"

    @property
    def mirror(self) -> Path:
        return self.directory / "mirror"

    @property
    def mirror_hosts(self) -> tuple[str, ...]:
        """Return the host names in the apt sources, which the lab DNS maps to the mirror."""
        return tuple(sorted({repository.host for repository in self.repositories}))


def image_key(repositories: Sequence[Repository]) -> str:
    recipe = {
        "version": PROVISION_VERSION,
        "base": BASE_PACKAGES,
        "lessons": LESSON_PACKAGES,
        "user": LAB_USER,
        "sources": [[r.uri, r.suites, r.components] for r in repositories],
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def load_image(directory: Path) -> Image:
    """Read a built image's description, raising LabError when it is missing or invalid."""
    try:
        data = json.loads((directory / "image.json").read_text())
        repositories = tuple(
            Repository(item["uri"], tuple(item["suites"]), tuple(item["components"]))
            for item in data["repositories"]
        )
        return Image(key=str(data["key"]), directory=directory, repositories=repositories)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise LabError(f"invalid lab image in {directory}: {error}") from error


@contextlib.contextmanager
def _image_lock(images_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock so only one process builds images at a time."""
    images_dir.mkdir(parents=True, exist_ok=True)
    with (images_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def ensure_image(root: Path, progress: Progress) -> Image:
    """Return the cached image for the current recipe, building it first if needed."""
    repositories = machine_repositories()
    key = image_key(repositories)
    images_dir = root / "image"
    final = images_dir / key
    with _image_lock(images_dir):
        if (final / "image.json").is_file():
            progress(f"Using the cached Debian 12 image {final}")
            return load_image(final)
        for stale in images_dir.glob(".build-*"):
            progress(f"Removing the unfinished image build {stale.name}")
            mounts.remove_tree(stale)
        staging = images_dir / f".build-{key}-{os.getpid()}"
        staging.mkdir(mode=0o700)
        try:
            _build(staging, key, repositories, progress)
            staging.rename(final)
        except BaseException:
            # A staging directory left behind is removed by the next build.
            with contextlib.suppress(LabError):
                mounts.remove_tree(staging)
            raise
        _remove_unused_images(root, keep=final, progress=progress)
    return load_image(final)


def _remove_unused_images(root: Path, keep: Path, progress: Progress) -> None:
    """Delete images of older recipes that no lab records and no overlay mount uses."""
    used = {keep}
    for state_file in (root / "labs").glob("*/state.json"):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            recorded = json.loads(state_file.read_text()).get("image_dir")
            if recorded:
                used.add(Path(recorded))
    mountinfo = mounts.MOUNTINFO.read_text()
    for directory in (root / "image").iterdir():
        if not directory.is_dir() or directory.name.startswith(".") or directory in used:
            continue
        if f"lowerdir={directory}/" in mountinfo:
            continue
        progress(f"Removing the unused image {directory}")
        mounts.remove_tree(directory)


def in_chroot(
    rootfs: Path, argv: Sequence[str], *, timeout: float = 600, input_text: str | None = None
) -> str:
    """Run ``argv`` chrooted into ``rootfs`` and return its stdout."""
    command = [
        "unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--",
        "sh", "-c", _CHROOT_SCRIPT, "sh", str(rootfs), "env", "-i", *_CHROOT_ENV, *argv,
    ]  # fmt: skip
    return run(command, timeout=timeout, input_text=input_text).stdout


def _build(staging: Path, key: str, repositories: list[Repository], progress: Progress) -> None:
    rootfs = staging / "rootfs"
    main = next((r for r in repositories if RELEASE in r.suites), None)
    if main is None:
        raise LabError(f"the apt sources name no repository with the suite {RELEASE}")

    started = time.monotonic()
    progress(f"Building the Debian 12 image with debootstrap from {main.uri} (about 30 s)")
    try:
        run(["debootstrap", "--variant=minbase", RELEASE, str(rootfs), main.uri], timeout=1800)
    except LabError as error:
        # The build directory is deleted after a failure, so the log goes into the error.
        log = rootfs / "debootstrap/debootstrap.log"
        detail = tail(log.read_text(errors="replace")) if log.is_file() else ""
        raise LabError(
            f"{error}\ndebootstrap.log ends with:\n{detail}" if detail else str(error)
        ) from error

    progress("Installing systemd, OpenSSH and the base tools into the image")
    _write_apt_config(rootfs, repositories)
    mounts.write_file(rootfs, "usr/sbin/policy-rc.d", _POLICY_RC_D, 0o755)
    mounts.write_file(rootfs, "etc/resolv.conf", Path("/etc/resolv.conf").read_bytes())
    in_chroot(rootfs, ["apt-get", "update"])
    in_chroot(
        rootfs,
        ["apt-get", "install", "-y", "--no-install-recommends", *BASE_PACKAGES],
        timeout=1800,
    )
    _configure(rootfs)

    progress(f"Downloading {len(LESSON_PACKAGES)} lesson packages for the lab mirror")
    in_chroot(rootfs, ["apt-get", "clean"])
    in_chroot(rootfs, ["apt-get", "install", "-y", "--download-only", *LESSON_PACKAGES])
    for package in LESSON_PACKAGES:
        # Alone, apt may pick other alternatives than together (mailutils alone
        # pulls in exim4 as the mail transport agent), so each is fetched alone too.
        in_chroot(rootfs, ["apt-get", "install", "-y", "--download-only", package])
    summary = build_mirror(
        rootfs / "var/lib/apt/lists",
        rootfs / "var/cache/apt/archives",
        repositories,
        staging / "mirror",
    )
    progress(
        f"Mirror ready: {summary.packages} packages ({summary.total_bytes // 1_000_000} MB),"
        f" {summary.index_files} index files"
    )

    _finish(rootfs)
    description = {
        "key": key,
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.monotonic() - started, 1),
        "repositories": [
            {"uri": r.uri, "suites": list(r.suites), "components": list(r.components)}
            for r in repositories
        ],
    }
    (staging / "image.json").write_text(json.dumps(description, indent=2) + "\n")
    progress(f"Image built in {time.monotonic() - started:.0f} s")


def _write_apt_config(rootfs: Path, repositories: list[Repository]) -> None:
    sources_list = rootfs / "etc/apt/sources.list"
    if sources_list.exists() or sources_list.is_symlink():
        sources_list.unlink()
    mounts.write_file(rootfs, "etc/apt/sources.list.d/debian.sources", render_deb822(repositories))
    mounts.write_file(rootfs, "etc/apt/apt.conf.d/50workshop-lab-mirror", _APT_CONF)


def _configure(rootfs: Path) -> None:
    """Set up the learner account, password SSH logins and first-boot host keys."""
    in_chroot(
        rootfs,
        ["useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo",
         "--comment", "Workshop learner", LAB_USER],
    )  # fmt: skip
    mounts.write_file(rootfs, "etc/ssh/sshd_config.d/50-workshop-lab.conf", _SSHD_CONF)
    mounts.write_file(rootfs, "etc/network/interfaces", _INTERFACES)
    mounts.write_file(rootfs, f"etc/systemd/system/{SSH_KEYS_UNIT}", _SSH_KEYS_UNIT_TEXT)
    for wants in ("multi-user.target.wants", "ssh.service.wants"):
        directory = rootfs / "etc/systemd/system" / wants
        directory.mkdir(parents=True, exist_ok=True)
        link = directory / SSH_KEYS_UNIT
        if not link.is_symlink():
            link.symlink_to(f"/etc/systemd/system/{SSH_KEYS_UNIT}")


def _finish(rootfs: Path) -> None:
    """Remove what makes the image one particular machine, so each clone is its own host."""
    in_chroot(rootfs, ["apt-get", "clean"])
    (rootfs / "usr/sbin/policy-rc.d").unlink()
    for key_file in (rootfs / "etc/ssh").glob("ssh_host_*"):
        key_file.unlink()
    mounts.write_file(rootfs, "etc/machine-id", "", 0o444)
    dbus_id = rootfs / "var/lib/dbus/machine-id"
    if dbus_id.exists() and not dbus_id.is_symlink():
        dbus_id.unlink()
    mounts.write_file(rootfs, "etc/hostname", "localhost\n")
    mounts.write_file(rootfs, "etc/resolv.conf", "")
