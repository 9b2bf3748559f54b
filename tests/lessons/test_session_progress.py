"""A session's progress belongs to one machine, recognised by its host key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workshop_tui.core import session as session_module
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.login import HostKeyInfo, Login
from workshop_tui.core.progress import ProgressStore, ServerProgress
from workshop_tui.core.remote import ExecResult
from workshop_tui.core.session import Session

LOGIN = Login(host="10.0.0.5", user="learner", password="secret")


class FakeConnection:
    """Stands in for an SSH connection; ``fingerprint`` is the host key it presents."""

    fingerprint = "SHA256:first"

    def __init__(self, login: Login, known_hosts: KnownHosts, **_: Any) -> None:
        self.login = login
        self.is_open = False
        self.is_root = False
        self.home = "/home/learner"

    def open(self, confirm_new_key: object = None) -> HostKeyInfo:
        self.is_open = True
        return HostKeyInfo("ssh-ed25519", FakeConnection.fingerprint, first_use=False)

    def exec(self, command: str, **_: Any) -> ExecResult:
        return ExecResult(0, b"alpha\nalpha.lab.test\n", b"")

    def close(self) -> None:
        self.is_open = False


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProgressStore:
    monkeypatch.setattr(session_module, "Connection", FakeConnection)
    monkeypatch.setattr(FakeConnection, "fingerprint", "SHA256:first")
    return ProgressStore(tmp_path / "progress.json")


def new_session(store: ProgressStore, tmp_path: Path) -> Session:
    return Session(LOGIN, known_hosts=KnownHosts(tmp_path / "known_hosts"), progress_store=store)


def test_first_connect_records_host_key(store: ProgressStore, tmp_path: Path) -> None:
    session = new_session(store, tmp_path)
    report = session.connect()
    assert report.facts.fqdn == "alpha.lab.test"
    assert store.load(LOGIN.target).host_key == "SHA256:first"
    assert session.progress_warning is None


def test_same_machine_keeps_progress(store: ProgressStore, tmp_path: Path) -> None:
    store.save(LOGIN.target, ServerProgress(current_lesson="postfix", host_key="SHA256:first"))
    store.save(LOGIN.target, _with_step(store.load(LOGIN.target)))
    session = new_session(store, tmp_path)
    session.connect()
    assert session.progress.current_lesson == "postfix"
    assert session.progress.step_state("postfix", "install-postfix") == "passed"
    assert session.progress_warning is None


def test_new_machine_starts_afresh(
    store: ProgressStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(LOGIN.target, _with_step(ServerProgress(host_key="SHA256:first")))
    monkeypatch.setattr(FakeConnection, "fingerprint", "SHA256:second")
    session = new_session(store, tmp_path)
    session.connect()
    assert session.progress.lessons == {}
    assert session.progress.host_key == "SHA256:second"
    assert session.progress_warning is not None
    assert "progress starts again" in session.progress_warning
    kept = store.load(f"{LOGIN.target} SHA256:first")
    assert kept.step_state("postfix", "install-postfix") == "passed"


def _with_step(progress: ServerProgress) -> ServerProgress:
    progress.lesson("postfix").steps["install-postfix"] = "passed"
    return progress
