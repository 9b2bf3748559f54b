"""Login failures through the real command line: a clear message, no traceback, form kept."""

from __future__ import annotations

import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.progress import ProgressStore
from workshop_tui.core.session import Session
from workshop_tui.lab import LabHost

from .conftest import login_for
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


def sshd_log_since(host: LabHost, since: float, directory: Path) -> str:
    """Return the host's journal since the Unix time ``since``, read over SSH as root.

    The SSH server logs every password it checks there, with the user name.
    """
    directory.mkdir(parents=True, exist_ok=True)
    session = Session(
        login_for(host, as_root=True),
        known_hosts=KnownHosts(directory / "known_hosts"),
        progress_store=ProgressStore(directory / "progress.json"),
    )
    session.connect()
    try:
        result = session.connection.exec(
            f"journalctl --no-pager --output=cat --since=@{int(since)}", timeout=30
        )
    finally:
        session.close()
    return result.stdout.decode("utf-8", "replace")


def wait_for_sshd_log(host: LabHost, since: float, directory: Path, pattern: str) -> str:
    """Return the host's journal once ``pattern`` appears in it, within 20 seconds."""
    deadline = time.monotonic() + 20
    while True:
        log = sshd_log_since(host, since, directory)
        if re.search(pattern, log) or time.monotonic() > deadline:
            return log
        time.sleep(0.5)


def test_wrong_password_is_explained(lab_hosts: list[LabHost], tmp_path: Path) -> None:
    host = lab_hosts[1]
    started = time.time() - 1
    terminal = open_app(f"{host.user}@{host.address}", tmp_path)
    try:
        terminal.press("not-the-password\r")
        terminal.confirm_new_host_key(host.host_keys)
        terminal.wait_for(words("Could not connect"))
        terminal.wait_for(words("rejected the login"))
        terminal.wait_for(words("Check the user name and password on your slip"))
        assert_no_traceback(terminal)
        assert "not-the-password" not in terminal.text()
        # The form keeps the login, so the attendee only fixes the password.
        assert host.address in terminal.text()
        assert terminal.child.isalive()
        # The key is stored only after a successful login, so the question comes again.
        assert KnownHosts(tmp_path / "known_hosts").lookup(host.address, host.port) == []
        terminal.press("\r")
        terminal.wait_for_new_host_key(host.host_keys)
        terminal.press("\x1b")  # Escape selects Cancel.
        terminal.wait_for(words("You did not trust the key"))
    finally:
        terminal.close()
    assert KnownHosts(tmp_path / "known_hosts").lookup(host.address, host.port) == []
    log = wait_for_sshd_log(host, started, tmp_path / "checker", r"Failed password for")
    assert f"Failed password for {host.user} " in log


def test_cancel_sends_no_password(lab_hosts: list[LabHost], tmp_path: Path) -> None:
    host = lab_hosts[0]
    started = time.time() - 1
    terminal = open_app(f"{host.user}@{host.address}", tmp_path)
    try:
        terminal.press(host.user_password + "\r")
        terminal.wait_for_new_host_key(host.host_keys)
        terminal.press("\x1b")  # Escape selects Cancel.
        terminal.wait_for(words("Could not connect. You did not trust the key of"))
        terminal.wait_for(words("so the app did not log in"))
        assert_no_traceback(terminal)
        # The form keeps the login, so the attendee can connect again after checking.
        assert host.address in terminal.text()
        assert host.user_password not in terminal.raw.decode("utf-8", "replace")
        assert terminal.child.isalive()
    finally:
        terminal.close()
    assert KnownHosts(tmp_path / "known_hosts").lookup(host.address, host.port) == []
    # The SSH server saw the connection end before any login: no password was checked.
    log = wait_for_sshd_log(host, started, tmp_path / "checker", r"Connection closed by")
    assert re.search(r"Connection closed by \S+ port \d+ \[preauth\]", log), log
    # The journal names the attendee's user only once a login with it was tried.
    assert [line for line in log.splitlines() if host.user in line] == [], log


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
