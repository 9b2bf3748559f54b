"""Gathering over real SSH: one exec, through sudo, and no password in any finding."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from tests.core.sshd_server import ConnectFactory, SshdServer
from workshop_tui.core.diagnosis import DiagnosisContext, diagnose, gather
from workshop_tui.core.diagnosis.sections import SECTIONS
from workshop_tui.core.errors import SudoFailed


@pytest.mark.parametrize("user", ["wtsudo", "root"])
def test_gather_is_one_exec(connect: ConnectFactory, user: str) -> None:
    connection = connect(user)
    before = connection.exec_count
    evidence = gather(connection, DiagnosisContext(user=user, domain="localhost"))
    assert connection.exec_count - before == 1
    assert sorted(evidence.sections) == sorted(SECTIONS)
    assert all(section.exit_status != -1 for section in evidence.sections.values())
    # Only root can list the sockets of every process.
    assert "sshd" in evidence.section("sockets").text


def test_gather_without_sudo_rights(connect: ConnectFactory) -> None:
    connection = connect("wtplain")
    with pytest.raises(SudoFailed):
        gather(connection, DiagnosisContext(user="wtplain"))


@pytest.mark.skipif(Path("/var/log/mail.log").exists(), reason="this machine has a mail.log")
def test_password_never_in_findings(connect: ConnectFactory, sshd: SshdServer) -> None:
    user = sshd.users["wtsudo"]
    history = user.home / ".bash_history"
    line = f"grep error /var/log/mail.log # {user.password}"
    sshd.run_in_namespace(f"printf '%s\\n' {shlex.quote(line)} > {shlex.quote(str(history))}")
    try:
        connection = connect("wtsudo")
        findings = diagnose(connection, DiagnosisContext(user="wtsudo"))
    finally:
        sshd.run_in_namespace(f"rm -f {shlex.quote(str(history))}")
    [finding] = [finding for finding in findings if finding.rule == "mail-log-missing"]
    assert "grep error /var/log/mail.log # ••••••" in finding.evidence
    assert all(user.password not in text for text in (finding.hint, *finding.evidence))
