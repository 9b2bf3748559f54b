"""Mounts below the lab's directories, and deleting trees that may still hold some."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from workshop_tui.core.errors import LabError
from workshop_tui.lab.commands import run

MOUNTINFO = Path("/proc/self/mountinfo")


def _unescape(field: str) -> str:
    """Decode the octal escapes (``\\040`` for a space) that mountinfo uses in paths."""
    return field.encode().decode("unicode_escape").encode("latin-1").decode(errors="replace")


def mount_points(mountinfo: str | None = None) -> list[Path]:
    if mountinfo is None:
        mountinfo = MOUNTINFO.read_text()
    return [Path(_unescape(line.split()[4])) for line in mountinfo.splitlines() if line.strip()]


def mounts_below(directory: Path, mountinfo: str | None = None) -> list[Path]:
    """Return mount points at or below ``directory``, deepest first."""
    found = [
        point
        for point in mount_points(mountinfo)
        if point == directory or directory in point.parents
    ]
    return sorted(set(found), key=lambda point: len(point.parts), reverse=True)


def is_mounted(directory: Path) -> bool:
    return directory in mount_points()


def unmount_below(directory: Path) -> None:
    """Unmount everything at or below ``directory``, detaching busy mounts lazily."""
    for point in mounts_below(directory):
        result = run(["umount", str(point)], check=False)
        if result.returncode == 0 or not is_mounted(point):
            continue
        try:
            run(["umount", "--lazy", str(point)])
        except LabError:
            # The mount may be gone by the time the lazy unmount runs, so the
            # failure counts only if it is still mounted.
            if is_mounted(point):
                raise


def remove_tree(directory: Path) -> None:
    """Unmount everything below ``directory`` and delete it.

    Deleting through a mount point would delete the mounted files (an overlay's
    merged view, or the machine's /dev in a bind mount), so deletion stops with
    LabError while anything below is still mounted.
    """
    if not directory.exists() and not directory.is_symlink():
        return
    unmount_below(directory)
    left = mounts_below(directory)
    if left:
        raise LabError(f"cannot delete {directory}: {left[0]} is still mounted")
    try:
        _delete_tree(directory)
    except OSError as error:
        raise LabError(f"cannot delete {directory}: {error}") from error


def _delete_tree(directory: Path) -> None:
    """Delete ``directory`` with ``shutil.rmtree``, going past files that vanish meanwhile."""

    def ignore_missing(function: object, path: str, error: BaseException) -> None:
        if not isinstance(error, FileNotFoundError):
            raise error

    if sys.version_info >= (3, 12):
        shutil.rmtree(directory, onexc=ignore_missing)
    else:
        # Python 3.11 has only ``onerror``, which gets the exception as sys.exc_info().
        shutil.rmtree(
            directory, onerror=lambda function, path, info: ignore_missing(function, path, info[1])
        )


def write_file(root: Path, relative: str, content: str | bytes, mode: int = 0o644) -> None:
    """Write a file inside a guest's root directory without following symbolic links.

    The guest's root user controls the files in a clone, so a symbolic link planted
    there must never redirect a write to this machine's own files.
    """
    path = root / relative.lstrip("/")
    current = root
    for part in Path(relative.lstrip("/")).parent.parts:
        current = current / part
        if current.is_symlink() or not current.is_dir():
            raise LabError(f"cannot write {path}: {current} is not a plain directory")
    if path.is_symlink() or path.exists():
        path.unlink()
    data = content.encode() if isinstance(content, str) else content
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(descriptor, "wb") as stream:
        stream.write(data)
        os.fchmod(stream.fileno(), mode)
