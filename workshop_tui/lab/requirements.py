"""Preflight checks that turn a machine that cannot run the lab into one clear LabError."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from workshop_tui.core.errors import LabError
from workshop_tui.lab import cgroups
from workshop_tui.lab.commands import PACKAGE_OF_COMMAND, run

UP_COMMANDS = (
    "debootstrap", "systemd-nspawn", "dnsmasq", "ip", "unshare", "mount", "umount",
    "chroot", "ssh-keygen",
)  # fmt: skip
"""Commands that creating a lab runs."""

DOWN_COMMANDS = ("ip", "umount")
"""Commands that removing a lab runs."""

INOTIFY = Path("/proc/sys/fs/inotify")
INOTIFY_INSTANCES_PER_HOST = 10
# NOTE: an estimate with a margin. One Debian 12 lab host held about 7 inotify instances
# when it was measured, and all of them count against root.


def check_platform(platform: str = sys.platform, euid: int | None = None) -> None:
    """Raise LabError unless this is Linux and the process runs as root."""
    if platform != "linux":
        raise LabError(
            f"the practice lab needs Linux (network namespaces, overlayfs, systemd-nspawn);"
            f" this is {platform}"
        )
    if euid is None:
        euid = os.geteuid()
    if euid != 0:
        raise LabError(
            "the practice lab needs root to create network namespaces, mounts and cgroups;"
            " run it again with sudo"
        )


def missing_commands(commands: tuple[str, ...], path: str | None = None) -> list[str]:
    """Return the commands in ``commands`` that are not found on ``path`` (default: $PATH)."""
    if path is None:
        path = os.environ.get("PATH", os.defpath)
    return [command for command in commands if shutil.which(command, path=path) is None]


def check_commands(commands: tuple[str, ...], path: str | None = None) -> None:
    """Raise LabError naming the missing commands and the apt packages that provide them."""
    missing = missing_commands(commands, path)
    if not missing:
        return
    packages = sorted({PACKAGE_OF_COMMAND.get(command, command) for command in missing})
    searched = path if path is not None else os.environ.get("PATH", os.defpath)
    raise LabError(
        f"missing commands: {', '.join(missing)} (searched PATH={searched});"
        f" install them with: apt-get install {' '.join(packages)}"
    )


def check_overlayfs(work_root: Path) -> None:
    """Mount a tiny overlay below ``work_root`` to prove overlayfs works on that filesystem."""
    work_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".overlay-check-", dir=work_root) as temporary:
        base = Path(temporary)
        for name in ("lower", "upper", "work", "merged"):
            (base / name).mkdir()
        options = f"lowerdir={base / 'lower'},upperdir={base / 'upper'},workdir={base / 'work'}"
        result = run(
            ["mount", "-t", "overlay", "overlay", "-o", options, str(base / "merged")],
            check=False,
        )
        if result.returncode != 0:
            raise LabError(
                f"overlayfs does not work in {work_root}: {result.stderr.strip()}"
                " (load the kernel module with 'modprobe overlay', or choose a lab root"
                " on ext4 or xfs, not on an overlay or network filesystem)"
            )
        run(["umount", str(base / "merged")])


def inotify_in_use() -> tuple[int, int]:
    """Return the inotify instances and watches that root's processes hold now.

    Processes owned by another user, or that exit during the scan, are not counted.
    """
    instances = watches = 0
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            if process.stat().st_uid != 0:
                continue
            for fd in (process / "fd").iterdir():
                if os.readlink(fd) == "anon_inode:inotify":
                    instances += 1
                    info = (process / "fdinfo" / fd.name).read_text()
                    watches += info.count("inotify wd:")
        except OSError:
            continue
    return instances, watches


def check_inotify(new_hosts: int) -> None:
    """Raise LabError when root's inotify instances would run out for ``new_hosts`` more hosts.

    Each lab host's systemd counts against root's ``fs.inotify.max_user_instances``
    (the kernel's default is 128). A host that finds none left stops booting with "Too many open
    files", so the lab checks before it creates any host.
    """
    if new_hosts <= 0:
        return
    limit = int((INOTIFY / "max_user_instances").read_text())
    in_use = inotify_in_use()[0]
    needed = in_use + new_hosts * INOTIFY_INSTANCES_PER_HOST
    if needed <= limit:
        return
    suggested = -(-needed // 128) * 128
    raise LabError(
        f"{new_hosts} more lab hosts need about {needed} inotify instances for root, but "
        f"fs.inotify.max_user_instances is {limit} and {in_use} are in use; raise the limit "
        f"with 'sysctl fs.inotify.max_user_instances={suggested}' and try again, or start "
        "fewer hosts"
    )


def preflight_up(root: Path) -> None:
    """Check everything that creating a lab needs, before anything is created."""
    check_platform()
    check_commands(UP_COMMANDS)
    cgroups.require_hierarchies()
    check_overlayfs(root)


def preflight_down() -> None:
    check_platform()
    check_commands(DOWN_COMMANDS)
