"""Fixtures for the remote-execution tests: a real sshd on 127.0.0.1 and connections to it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.remote import Connection, Login

from .sshd_server import ConnectFactory, SshdServer, missing_requirements, running_sshd


@pytest.fixture(scope="session")
def sshd() -> Iterator[SshdServer]:
    """A real OpenSSH server with test users that exist only in its mount namespace."""
    reason = missing_requirements()
    if reason is not None:
        pytest.skip(f"the test sshd cannot run: {reason}")
    with running_sshd() as server:
        yield server


@pytest.fixture
def known_hosts(tmp_path: Path) -> KnownHosts:
    return KnownHosts(tmp_path / "state" / "known_hosts")


@pytest.fixture
def connect(sshd: SshdServer, known_hosts: KnownHosts) -> Iterator[ConnectFactory]:
    """Open a connection as a test user (password login) or as root (key login)."""
    opened: list[Connection] = []

    def factory(user: str, **changes: object) -> Connection:
        if user == "root":
            login = Login("127.0.0.1", "root", sshd.port, key_file=sshd.root_key)
        else:
            login = Login("127.0.0.1", user, sshd.port, password=sshd.users[user].password)
        if changes:
            login = dataclasses.replace(login, **changes)  # type: ignore[arg-type]
        connection = Connection(login, known_hosts, connect_timeout=10)
        connection.open()
        opened.append(connection)
        return connection

    yield factory
    for connection in opened:
        connection.close()
