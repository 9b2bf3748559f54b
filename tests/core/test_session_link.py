"""What a session raises when its connection is missing, and when it broke."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop_tui.core import session as session_module
from workshop_tui.core.errors import ConnectionLost, RemoteError
from workshop_tui.core.lessons import load_catalog
from workshop_tui.core.session import Session

from ..progress.fakes import FakeConnection, FakeHost, new_session
from ..ui.fakes import HELLO_LESSON


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHost:
    host = FakeHost(tmp_path / "vps-home")
    host.home.mkdir()
    monkeypatch.setattr(FakeConnection, "host", host, raising=False)
    monkeypatch.setattr(session_module, "Connection", FakeConnection)
    return host


@pytest.fixture
def session(tmp_path: Path, host: FakeHost) -> Iterator[Session]:
    opened = new_session(tmp_path, "laptop")
    yield opened
    opened.close()


def test_never_connected_says_connect_first(session: Session) -> None:
    assert not session.link_open
    with pytest.raises(RemoteError, match="connect first") as raised:
        session.connection  # noqa: B018
    assert not isinstance(raised.value, ConnectionLost)


def test_broken_link_raises_connection_lost(session: Session, host: FakeHost) -> None:
    session.connect()
    assert session.link_open
    host.drop_links()
    assert not session.link_open
    with pytest.raises(ConnectionLost, match="was lost"):
        session.connection  # noqa: B018


def test_check_on_broken_link_raises_lost(session: Session, host: FakeHost, tmp_path: Path) -> None:
    directory = tmp_path / "lessons"
    directory.mkdir()
    (directory / "10-hello-postfix.md").write_text(HELLO_LESSON, encoding="utf-8")
    lesson = load_catalog([directory]).get("hello-postfix")
    assert lesson is not None
    session.connect()
    host.drop_links()
    with pytest.raises(ConnectionLost):
        session.check_step(lesson, lesson.steps[1])


def test_connect_after_broken_link(session: Session, host: FakeHost) -> None:
    session.connect()
    host.drop_links()
    session.connect()
    assert session.link_open
    assert session.connection.is_open


def test_closed_session_says_connect_first(session: Session) -> None:
    session.connect()
    session.close()
    assert not session.link_open
    with pytest.raises(RemoteError, match="connect first") as raised:
        session.connection  # noqa: B018
    assert not isinstance(raised.value, ConnectionLost)
