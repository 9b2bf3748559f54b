"""Connection pieces that need no SSH server: Login, error mapping, the sudo wrapper."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop_tui.core.errors import HostUnreachable
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.remote import Connection, Login
from workshop_tui.core.sudo import (
    TokenFilter,
    build_sudo_command,
    sudo_failure_message,
    sudo_stdin_prefix,
)

HOSTILE = "x'; rm -rf ~ #"


def test_login_repr_hides_password() -> None:
    login = Login("vps.example.org", "alice", 2222, password=HOSTILE)
    assert HOSTILE not in repr(login)
    assert HOSTILE not in str(login)
    assert "password" not in repr(login)
    assert login.target == "alice@vps.example.org:2222"
    assert Login("vps", "root").target == "root@vps"
    assert Login("::1", "root", 2200).target == "root@[::1]:2200"


@pytest.mark.parametrize(
    ("host", "user", "port"),
    [
        ("", "alice", 22),
        ("vps", "", 22),
        ("vps", "al ice", 22),
        ("v ps", "alice", 22),
        ("vps", "alice", 0),
        ("vps", "alice", 65536),
        ("vps", "a@b", 22),
    ],
)
def test_login_rejects_invalid_values(host: str, user: str, port: int) -> None:
    with pytest.raises(ValueError):
        Login(host, user, port)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def open_connection(port: int, tmp_path: Path, timeout: float = 2.0) -> Connection:
    login = Login("127.0.0.1", "alice", port, password="secret-pw")
    return Connection(login, KnownHosts(tmp_path / "known_hosts"), connect_timeout=timeout)


def test_refused_port(tmp_path: Path) -> None:
    port = closed_port()
    with pytest.raises(HostUnreachable) as caught:
        open_connection(port, tmp_path).open()
    message = str(caught.value)
    assert f"127.0.0.1 port {port} refused the connection" in message
    assert "slip" in message
    assert "secret-pw" not in message


@contextlib.contextmanager
def silent_listener(greeting: bytes = b"") -> Iterator[int]:
    """A loopback port that accepts connections, sends ``greeting`` and then sends nothing more."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.sendall(greeting)
            accepted.append(client)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for client in accepted:
            client.close()


def test_silent_port_times_out(tmp_path: Path) -> None:
    with silent_listener() as port:
        started = time.monotonic()
        with pytest.raises(HostUnreachable, match="did not answer as an SSH server within 1 s"):
            open_connection(port, tmp_path, timeout=1).open()
        assert time.monotonic() - started < 10


def test_port_that_is_not_ssh(tmp_path: Path) -> None:
    with (
        silent_listener(b"HTTP/1.1 400 Bad Request\r\n\r\n") as port,
        pytest.raises(HostUnreachable, match=f"127.0.0.1 port {port}"),
    ):
        open_connection(port, tmp_path, timeout=1).open()


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "could not be found"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "no network route"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "no network route"),
        (TimeoutError("timed out"), "did not answer within 2 s"),
    ],
)
def test_connect_error_mapping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: OSError, expected: str
) -> None:
    def fail(*_: object, **__: object) -> socket.socket:
        raise error

    monkeypatch.setattr(socket, "create_connection", fail)
    with pytest.raises(HostUnreachable, match=expected) as caught:
        open_connection(22, tmp_path).open()
    assert "Wi-Fi" in str(caught.value)
    assert caught.value.__context__ is None


FAKE_SUDO = r"""#!/bin/bash
# Imitates `sudo -S/-n [-p ''] [-v | -- command]`. FAKE_SUDO_MODE: nopasswd never reads
# a password, password reads one on every call, cache reads one only on the first call.
validate=0 from_stdin=0
while [ $# -gt 0 ]; do
  case $1 in -S) from_stdin=1 ;; -p) shift ;; -n) ;; -v) validate=1 ;; --) shift; break ;; esac
  shift
done
needs=0
case $FAKE_SUDO_MODE in
  password) needs=1 ;;
  cache) [ -e "$FAKE_SUDO_CACHE" ] || needs=1 ;;
esac
if [ $needs = 1 ]; then
  if [ $from_stdin = 0 ]; then echo "sudo: a password is required" >&2; exit 1; fi
  IFS= read -r pw || { echo "sudo: no password was provided" >&2; exit 1; }
  if [ "$pw" != "$FAKE_SUDO_PASSWORD" ]; then
    echo "Sorry, try again." >&2; echo "sudo: 1 incorrect password attempt" >&2; exit 1
  fi
  : >"$FAKE_SUDO_CACHE"
fi
[ $validate = 1 ] && exit 0
exec "$@"
"""


