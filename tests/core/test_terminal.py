"""The terminal: ssh arguments, typing the password, and ssh failures, with a fake ssh."""

from __future__ import annotations

import io
import json
import os
import stat
import sys
from pathlib import Path

import pexpect
import pytest

from workshop_tui.core.login import Login
from workshop_tui.core.terminal import TerminalError, find_ssh, ssh_arguments, start_shell

PASSWORD = "Slip-Secret-42"

FAKE_SSH = """\
#!{python}
# A stand-in for ssh: records its arguments, asks for a password with echo off like
# ssh does, then runs a tiny shell. FAKE_SSH_MODE picks an ssh failure instead.
import json, os, sys, termios

arguments = sys.argv[1:]
with open(os.environ["FAKE_SSH_ARGV_FILE"], "w") as handle:
    json.dump(arguments, handle)
mode = os.environ.get("FAKE_SSH_MODE", "password")
if mode == "changed":
    sys.stderr.write(
        "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\\r\\n"
        "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\\r\\n"
        "Host key verification failed.\\r\\n"
    )
    sys.exit(255)
if mode == "unknown":
    sys.stderr.write(
        "No ED25519 host key is known for [203.0.113.10]:2222 and you have requested "
        "strict checking.\\r\\nHost key verification failed.\\r\\n"
    )
    sys.exit(255)
user = arguments[arguments.index("-l") + 1]
sys.stdout.write(f"{{user}}@{{arguments[-1]}}'s password: ")
sys.stdout.flush()
settings = termios.tcgetattr(0)
quiet = list(settings)
quiet[3] &= ~termios.ECHO
termios.tcsetattr(0, termios.TCSANOW, quiet)
typed = sys.stdin.readline().rstrip("\\n")
termios.tcsetattr(0, termios.TCSANOW, settings)
sys.stdout.write("\\n")
if typed != os.environ["FAKE_SSH_PASSWORD"]:
    sys.stderr.write("Permission denied (publickey,password).\\r\\n")
    sys.exit(255)
print("Linux vps1 6.1.0 Debian")
while True:
    sys.stdout.write("$ ")
    sys.stdout.flush()
    line = sys.stdin.readline().strip()
    if line == "exit":
        sys.exit(int(os.environ.get("FAKE_SSH_EXIT", "0")))
    if line == "size":
        rows, columns = os.get_terminal_size(0).lines, os.get_terminal_size(0).columns
        print(f"rows {{rows}} columns {{columns}}")
    else:
        print(f"ran: {{line}}")
"""

OPEN_SHELL = """\
import sys
from pathlib import Path
from workshop_tui.core.login import Login
from workshop_tui.core.terminal import TerminalError, open_shell

login = Login(host="203.0.113.10", user="root", port=2222, password=sys.argv[1])
try:
    status = open_shell(login, Path(sys.argv[2]))
except TerminalError as error:
    print(f"ERROR {error}")
else:
    print(f"STATUS {status}")
"""


