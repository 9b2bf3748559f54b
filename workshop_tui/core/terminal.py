"""An interactive SSH shell on the attendee's server, in the attendee's own terminal.

The system ``ssh`` runs under pexpect so the app can type the password from the slip
for the attendee, then hands the terminal over until they type ``exit``. The UI calls
:func:`open_shell` while the app is suspended. Nothing here imports Textual.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
from pathlib import Path
from types import FrameType

import pexpect

from workshop_tui.core.errors import WorkshopError
from workshop_tui.core.hostkeys import format_host_port
from workshop_tui.core.login import Login

SSH_PACKAGE = "openssh-client"
"""The Debian package that provides ``ssh``."""

LOGIN_TIMEOUT = 30.0
"""Seconds to wait for ssh's password prompt, which covers a slow link and DNS."""

CONNECT_TIMEOUT = 15
"""Seconds that ssh itself waits for the TCP connection (its ConnectTimeout)."""

RECENT_OUTPUT_BYTES = 4096
"""How much of the end of the session's output is kept to explain an ssh failure."""

PASSWORD_PROMPT = re.compile(rb"(?i)password[^\r\n]*:\s*")
PASSPHRASE_PROMPT = re.compile(rb"(?i)enter passphrase for key[^\r\n]*:\s*")
HOST_KEY_CHANGED = re.compile(rb"REMOTE HOST IDENTIFICATION HAS CHANGED")
HOST_KEY_UNKNOWN = re.compile(rb"Host key verification failed|No \S+ host key is known")
PERMISSION_DENIED = re.compile(rb"Permission denied")
UNREACHABLE = re.compile(
    rb"[^\r\n]*(Could not resolve hostname|Connection refused|Connection timed out|"
    rb"No route to host|Network is unreachable|Connection closed by)[^\r\n]*"
)


class TerminalError(WorkshopError):
    """The shell could not be opened; the message explains why and what to do next."""


def ssh_arguments(login: Login, known_hosts_file: Path) -> list[str]:
    """Return the arguments after ``ssh`` for an interactive login with ``login``.

    Only workshop-tui's own known_hosts file is trusted, and ssh stops on an unknown or
    changed host key instead of asking. Public keys are offered only for a key file or
    when the login uses the SSH agent, so a laptop full of keys does not use up the
    server's authentication attempts before the password.
    """
    arguments = [
        "-p", str(login.port),
        "-o", f"UserKnownHostsFile={known_hosts_file}",
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "UpdateHostKeys=no",
        "-o", "NumberOfPasswordPrompts=1",
        "-o", f"ConnectTimeout={CONNECT_TIMEOUT}",
    ]  # fmt: skip
    if login.key_file is not None:
        arguments += ["-i", str(login.key_file), "-o", "IdentitiesOnly=yes"]
        arguments += ["-o", "PubkeyAuthentication=yes"]
    elif login.use_agent:
        arguments += ["-o", "PubkeyAuthentication=yes"]
    else:
        arguments += ["-o", "PubkeyAuthentication=no"]
    if not login.use_agent:
        arguments += ["-o", "IdentityAgent=none"]
    arguments += ["-l", login.user, "--", login.host]
    return arguments


def find_ssh() -> str:
    """Return the path of the ``ssh`` program.

    Raises:
        TerminalError: ssh is not installed; the message names the package.
    """
    path = shutil.which("ssh")
    if path is None:
        raise TerminalError(
            "The ssh program was not found, so no terminal can be opened. Install the "
            f"{SSH_PACKAGE} package (sudo apt install {SSH_PACKAGE}) and try again."
        )
    return path


