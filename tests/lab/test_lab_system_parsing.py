"""Parsing of /proc/self/mountinfo for cgroup hierarchies and mounts, and guest file writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.lab import cgroups, mounts

HYBRID_MOUNTINFO = """\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""

UNIFIED_MOUNTINFO = """\
24 1 0:21 / / rw shared:1 - ext4 /dev/vda rw
30 24 0:26 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate
77 24 0:40 / /var/lib/workshop-tui/labs/t/hosts/alpha/root rw shared:40 - overlay overlay rw
78 24 0:41 / /var/lib/workshop-tui/labs/t/hosts/alpha/root/proc rw - proc proc rw
79 24 0:42 / /var/lib/workshop-tui/labs/t2 rw - tmpfs tmpfs rw
80 24 0:43 / /srv/with\\040space rw - tmpfs tmpfs rw
"""


def test_hybrid_hierarchies() -> None:
    assert cgroups.hierarchies(HYBRID_MOUNTINFO) == [
        Path("/sys/fs/cgroup/systemd"),
        Path("/sys/fs/cgroup/unified"),
    ]


def test_unified_hierarchy() -> None:
    assert cgroups.hierarchies(UNIFIED_MOUNTINFO) == [Path("/sys/fs/cgroup")]


def test_mounts_below_deepest_first() -> None:
    found = mounts.mounts_below(Path("/var/lib/workshop-tui/labs/t"), UNIFIED_MOUNTINFO)
    assert found == [
        Path("/var/lib/workshop-tui/labs/t/hosts/alpha/root/proc"),
        Path("/var/lib/workshop-tui/labs/t/hosts/alpha/root"),
    ]


def test_mount_point_escapes() -> None:
    assert Path("/srv/with space") in mounts.mount_points(UNIFIED_MOUNTINFO)


def test_write_file_replaces_symlink(tmp_path: Path) -> None:
    root = tmp_path / "guest"
    (root / "etc").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.write_text("machine file\n")
    (root / "etc" / "resolv.conf").symlink_to(outside)

    mounts.write_file(root, "etc/resolv.conf", "nameserver 10.200.7.1\n", 0o644)

    assert outside.read_text() == "machine file\n"
    assert not (root / "etc" / "resolv.conf").is_symlink()
    assert (root / "etc" / "resolv.conf").read_text() == "nameserver 10.200.7.1\n"


def test_write_file_rejects_symlinked_directory(tmp_path: Path) -> None:
    root = tmp_path / "guest"
    root.mkdir()
    (tmp_path / "outside").mkdir()
    (root / "etc").symlink_to(tmp_path / "outside")
    with pytest.raises(LabError, match="not a plain directory"):
        mounts.write_file(root, "etc/hostname", "alpha\n")
    assert not (tmp_path / "outside" / "hostname").exists()