@pytest.fixture
def fake_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Put the fake ssh first on PATH; return the file where it records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "ssh"
    script.write_text(FAKE_SSH.format(python=sys.executable), encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    argv_file = tmp_path / "ssh-argv.json"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SSH_ARGV_FILE", str(argv_file))
    monkeypatch.setenv("FAKE_SSH_PASSWORD", PASSWORD)
    return argv_file


def slip_login(password: str | None = PASSWORD) -> Login:
    return Login(host="203.0.113.10", user="root", port=2222, password=password)


def test_arguments_for_password_login(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    arguments = ssh_arguments(slip_login(), known_hosts)
    assert arguments == [
        "-p", "2222",
        "-o", f"UserKnownHostsFile={known_hosts}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "UpdateHostKeys=no",
        "-o", "NumberOfPasswordPrompts=1",
        "-o", "ConnectTimeout=15",
        "-o", "PubkeyAuthentication=no",
        "-o", "IdentityAgent=none",
        "-l", "root", "--", "203.0.113.10",
    ]  # fmt: skip
    assert PASSWORD not in " ".join(arguments)


def test_arguments_for_key_file(tmp_path: Path) -> None:
    key = tmp_path / "id_ed25519"
    login = Login(host="vps1.example.test", user="alice", key_file=key)
    arguments = ssh_arguments(login, tmp_path / "known_hosts")
    assert arguments[arguments.index("-i") + 1] == str(key)
    assert "IdentitiesOnly=yes" in arguments
    assert "PubkeyAuthentication=yes" in arguments
    assert "IdentityAgent=none" in arguments
    assert arguments[-4:] == ["-l", "alice", "--", "vps1.example.test"]


def test_arguments_for_agent(tmp_path: Path) -> None:
    login = Login(host="vps1.example.test", user="alice", use_agent=True)
    arguments = ssh_arguments(login, tmp_path / "known_hosts")
    assert "PubkeyAuthentication=yes" in arguments
    assert "IdentityAgent=none" not in arguments
    assert "-i" not in arguments


def test_missing_ssh_names_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TerminalError, match="openssh-client"):
        find_ssh()


def test_password_typed_for_attendee(fake_ssh: Path, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    child = start_shell(slip_login(), known_hosts, login_timeout=10)
    try:
        child.expect("Linux vps1", timeout=10)
        child.expect(r"\$ ", timeout=10)
        child.sendline("hostname")
        child.expect("ran: hostname", timeout=10)
        child.sendline("exit")
        child.expect(pexpect.EOF, timeout=10)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert json.loads(fake_ssh.read_text()) == ssh_arguments(slip_login(), known_hosts)
    assert child.logfile is None
    assert child.logfile_read is None
    assert child.logfile_send is None


def test_changed_host_key_stops(
    fake_ssh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SSH_MODE", "changed")
    with pytest.raises(TerminalError, match="does not match the key trusted") as caught:
        start_shell(slip_login(), tmp_path / "known_hosts", login_timeout=10)
    assert "workshop-tui hosts forget 203.0.113.10:2222" in str(caught.value)


def test_unknown_host_key_stops(
    fake_ssh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SSH_MODE", "unknown")
    with pytest.raises(TerminalError, match="Connect from the app first"):
        start_shell(slip_login(), tmp_path / "known_hosts", login_timeout=10)


def run_open_shell(password: str, tmp_path: Path) -> pexpect.spawn:
    """Run open_shell in a child process whose stdin is a terminal, as in the app."""
    return pexpect.spawn(
        sys.executable,
        ["-c", OPEN_SHELL, password, str(tmp_path / "known_hosts")],
        cwd=str(Path(__file__).resolve().parents[2]),
        dimensions=(30, 100),
        env=dict(os.environ),
        timeout=15,
    )


def test_open_shell_until_exit(
    fake_ssh: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_SSH_EXIT", "7")
    terminal = run_open_shell(PASSWORD, tmp_path)
    screen = io.BytesIO()
    terminal.logfile_read = screen
    try:
        terminal.expect(r"\$ ")
        terminal.sendline("size")
        terminal.expect(r"rows 30 columns 100")
        terminal.expect(r"\$ ")
        terminal.setwinsize(40, 120)
        terminal.sendline("size")
        terminal.expect(r"rows 40 columns 120")
        terminal.expect(r"\$ ")
        terminal.sendline("exit")
        terminal.expect(r"STATUS (\d+)")
        assert terminal.match is not None
        assert terminal.match.group(1) == b"7"
        terminal.expect(pexpect.EOF)
    finally:
        terminal.close()
    # Everything the attendee's terminal showed: the password was typed, never echoed.
    assert b"Linux vps1" in screen.getvalue()
    assert PASSWORD.encode() not in screen.getvalue()


def test_open_shell_wrong_password(fake_ssh: Path, tmp_path: Path) -> None:
    terminal = run_open_shell("not-the-password", tmp_path)
    try:
        terminal.expect(r"ERROR ([^\r\n]*)")
        assert terminal.match is not None
        message = terminal.match.group(1).decode()
        terminal.expect(pexpect.EOF)
    finally:
        terminal.close()
    assert message.startswith("The server rejected the login of root on 203.0.113.10:2222.")