def run_wrapped(
    tmp_path: Path,
    mode: str,
    command: str,
    password: str | None,
    stdin: bytes,
    sudo_password: str | None = None,
) -> tuple[subprocess.CompletedProcess[bytes], str]:
    """Run the sudo wrapper with the local bash and a fake sudo; return the result and token."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "sudo").write_text(FAKE_SUDO)
    (bin_dir / "sudo").chmod(0o755)
    token, marker = "token-0123456789", "marker-0123456789"
    wrapped = build_sudo_command(
        command, token=token, marker=marker, with_password=password is not None
    )
    prefix = sudo_stdin_prefix(password, marker) if password is not None else b""
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "HOME": str(tmp_path / "home"),
        "FAKE_SUDO_MODE": mode,
        "FAKE_SUDO_CACHE": str(tmp_path / "cache"),
        "FAKE_SUDO_PASSWORD": sudo_password or password or "",
    }
    (tmp_path / "home").mkdir(exist_ok=True)
    done = subprocess.run(
        ["bash", "-c", wrapped],
        input=prefix + stdin,
        env=env,
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done, token


@pytest.mark.parametrize("mode", ["nopasswd", "password", "cache"])
def test_sudo_wrapper_stdin_excludes_password(tmp_path: Path, mode: str) -> None:
    canary = tmp_path / "home" / "canary"
    canary.parent.mkdir()
    canary.write_text("here")
    done, _ = run_wrapped(tmp_path, mode, "cat", HOSTILE, b"user data\nmore")
    assert done.stdout == b"user data\nmore"
    assert done.stderr == b""
    assert done.returncode == 0
    assert canary.read_text() == "here"


def test_sudo_wrapper_hostile_command_is_intact(tmp_path: Path) -> None:
    done, _ = run_wrapped(tmp_path, "password", f"printf '%s' \"{HOSTILE}\"; exit 3", "pw", b"")
    assert done.stdout == HOSTILE.encode()
    assert done.returncode == 3


def test_sudo_wrapper_wrong_password_reports_token(tmp_path: Path) -> None:
    done, token = run_wrapped(
        tmp_path, "password", "echo never", HOSTILE, b"line\n", sudo_password="right"
    )
    assert done.stdout == b""
    assert done.returncode == 1
    assert done.stderr.startswith(token.encode() + b"\n")
    assert b"Sorry, try again." in done.stderr
    assert HOSTILE.encode() not in done.stderr


def test_sudo_wrapper_without_password(tmp_path: Path) -> None:
    done, token = run_wrapped(tmp_path, "password", "echo never", None, b"")
    assert done.stderr.startswith(token.encode())
    assert b"a password is required" in done.stderr
    ok, _ = run_wrapped(tmp_path, "nopasswd", "cat", None, b"piped")
    assert ok.stdout == b"piped"


def test_sudo_prefix_rejects_line_breaks() -> None:
    with pytest.raises(Exception, match="line break") as caught:
        sudo_stdin_prefix("two\nlines", "marker")
    assert "two" not in str(caught.value)


def test_token_filter_holds_back_split_token() -> None:
    seen: list[bytes] = []
    failing = TokenFilter(b"tok", seen.append)
    for chunk in (b"t", b"o", b"k\nSorry, try again.\n"):
        failing(chunk)
    assert failing.state == "failed"
    assert seen == []
    passing = TokenFilter(b"tok", seen.append)
    passing(b"to")
    passing(b"p secret\n")
    passing(b"more")
    assert seen == [b"top secret\n", b"more"]


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("Sorry, try again.\nsudo: 1 incorrect password attempt", "rejected the password"),
        ("alice is not in the sudoers file.", "not allowed to use sudo"),
        ("Sorry, user alice may not run sudo on vps.", "not allowed to use sudo"),
        ("sudo: a password is required", "needs the password"),
        ("sudo: no password was provided", "needs the password"),
        ("sh: 1: sudo: not found", "not installed"),
        ("sudo: something odd", "something odd"),
    ],
)
def test_sudo_failure_messages(output: str, expected: str) -> None:
    message = sudo_failure_message(Login("vps", "alice", password="pw"), output)
    assert expected in message
    assert "vps" in message


def test_environment_has_no_sudo_askpass_leak() -> None:
    assert "SUDO_ASKPASS" not in os.environ