def ssh_failure(output: bytes, login: Login, known_hosts_file: Path) -> TerminalError | None:
    """Return the error that ssh's ``output`` reports, or None if it shows no ssh error."""
    target = format_host_port(login.host, login.port)
    if HOST_KEY_CHANGED.search(output):
        return TerminalError(
            f"The SSH host key of {login.host} (port {login.port}) does not match the key "
            "trusted the first time, so ssh stopped. Ask a facilitator before you continue. "
            f"If the server was reinstalled, run: workshop-tui hosts forget {target}"
        )
    if HOST_KEY_UNKNOWN.search(output):
        return TerminalError(
            f"ssh does not know the host key of {login.host} (port {login.port}) yet, so it "
            "stopped. Connect from the app first: it stores the key in "
            f"{known_hosts_file}."
        )
    if PERMISSION_DENIED.search(output):
        return TerminalError(
            f"The server rejected the login of {login.user} on {target}. Check the "
            "password (or key file) on your slip and connect again."
        )
    unreachable = UNREACHABLE.search(output)
    if unreachable:
        detail = unreachable.group(0).decode("utf-8", "replace").strip()
        return TerminalError(
            f"ssh could not reach {target}: {detail}. Check your network and the address "
            "on your slip."
        )
    return None


def terminal_size() -> tuple[int, int]:
    """Return the (rows, columns) of the attendee's terminal, 24x80 if it is unknown."""
    try:
        size = os.get_terminal_size(sys.__stdin__.fileno() if sys.__stdin__ else 0)
    except (OSError, ValueError):
        size = shutil.get_terminal_size((80, 24))
    return size.lines, size.columns


def start_shell(
    login: Login, known_hosts_file: Path, *, login_timeout: float = LOGIN_TIMEOUT
) -> pexpect.spawn:
    """Start ssh and type the password (or key passphrase) when ssh prompts for it.

    Nothing is logged: the pexpect log files stay unset, so the password is only sent
    to ssh. Without a password the attendee answers any prompt in :func:`open_shell`.

    Raises:
        TerminalError: ssh is missing, or failed before it asked for the password.
    """
    ssh = find_ssh()
    child = pexpect.spawn(
        ssh, ssh_arguments(login, known_hosts_file), dimensions=terminal_size(), logfile=None
    )
    if not login.password:
        return child
    patterns: list[object] = [
        PASSWORD_PROMPT,
        PASSPHRASE_PROMPT,
        PERMISSION_DENIED,
        HOST_KEY_CHANGED,
        HOST_KEY_UNKNOWN,
        pexpect.EOF,
        pexpect.TIMEOUT,
    ]
    index = child.expect(patterns, timeout=login_timeout)
    if index in (0, 1):
        child.sendline(login.password)
        return child
    seen = bytes(child.before or b"") + (
        bytes(child.after) if isinstance(child.after, bytes) else b""
    )
    child.close(force=True)
    if index == 6:
        raise TerminalError(
            f"{login.host} did not ask for the password within {login_timeout:g} s. "
            "Check your network and try again."
        )
    failure = ssh_failure(seen, login, known_hosts_file)
    if failure is not None:
        raise failure
    text = seen.decode("utf-8", "replace").strip() or "no output"
    raise TerminalError(f"ssh stopped before the login: {text}")


def open_shell(
    login: Login, known_hosts_file: Path, *, login_timeout: float = LOGIN_TIMEOUT
) -> int:
    """Open a shell on the server in this terminal and return its exit status.

    The terminal must be a real one (stdin a tty). The window size follows the
    terminal, including later resizes.

    Raises:
        TerminalError: ssh is missing, the login failed, or the host key is not trusted.
    """
    child = start_shell(login, known_hosts_file, login_timeout=login_timeout)
    recent = bytearray()

    def keep_recent(data: bytes) -> bytes:
        recent.extend(data)
        del recent[:-RECENT_OUTPUT_BYTES]
        return data

    def follow_resize(signum: int, frame: FrameType | None) -> None:
        child.setwinsize(*terminal_size())

    previous = signal.signal(signal.SIGWINCH, follow_resize)
    try:
        child.interact(escape_character=None, output_filter=keep_recent)
        # interact() stops once ssh has exited, which can be before its last words
        # were read; show them too, since they may explain the failure.
        rest = child.read()
        if rest:
            os.write(sys.__stdout__.fileno() if sys.__stdout__ else 1, rest)
            keep_recent(rest)
    finally:
        signal.signal(signal.SIGWINCH, previous)
        child.close()
    if child.exitstatus is None:
        return 128 + (child.signalstatus or 0)
    if child.exitstatus == 255:
        failure = ssh_failure(bytes(recent), login, known_hosts_file)
        if failure is not None:
            raise failure
    return int(child.exitstatus)
