"""The remote-execution core against real Debian 12 practice hosts (systemd, OpenSSH, sudo).

Needs root on Linux and builds the lab image on first use. One lab with a unique name
serves the whole module and is always removed at the end.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop_tui.core.errors import AuthenticationFailed
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.probes import Probe, run_probes
from workshop_tui.core.protocols import probe_imap, probe_smtp
from workshop_tui.core.remote import Connection, Login
from workshop_tui.core.runs import RunInterrupted, follow_run, run_status, start_run, stop_run

pytestmark = pytest.mark.lab

try:
    from workshop_tui.lab import Lab, LabHost, requirements
except ImportError as error:  # the lab package is optional for these tests
    pytest.skip(f"workshop_tui.lab is not usable: {error}", allow_module_level=True)

LINES = 40
SCRIPT = f"""for i in $(seq 1 {LINES}); do echo "line $i"; echo "err $i" >&2; sleep 0.25; done
echo "uid $(id -u)"
exit 3
"""


@pytest.fixture(scope="module")
def lab() -> Iterator[tuple[Lab, LabHost]]:
    if sys.platform != "linux" or os.geteuid() != 0:
        pytest.skip("the practice lab needs root on Linux")
    missing = requirements.missing_commands(requirements.UP_COMMANDS)
    if missing:
        pytest.skip(f"the practice lab needs the commands {', '.join(missing)}")
    practice = Lab(f"core-{secrets.token_hex(3)}")
    try:
        hosts = practice.up(1)
        yield practice, hosts[0]
    finally:
        practice.down()


@pytest.fixture
def lab_known_hosts(tmp_path: Path, lab: tuple[Lab, LabHost]) -> KnownHosts:
    host = lab[1]
    known_hosts = KnownHosts(tmp_path / "known_hosts")
    known_hosts.pin_keys(host.address, host.port, host.host_keys)
    return known_hosts


def open_as(host: LabHost, known_hosts: KnownHosts, root: bool = False) -> Connection:
    user, password = ("root", host.root_password) if root else (host.user, host.user_password)
    connection = Connection(Login(host.address, user, host.port, password=password), known_hosts)
    info = connection.open()
    assert not info.first_use
    return connection


def test_lab_password_logins(lab: tuple[Lab, LabHost], lab_known_hosts: KnownHosts) -> None:
    host = lab[1]
    with open_as(host, lab_known_hosts) as user:
        assert not user.is_root
        assert user.exec("id -un", timeout=20).stdout.decode().strip() == host.user
        result = user.exec("id -u; cat", stdin=b"via sudo", timeout=60, as_root=True)
        assert result.stdout == b"0\nvia sudo"
        assert host.user_password.encode() not in result.stdout + result.stderr
    with open_as(host, lab_known_hosts, root=True) as root:
        assert root.is_root


def test_lab_wrong_password(lab: tuple[Lab, LabHost], lab_known_hosts: KnownHosts) -> None:
    host = lab[1]
    login = Login(host.address, host.user, host.port, password="wrong " + secrets.token_hex(4))
    with pytest.raises(AuthenticationFailed, match=host.user):
        Connection(login, lab_known_hosts).open()


def test_lab_run_survives_link_loss(lab: tuple[Lab, LabHost], lab_known_hosts: KnownHosts) -> None:
    practice, host = lab
    connection = open_as(host, lab_known_hosts)
    handle = start_run(connection, SCRIPT, as_root=True)
    out: list[bytes] = []
    err: list[bytes] = []
    threading.Timer(2.0, practice.set_link, args=(host.name, False)).start()
    started = time.monotonic()
    try:
        with pytest.raises(RunInterrupted) as caught:
            follow_run(connection, handle, on_stdout=out.append, on_stderr=err.append)
        # TCP keepalive and TCP_USER_TIMEOUT notice the dead link in about 25 s.
        assert time.monotonic() - started < 60
    finally:
        practice.set_link(host.name, True)
    connection.open()
    outcome = follow_run(
        connection,
        handle,
        stdout_offset=caught.value.stdout_offset,
        stderr_offset=caught.value.stderr_offset,
        on_stdout=out.append,
        on_stderr=err.append,
    )
    expected_out = "".join(f"line {i}\n" for i in range(1, LINES + 1)) + "uid 0\n"
    assert b"".join(out).decode() == expected_out
    assert b"".join(err).decode() == "".join(f"err {i}\n" for i in range(1, LINES + 1))
    assert (outcome.status.state, outcome.status.exit_status) == ("finished", 3)
    connection.close()


def test_lab_stop_run(lab: tuple[Lab, LabHost], lab_known_hosts: KnownHosts) -> None:
    connection = open_as(lab[1], lab_known_hosts)
    handle = start_run(connection, "sleep 300 & sleep 300", as_root=True)
    pgid = connection.exec(f"cat {handle.remote_dir}/pid", timeout=20).stdout.decode().strip()
    group = f"pgrep -g {pgid} || true"
    # The wrapper, the script's bash and both sleeps.
    assert len(connection.exec(group, timeout=20).stdout.split()) >= 3
    stop_run(connection, handle, grace=2)
    assert run_status(connection, handle).exit_status == 143
    assert connection.exec(group, timeout=20).stdout == b""
    connection.close()


def test_lab_probes_user_and_root(lab: tuple[Lab, LabHost], lab_known_hosts: KnownHosts) -> None:
    host = lab[1]
    with open_as(host, lab_known_hosts) as connection:
        outputs = run_probes(
            connection,
            [
                Probe("id -u", as_root=True),
                Probe("id -un"),
                Probe("systemctl is-system-running || true"),
            ],
        )
    assert outputs[0].output == "0\n"
    assert outputs[1].output == f"{host.user}\n"
    assert outputs[2].exit_status == 0


def test_lab_mail_protocols(lab: tuple[Lab, LabHost], lab_known_hosts: KnownHosts) -> None:
    host = lab[1]
    with open_as(host, lab_known_hosts, root=True) as connection:
        install = start_run(connection, "apt-get install -y postfix dovecot-imapd", as_root=True)
        log: list[bytes] = []
        outcome = follow_run(connection, install, on_stdout=log.append, on_stderr=log.append)
        assert outcome.status.exit_status == 0, b"".join(log)[-2000:].decode(errors="replace")
        channel = connection.open_tunnel("127.0.0.1", 25, timeout=20)
        try:
            smtp = probe_smtp(channel, ehlo_name="probe.test", starttls=True, timeout=30)
        finally:
            channel.close()
        assert smtp.banner.startswith("220 ")
        assert smtp.tls is not None
        assert smtp.tls.self_signed
        channel = connection.open_tunnel("127.0.0.1", 143, timeout=20)
        try:
            imap = probe_imap(
                channel, starttls=True, login=(host.user, host.user_password), timeout=30
            )
        finally:
            channel.close()
        assert imap.login is not None
        assert imap.login.status == "OK"
        assert host.user_password not in imap.transcript()
        # Dovecot treats a connection whose source is the server itself as secure, so
        # plaintext LOGIN is allowed here; PRIVACYREQUIRED needs a remote client.
        channel = connection.open_tunnel(host.address, 143, timeout=20)
        try:
            plain = probe_imap(channel, login=(host.user, host.user_password), timeout=30)
        finally:
            channel.close()
        assert plain.login is not None
        assert plain.login.status == "OK"
        assert plain.tls is None
