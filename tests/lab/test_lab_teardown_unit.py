"""Removing lab objects that vanish between the existence check and the removal.

The kernel removes a veth pair on its own once the pair's namespace is deleted,
so ``ip link delete`` can fail for a link that was listed a moment before. A
faked ``run`` plays the tools and makes each object vanish at the worst moment.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.lab import cgroups, mounts, network

VETH = "wt0123abcdv01"

Result = str | subprocess.CompletedProcess[str]


class FakeRun:
    """Stands in for ``commands.run``: records each command and runs the matching handler.

    A handler gets the argument list and returns the command's stdout (exit
    status 0) or a whole CompletedProcess, or raises LabError as the real
    ``run`` does for a failed command.
    """

    def __init__(self, handlers: dict[tuple[str, ...], Callable[[list[str]], Result]]) -> None:
        self.handlers = handlers
        self.commands: list[list[str]] = []

    def __call__(self, argv: list[str], **options: object) -> subprocess.CompletedProcess[str]:
        self.commands.append(list(argv))
        for prefix, handler in self.handlers.items():
            if tuple(argv[: len(prefix)]) == prefix:
                result = handler(list(argv))
                if isinstance(result, str):
                    return subprocess.CompletedProcess(argv, 0, result, "")
                return result
        raise AssertionError(f"unexpected command {argv}")


def _failed(argv: list[str], message: str) -> LabError:
    return LabError(f"command failed with exit status 1: {' '.join(argv)}\n{message}")


def _fake_links(
    monkeypatch: pytest.MonkeyPatch, links: set[str], delete: Callable[[], None]
) -> FakeRun:
    """Fake ``ip`` with the interfaces in ``links``; ``ip link delete`` calls ``delete``."""

    def show(argv: list[str]) -> str:
        return json.dumps([{"ifname": name, "flags": ["UP"]} for name in sorted(links)])

    def delete_link(argv: list[str]) -> str:
        delete()
        return ""

    fake = FakeRun({("ip", "-j", "link", "show"): show, ("ip", "link", "delete"): delete_link})
    monkeypatch.setattr(network, "run", fake)
    return fake


def test_link_vanishing_during_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    links = {VETH}

    def vanish_then_fail() -> None:
        # The namespace's cleanup removes the pair just before the delete arrives.
        links.clear()
        raise _failed(["ip", "link", "delete", VETH], f'Cannot find device "{VETH}"')

    fake = _fake_links(monkeypatch, links, vanish_then_fail)
    network.delete_link(VETH)
    assert ["ip", "link", "delete", VETH] in fake.commands


def test_link_delete_failure_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> None:
        raise _failed(["ip", "link", "delete", VETH], "RTNETLINK answers: Operation not permitted")

    _fake_links(monkeypatch, {VETH}, fail)
    with pytest.raises(LabError, match="Operation not permitted"):
        network.delete_link(VETH)


def test_missing_link_is_not_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_links(monkeypatch, {"eth0"}, lambda: None)
    network.delete_link(VETH)
    assert fake.commands == [["ip", "-j", "link", "show"]]


def _fake_netns(
    monkeypatch: pytest.MonkeyPatch, netns_dir: Path, delete: Callable[[Path], None]
) -> FakeRun:
    monkeypatch.setattr(network, "NETNS_DIR", netns_dir)

    def delete_namespace(argv: list[str]) -> str:
        delete(netns_dir / argv[-1])
        return ""

    fake = FakeRun({("ip", "netns", "delete"): delete_namespace})
    monkeypatch.setattr(network, "run", fake)
    return fake


def test_namespace_vanishing_during_delete(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "wtui_t_alpha").touch()

    def vanish_then_fail(path: Path) -> None:
        path.unlink()
        raise _failed(["ip", "netns", "delete", path.name], "No such file or directory")

    fake = _fake_netns(monkeypatch, tmp_path, vanish_then_fail)
    network.delete_namespace("wtui_t_alpha")
    assert fake.commands == [["ip", "netns", "delete", "wtui_t_alpha"]]


def test_namespace_delete_failure_is_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "wtui_t_alpha").touch()

    def fail(path: Path) -> None:
        raise _failed(["ip", "netns", "delete", path.name], "Device or resource busy")

    _fake_netns(monkeypatch, tmp_path, fail)
    with pytest.raises(LabError, match="resource busy"):
        network.delete_namespace("wtui_t_alpha")


def test_missing_namespace_is_not_deleted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = _fake_netns(monkeypatch, tmp_path, lambda path: None)
    network.delete_namespace("wtui_t_alpha")
    assert fake.commands == []


def _fake_mounts(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    mounted: set[Path],
    lazy_unmount: Callable[[Path], None],
) -> FakeRun:
    """Fake a mount table that lists ``mounted``.

    A plain ``umount`` fails as busy, and ``umount --lazy`` calls ``lazy_unmount``.
    """
    mountinfo = tmp_path / "mountinfo"

    def write_mountinfo() -> None:
        lines = [f"77 24 0:40 / {point} rw - overlay overlay rw\n" for point in sorted(mounted)]
        mountinfo.write_text("".join(lines))

    def umount(argv: list[str]) -> Result:
        if "--lazy" in argv:
            try:
                lazy_unmount(Path(argv[-1]))
            finally:
                write_mountinfo()
            return ""
        return subprocess.CompletedProcess(argv, 32, "", f"umount: {argv[-1]}: target is busy.")

    write_mountinfo()
    monkeypatch.setattr(mounts, "MOUNTINFO", mountinfo)
    fake = FakeRun({("umount",): umount})
    monkeypatch.setattr(mounts, "run", fake)
    return fake


def test_mount_vanishing_during_unmount(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = tmp_path / "labs/t/hosts/alpha/root"
    mounted = {root}

    def vanish_then_fail(point: Path) -> None:
        mounted.discard(point)
        raise _failed(["umount", "--lazy", str(point)], f"umount: {point}: not mounted.")

    fake = _fake_mounts(monkeypatch, tmp_path, mounted, vanish_then_fail)
    mounts.unmount_below(tmp_path / "labs/t")
    assert fake.commands == [["umount", str(root)], ["umount", "--lazy", str(root)]]


def test_unmount_failure_is_raised(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    root = tmp_path / "labs/t/hosts/alpha/root"

    def fail(point: Path) -> None:
        raise _failed(["umount", "--lazy", str(point)], f"umount: {point}: must be superuser.")

    _fake_mounts(monkeypatch, tmp_path, {root}, fail)
    with pytest.raises(LabError, match="must be superuser"):
        mounts.unmount_below(tmp_path / "labs/t")


def test_tree_vanishing_before_delete(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    directory = tmp_path / "labs/t"
    (directory / "hosts/alpha").mkdir(parents=True)

    def removed_by_another_process(path: Path) -> None:
        shutil.rmtree(path)

    monkeypatch.setattr(mounts, "unmount_below", removed_by_another_process)
    mounts.remove_tree(directory)
    assert not directory.exists()


def test_file_vanishing_during_delete(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    directory = tmp_path / "labs/t"
    (directory / "hosts").mkdir(parents=True)
    (directory / "dnsmasq.pid").write_text("101\n")
    (directory / "hosts/boot.log").write_text("booted\n")
    real_unlink = os.unlink
    vanished: list[str] = []

    def unlink_vanished_first(path: str, *, dir_fd: int | None = None) -> None:
        real_unlink(path, dir_fd=dir_fd)
        if not vanished:
            # The first file goes away just before rmtree deletes it.
            vanished.append(path)
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)

    monkeypatch.setattr(os, "unlink", unlink_vanished_first)
    mounts.remove_tree(directory)
    assert vanished
    assert not directory.exists()


def test_cgroup_vanishing_during_remove(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cgroups, "hierarchies", lambda mountinfo=None: [tmp_path])
    for host in ("alpha", "bravo"):
        (tmp_path / "workshop-tui/t/hosts" / host).mkdir(parents=True)
    real_rmdir = Path.rmdir
    removed: list[str] = []

    def rmdir_and_vanish_sibling(path: Path) -> None:
        if not removed:
            # Something else removes the sibling cgroup after the tree was listed.
            sibling = "bravo" if path.name == "alpha" else "alpha"
            real_rmdir(path.parent / sibling)
        removed.append(path.name)
        real_rmdir(path)

    monkeypatch.setattr(Path, "rmdir", rmdir_and_vanish_sibling)
    cgroups.remove("workshop-tui/t")
    assert not (tmp_path / "workshop-tui/t").exists()
    assert (tmp_path / "workshop-tui").is_dir()
