"""Preflight errors: platform, root, missing commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.lab import requirements
from workshop_tui.lab.commands import run


def test_not_linux() -> None:
    with pytest.raises(LabError, match=r"needs Linux.*darwin"):
        requirements.check_platform("darwin", euid=0)


def test_not_root() -> None:
    with pytest.raises(LabError, match=r"needs root.*sudo"):
        requirements.check_platform("linux", euid=1000)


def test_linux_root_passes() -> None:
    requirements.check_platform("linux", euid=0)


def _fake_path(tmp_path: Path, commands: list[str]) -> str:
    for command in commands:
        tool = tmp_path / command
        tool.write_text("#!/bin/sh\nexit 0\n")
        tool.chmod(0o755)
    return str(tmp_path)


def test_missing_commands_name_packages(tmp_path: Path) -> None:
    present = [c for c in requirements.UP_COMMANDS if c not in ("debootstrap", "dnsmasq")]
    path = _fake_path(tmp_path, present)
    with pytest.raises(LabError) as caught:
        requirements.check_commands(requirements.UP_COMMANDS, path)
    message = str(caught.value)
    assert "missing commands: debootstrap, dnsmasq" in message
    assert "apt-get install debootstrap dnsmasq-base" in message
    assert str(tmp_path) in message


def test_every_command_has_a_package(tmp_path: Path) -> None:
    with pytest.raises(LabError) as caught:
        requirements.check_commands(requirements.UP_COMMANDS, str(tmp_path))
    message = str(caught.value)
    for package in (
        "debootstrap",
        "systemd-container",
        "dnsmasq-base",
        "iproute2",
        "util-linux",
        "mount",
        "openssh-client",
    ):
        assert package in message, package


def test_all_commands_present(tmp_path: Path) -> None:
    path = _fake_path(tmp_path, list(requirements.UP_COMMANDS))
    assert requirements.missing_commands(requirements.UP_COMMANDS, path) == []
    requirements.check_commands(requirements.UP_COMMANDS, path)


def test_failing_command_names_command_and_stderr() -> None:
    with pytest.raises(LabError) as caught:
        run(["sh", "-c", "echo first >&2; echo 'last line' >&2; exit 3"])
    message = str(caught.value)
    assert "exit status 3" in message
    assert "sh -c" in message
    assert message.endswith("first\nlast line")


def test_missing_executable_names_package(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LabError, match=r"command not found: dnsmasq.*dnsmasq-base"):
        run(["dnsmasq", "--version"])


def test_timeout_names_command() -> None:
    with pytest.raises(LabError, match="timed out after 0 s: sleep 5"):
        run(["sleep", "5"], timeout=0.2)


def test_real_tests_skip_without_root(monkeypatch: pytest.MonkeyPatch) -> None:
    from .support import lab_skip_reason

    monkeypatch.setattr("os.geteuid", lambda: 1000)
    reason = lab_skip_reason()
    assert reason is not None
    assert "needs root" in reason


def test_real_tests_skip_without_tools(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from .support import lab_skip_reason

    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setenv("PATH", str(tmp_path))
    reason = lab_skip_reason()
    assert reason is not None
    assert "missing commands debootstrap" in reason
    assert ".ci/lab-packages" in reason


@pytest.fixture
def inotify_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake /proc/sys/fs/inotify with a limit of 128 and 60 instances in use."""
    (tmp_path / "max_user_instances").write_text("128\n")
    monkeypatch.setattr(requirements, "INOTIFY", tmp_path)
    monkeypatch.setattr(requirements, "inotify_in_use", lambda: (60, 900))
    return tmp_path


def test_inotify_enough_for_few_hosts(inotify_limit: Path) -> None:
    requirements.check_inotify(6)


def test_inotify_too_few_for_many_hosts(inotify_limit: Path) -> None:
    with pytest.raises(LabError) as caught:
        requirements.check_inotify(7)
    message = str(caught.value)
    assert "fs.inotify.max_user_instances is 128 and 60 are in use" in message
    assert "sysctl fs.inotify.max_user_instances=256" in message


def test_inotify_not_checked_without_new_hosts(inotify_limit: Path) -> None:
    (inotify_limit / "max_user_instances").write_text("1\n")
    requirements.check_inotify(0)
