"""Login failures through the real command line: a clear message, no traceback, form kept."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.lab import LabHost

from .terminal import PtyScreen, words
from .test_cli_postfix import WORKSHOP_TUI, app_environment

pytestmark = pytest.mark.lab


def open_app(target: str, data_dir: Path) -> PtyScreen:
    terminal = PtyScreen([WORKSHOP_TUI, "connect", target], app_environment(data_dir))
    terminal.wait_for("Type the login from your slip")
    return terminal


def assert_no_traceback(terminal: PtyScreen) -> None:
    raw = terminal.raw.decode("utf-8", "replace")
    assert "Traceback" not in raw
    assert "Error" not in terminal.text().split("Could not connect")[0]


def test_wrong_password_is_explained(lab_hosts: list[LabHost], tmp_path: Path) -> None:
    host = lab_hosts[1]
    terminal = open_app(f"{host.user}@{host.address}", tmp_path)
    try:
        terminal.press("not-the-password\r")
        terminal.wait_for(words("Could not connect"))
        terminal.wait_for(words("rejected the login"))
        terminal.wait_for(words("Check the user name and password on your slip"))
        assert_no_traceback(terminal)
        assert "not-the-password" not in terminal.text()
        # The form keeps the login, so the attendee only fixes the password.
        assert host.address in terminal.text()
        assert terminal.child.isalive()
    finally:
        terminal.close()


def test_unreachable_host_is_explained(tmp_path: Path) -> None:
    # A loopback port that nothing listens on: the connection is refused at once.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    terminal = open_app(f"learner@127.0.0.1:{closed_port}", tmp_path)
    try:
        terminal.press("secret\r")
        terminal.wait_for(words("Could not connect"))
        terminal.wait_for(words("refused the connection"))
        terminal.wait_for(words("Check the address and port on your slip"))
        assert_no_traceback(terminal)
        assert terminal.child.isalive()
    finally:
        terminal.close()


def test_changed_host_key_is_refused(lab_hosts: list[LabHost], tmp_path: Path) -> None:
    host = lab_hosts[1]
    # Trust a different key for the host's address, as if an earlier VPS had it.
    impostor_line = _foreign_ed25519_key(tmp_path)
    known_hosts = KnownHosts(tmp_path / "known_hosts")
    known_hosts.pin(host.address, host.port, "ssh-ed25519", impostor_line)

    terminal = open_app(f"{host.user}@{host.address}", tmp_path)
    try:
        terminal.press(host.user_password + "\r")
        terminal.wait_for(words("The server's identity changed"))
        terminal.wait_for(words("workshop-tui hosts forget"))
        assert_no_traceback(terminal)
        assert host.user_password not in terminal.raw.decode("utf-8", "replace")
    finally:
        terminal.close()
    # The stored key was kept: a changed key is never trusted silently.
    stored = KnownHosts(tmp_path / "known_hosts").lookup(host.address, host.port)
    assert [key.get_base64() for key in stored] == [impostor_line]


def _foreign_ed25519_key(directory: Path) -> str:
    """Return the base64 public key of a fresh ed25519 key made by ssh-keygen."""
    key_path = directory / "foreign_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key_path)], check=True)
    return key_path.with_suffix(".pub").read_text().split()[1]
