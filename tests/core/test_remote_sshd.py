"""Connection against a real OpenSSH server: logins, host keys, exec, sudo and tunnels."""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

from workshop_tui.core.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HostKeyChanged,
    HostKeyNotTrusted,
    RemoteTimeout,
    SudoFailed,
)
from workshop_tui.core.hostkeys import KnownHosts, fingerprint
from workshop_tui.core.login import HostKeyInfo
from workshop_tui.core.remote import Cancelled, Connection, Login, TunnelFailed

from .sshd_server import ConnectFactory, SshdServer

HOSTILE = "x'; rm -rf ~ #"


def login_as(sshd: SshdServer, user: str, **changes: object) -> Login:
    account = sshd.users[user]
    values: dict[str, object] = {"password": account.password, **changes}
    return Login("127.0.0.1", user, sshd.port, **values)  # type: ignore[arg-type]


def test_password_login_first_use(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    connection = Connection(login_as(sshd, "wtsudo"), known_hosts)
    info = connection.open()
    try:
        assert info.first_use
        assert info.key_type == "ssh-ed25519"
        assert connection.is_open
        assert not connection.is_root
        assert connection.home == str(sshd.users["wtsudo"].home)
        stored = known_hosts.lookup("127.0.0.1", sshd.port)
        assert [key.get_base64() for key in stored] == [sshd.host_key_public]
    finally:
        connection.close()
    assert not connection.is_open
    again = Connection(login_as(sshd, "wtsudo"), known_hosts)
    assert not again.open().first_use
    again.close()


def test_new_key_confirmed_before_login(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    shown: list[HostKeyInfo] = []

    def decline(info: HostKeyInfo) -> bool:
        shown.append(info)
        return False

    log_before = len(sshd.log_path.read_bytes())
    with pytest.raises(HostKeyNotTrusted, match="did not trust the key"):
        Connection(login_as(sshd, "wtsudo"), known_hosts).open(decline)
    assert [info.fingerprint for info in shown] == [fingerprint_of_base64(sshd.host_key_public)]
    assert known_hosts.lookup("127.0.0.1", sshd.port) == []
    # No password was sent: sshd logged no password attempt for the user.
    new_log = sshd.log_path.read_bytes()[log_before:].decode(errors="replace")
    assert "password for wtsudo" not in new_log

    accepted = Connection(login_as(sshd, "wtsudo"), known_hosts)
    assert accepted.open(lambda info: True).first_use
    accepted.close()
    assert len(known_hosts.lookup("127.0.0.1", sshd.port)) == 1


def test_failed_login_trusts_nothing(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    with pytest.raises(AuthenticationFailed):
        Connection(login_as(sshd, "wtsudo", password="wrong"), known_hosts).open()
    assert known_hosts.lookup("127.0.0.1", sshd.port) == []


def test_failed_login_names_methods(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        Connection(login_as(sshd, "wtsudo", password="wrong"), known_hosts).open()
    assert caught.value.tried == ("password",)
    assert "password" in caught.value.accepted


def fingerprint_of_base64(key_base64: str) -> str:
    return fingerprint(paramiko.Ed25519Key(data=base64.b64decode(key_base64)))


def test_openssh_client_accepts_known_hosts_file(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    Connection(Login("127.0.0.1", "root", sshd.port, key_file=sshd.root_key), known_hosts).open()
    result = subprocess.run(
        [
            "ssh",
            "-o",
            f"UserKnownHostsFile={known_hosts.path}",
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "GlobalKnownHostsFile=/dev/null",
            "-i",
            str(sshd.root_key),
            "-p",
            str(sshd.port),
            "root@127.0.0.1",
            "echo via-openssh",
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"via-openssh\n"


def test_root_key_login_is_root(connect: ConnectFactory) -> None:
    connection = connect("root")
    assert connection.is_root
    assert connection.exec("id -u", timeout=10).stdout == b"0\n"
    assert connection.exec("id -u", timeout=10, as_root=True).stdout == b"0\n"


@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_key_file_login(sshd: SshdServer, known_hosts: KnownHosts, kind: str) -> None:
    # The ed25519 key is encrypted with the password, which also decrypts it here.
    password = sshd.users["wtsudo"].password if kind == "ed25519" else None
    login = Login(
        "127.0.0.1", "wtsudo", sshd.port, key_file=sshd.user_keys[kind], password=password
    )
    with Connection(login, known_hosts) as connection:
        connection.open()
        assert connection.exec("whoami", timeout=10).stdout == b"wtsudo\n"
    fingerprint = (
        subprocess.run(
            ["ssh-keygen", "-lf", str(sshd.user_keys[kind])], capture_output=True, check=True
        )
        .stdout.split()[1]
        .decode()
    )
    assert "Accepted publickey for wtsudo from 127.0.0.1" in sshd.log_path.read_text()
    assert fingerprint in sshd.log_path.read_text()


def test_encrypted_key_without_password(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    login = Login("127.0.0.1", "wtsudo", sshd.port, key_file=sshd.user_keys["ed25519"])
    with pytest.raises(AuthenticationFailed, match="encrypted"):
        Connection(login, known_hosts).open()


def test_agent_login(
    sshd: SshdServer, known_hosts: KnownHosts, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = tmp_path / "agent.sock"
    agent = subprocess.Popen(
        ["ssh-agent", "-D", "-a", str(socket_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        env = {**os.environ, "SSH_AUTH_SOCK": str(socket_path)}
        subprocess.run(
            ["ssh-add", "-q", str(sshd.user_keys["rsa"])], env=env, check=True, timeout=10
        )
        monkeypatch.setenv("SSH_AUTH_SOCK", str(socket_path))
        login = Login("127.0.0.1", "wtsudo", sshd.port, use_agent=True)
        with Connection(login, known_hosts) as connection:
            connection.open()
            assert connection.exec("whoami", timeout=10).stdout == b"wtsudo\n"
    finally:
        agent.terminate()
        agent.wait(timeout=10)


def test_wrong_password(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    login = login_as(sshd, "wtsudo", password=HOSTILE)
    with pytest.raises(AuthenticationFailed) as caught:
        Connection(login, known_hosts).open()
    message = str(caught.value)
    assert "wtsudo@127.0.0.1" in message
    assert "publickey" in message
    assert "password" in message
    assert HOSTILE not in message
    assert caught.value.__context__ is None


def test_unknown_user(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    login = Login("127.0.0.1", "nosuchuser", sshd.port, password="whatever")
    with pytest.raises(AuthenticationFailed, match="rejected the login"):
        Connection(login, known_hosts).open()


def test_changed_host_key_rejected(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    other = paramiko.Ed25519Key.from_private_key_file(str(sshd.root_key))
    known_hosts.pin("127.0.0.1", sshd.port, other.get_name(), other.get_base64())
    with pytest.raises(HostKeyChanged) as caught:
        Connection(login_as(sshd, "wtsudo"), known_hosts).open()
    message = str(caught.value)
    assert sshd.host_key_public not in message
    assert "127.0.0.1" in message
    assert f"workshop-tui hosts forget 127.0.0.1:{sshd.port}" in message
    assert message.count("SHA256:") == 2
    assert [key.get_base64() for key in known_hosts.lookup("127.0.0.1", sshd.port)] == [
        other.get_base64()
    ]


def test_pinned_host_key_accepted(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    known_hosts.pin("127.0.0.1", sshd.port, "ssh-ed25519", sshd.host_key_public)
    with Connection(login_as(sshd, "wtsudo"), known_hosts) as connection:
        assert not connection.open().first_use


def test_exec_streams_and_collects(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    chunks: list[bytes] = []
    errors: list[bytes] = []
    result = connection.exec(
        "for i in 1 2 3; do echo out$i; echo err$i >&2; sleep 0.2; done; exit 7",
        timeout=20,
        on_stdout=chunks.append,
        on_stderr=errors.append,
    )
    assert result.exit_status == 7
    assert result.stdout == b"out1\nout2\nout3\n"
    assert result.stderr == b"err1\nerr2\nerr3\n"
    assert len(chunks) >= 3
    assert b"".join(chunks) == result.stdout
    assert b"".join(errors) == result.stderr
    assert not result.truncated


def test_exec_large_stdin_and_output(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    data = os.urandom(3 * 1024 * 1024)
    result = connection.exec("cat", stdin=data, timeout=60)
    assert result.stdout == data
    assert result.exit_status == 0


def test_exec_output_cap(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    seen: list[bytes] = []
    result = connection.exec(
        "head -c 200000 /dev/zero", timeout=30, collect_limit=1000, on_stdout=seen.append
    )
    assert len(result.stdout) == 1000
    assert result.truncated
    assert sum(map(len, seen)) == 200000


def test_exec_timeout(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    started = time.monotonic()
    with pytest.raises(RemoteTimeout, match="did not finish within 1 s"):
        connection.exec("sleep 30", timeout=1)
    assert time.monotonic() - started < 5
    assert connection.exec("echo still-open", timeout=10).stdout == b"still-open\n"


def test_exec_cancel(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(Cancelled):
        connection.exec("sleep 30", timeout=30, cancel=cancel)


def test_concurrent_execs(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    results: dict[int, bytes] = {}

    def work(number: int) -> None:
        results[number] = connection.exec(f"sleep 0.3; echo {number}", timeout=30).stdout

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: f"{n}\n".encode() for n in range(6)}


def test_connection_lost_mid_command(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    transport = connection._transport
    assert transport is not None
    threading.Timer(0.5, lambda: transport.sock.shutdown(socket.SHUT_RDWR)).start()
    with pytest.raises(ConnectionLost):
        connection.exec("sleep 20", timeout=30)
    assert not connection.is_open
    with pytest.raises(ConnectionLost):
        connection.exec("true", timeout=5)
    connection.open()
    assert connection.exec("echo back", timeout=10).stdout == b"back\n"


@pytest.mark.parametrize("user", ["wtsudo", "wtnopass", "wtnocache"])
def test_sudo_stdin_never_contains_password(
    connect: ConnectFactory, sshd: SshdServer, user: str
) -> None:
    connection = connect(user)
    password = sshd.users[user].password.encode()
    result = connection.exec("id -u; cat", stdin=b"line one\nline two", timeout=30, as_root=True)
    assert result.stdout == b"0\nline one\nline two"
    assert result.stderr == b""
    empty = connection.exec("cat; echo end", timeout=30, as_root=True)
    assert empty.stdout == b"end\n"
    everything = connection.exec("cat /proc/self/cmdline; env; cat", timeout=30, as_root=True)
    assert password not in everything.stdout + everything.stderr


def test_sudo_hostile_password_is_data(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    # wtnopass's password contains quotes and $HOME; NOPASSWD leaves it unread by sudo.
    login = login_as(sshd, "wtnopass")
    with Connection(login, known_hosts) as connection:
        connection.open()
        result = connection.exec("cat", stdin=HOSTILE.encode(), timeout=30, as_root=True)
    assert result.stdout == HOSTILE.encode()


def test_sudo_wrong_password(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    login = Login(
        "127.0.0.1", "wtsudo", sshd.port, key_file=sshd.user_keys["rsa"], password=HOSTILE
    )
    seen: list[bytes] = []
    with Connection(login, known_hosts) as connection:
        connection.open()
        with pytest.raises(SudoFailed) as caught:
            connection.exec(
                "echo never", timeout=30, as_root=True, on_stderr=seen.append, on_stdout=seen.append
            )
    assert "rejected the password of wtsudo" in str(caught.value)
    assert HOSTILE not in str(caught.value)
    assert seen == []


def test_sudo_without_password(sshd: SshdServer, known_hosts: KnownHosts) -> None:
    login = Login("127.0.0.1", "wtsudo", sshd.port, key_file=sshd.user_keys["rsa"])
    with Connection(login, known_hosts) as connection:
        connection.open()
        with pytest.raises(SudoFailed, match="needs the password of wtsudo"):
            connection.exec("true", timeout=30, as_root=True)


def test_sudo_not_allowed(connect: ConnectFactory) -> None:
    connection = connect("wtplain")
    with pytest.raises(SudoFailed, match="not allowed to use sudo"):
        connection.exec("true", timeout=30, as_root=True)


def test_sudo_command_exit_status_passes_through(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    result = connection.exec("echo to-stderr >&2; exit 1", timeout=30, as_root=True)
    assert result.exit_status == 1
    assert result.stderr == b"to-stderr\n"


@contextlib.contextmanager
def echo_server() -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        with contextlib.suppress(OSError):
            client, _ = listener.accept()
            with client:
                client.sendall(b"hello " + client.recv(100))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=5)


def test_open_tunnel(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    with echo_server() as port:
        channel = connection.open_tunnel("127.0.0.1", port, timeout=10)
        try:
            channel.sendall(b"tunnel")
            channel.settimeout(10)
            assert channel.recv(100) == b"hello tunnel"
        finally:
            channel.close()


def test_open_tunnel_refused(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(TunnelFailed, match=f"127.0.0.1:{closed_port}"):
        connection.open_tunnel("127.0.0.1", closed_port, timeout=10)


def test_remote_process_killed_by_signal(connect: ConnectFactory) -> None:
    connection = connect("wtsudo")
    result = connection.exec(f"kill -{int(signal.SIGTERM)} $$", timeout=10)
    assert result.exit_status == -1
