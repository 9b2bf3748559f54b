"""A session keeps the progress file on its VPS current and takes it over when it is newer."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from workshop_tui.core import session as session_module
from workshop_tui.core.checks import CheckResult
from workshop_tui.core.lessons import Catalog, Lesson, load_catalog
from workshop_tui.core.progress import ServerProgress
from workshop_tui.core.session import Session
from workshop_tui.core.shared_progress import decode_shared_progress, encode_shared_progress

from ..ui.fakes import HELLO_LESSON
from .fakes import LOGIN, FakeConnection, FakeHost, new_session

WAIT_SECONDS = 10


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHost:
    host = FakeHost(tmp_path / "vps-home")
    host.home.mkdir()
    monkeypatch.setattr(FakeConnection, "host", host, raising=False)
    monkeypatch.setattr(session_module, "Connection", FakeConnection)
    return host


@pytest.fixture
def lesson(tmp_path: Path) -> Lesson:
    directory = tmp_path / "lessons"
    directory.mkdir()
    (directory / "10-hello-postfix.md").write_text(HELLO_LESSON, encoding="utf-8")
    catalog: Catalog = load_catalog([directory])
    found = catalog.get("hello-postfix")
    assert found is not None
    return found


@pytest.fixture
def sessions() -> Iterator[list[Session]]:
    """Sessions to close at the end of a test, so no writer thread outlives it."""
    opened: list[Session] = []
    yield opened
    for session in opened:
        session.close()


def connected(
    tmp_path: Path, sessions: list[Session], laptop: str, *, team: str | None = None
) -> Session:
    session = new_session(tmp_path, laptop, team=team)
    sessions.append(session)
    session.connect()
    return session


def settle(session: Session) -> None:
    assert session.shared_writer.wait_until_idle(WAIT_SECONDS)


def read_file(host: FakeHost) -> dict[str, object]:
    document: dict[str, object] = json.loads(host.progress_file.read_text(encoding="utf-8"))
    return document


def make_progress(session: Session, lesson: Lesson) -> None:
    """Pass the first step and move to the second, as an attendee does."""
    first, second = lesson.steps[0], lesson.steps[1]
    session.set_position(lesson, first)
    session.set_step_state(lesson, first, "passed")
    session.set_position(lesson, second)


def test_connect_writes_file(tmp_path: Path, host: FakeHost, sessions: list[Session]) -> None:
    session = connected(tmp_path, sessions, "laptop-a", team="team-1")
    settle(session)
    document = read_file(host)
    assert document["team"] == "team-1"
    assert document["format"] == 1
    assert stat.S_IMODE(host.progress_file.stat().st_mode) == 0o600


def test_changes_reach_file(
    tmp_path: Path, host: FakeHost, sessions: list[Session], lesson: Lesson
) -> None:
    session = connected(tmp_path, sessions, "laptop-a")
    make_progress(session, lesson)
    settle(session)
    shared = decode_shared_progress(host.progress_file.read_text(encoding="utf-8"))
    assert shared is not None
    assert shared.progress.current_lesson == "hello-postfix"
    assert shared.progress.lessons["hello-postfix"].current_step == lesson.steps[1].id
    assert shared.progress.step_state("hello-postfix", lesson.steps[0].id) == "passed"


def test_second_laptop_takes_over(
    tmp_path: Path, host: FakeHost, sessions: list[Session], lesson: Lesson
) -> None:
    first = connected(tmp_path, sessions, "laptop-a", team="team-1")
    make_progress(first, lesson)
    first.set_hand_raised(True)
    settle(first)

    second = connected(tmp_path, sessions, "laptop-b")
    progress = second.progress
    assert progress.current_lesson == "hello-postfix"
    assert progress.lessons["hello-postfix"].current_step == lesson.steps[1].id
    assert progress.lessons["hello-postfix"].steps == first.progress.lessons["hello-postfix"].steps
    assert progress.hand_raised_at == first.progress.hand_raised_at
    assert progress.host_key == "SHA256:first"
    assert second.team == "team-1"
    assert second.progress_warning is None
    # The adopted progress is saved on the second laptop too.
    assert second.progress_store.load(LOGIN.target).current_lesson == "hello-postfix"


def test_newer_local_progress_kept(
    tmp_path: Path, host: FakeHost, sessions: list[Session], lesson: Lesson
) -> None:
    old = ServerProgress(current_lesson="old-lesson", updated_at=1000.0)
    host.progress_file.parent.mkdir()
    host.progress_file.write_bytes(encode_shared_progress(old, team=None, written_at=1000.0))
    local = ServerProgress(current_lesson="hello-postfix", updated_at=2000.0)
    store = new_session(tmp_path, "laptop-a").progress_store
    store.save(LOGIN.target, local)

    session = connected(tmp_path, sessions, "laptop-a")
    assert session.progress.current_lesson == "hello-postfix"
    settle(session)
    assert read_file(host)["current_lesson"] == "hello-postfix"


def test_newer_file_wins_over_local(
    tmp_path: Path, host: FakeHost, sessions: list[Session]
) -> None:
    newer = ServerProgress(current_lesson="from-other-laptop", updated_at=3000.0)
    host.progress_file.parent.mkdir()
    host.progress_file.write_bytes(encode_shared_progress(newer, team="team-1", written_at=3001.0))
    local = ServerProgress(current_lesson="hello-postfix", updated_at=2000.0)
    new_session(tmp_path, "laptop-a").progress_store.save(LOGIN.target, local)

    session = connected(tmp_path, sessions, "laptop-a")
    assert session.progress.current_lesson == "from-other-laptop"


def test_file_without_updated_at_uses_written_at(
    tmp_path: Path, host: FakeHost, sessions: list[Session]
) -> None:
    newer = ServerProgress(current_lesson="from-other-laptop")
    host.progress_file.parent.mkdir()
    host.progress_file.write_bytes(encode_shared_progress(newer, team=None, written_at=3000.0))
    local = ServerProgress(current_lesson="hello-postfix", updated_at=2000.0)
    new_session(tmp_path, "laptop-a").progress_store.save(LOGIN.target, local)

    session = connected(tmp_path, sessions, "laptop-a")
    assert session.progress.current_lesson == "from-other-laptop"


@pytest.mark.parametrize(
    ("contents", "reason"),
    [
        ("{ not json", "not valid JSON"),
        ('{"format": 1, "written_at": "noon"}', "'written_at' must be a number"),
        ('{"format": 99, "written_at": 1}', "update workshop-tui"),
    ],
)
def test_unreadable_file_replaced(
    tmp_path: Path,
    host: FakeHost,
    sessions: list[Session],
    contents: str,
    reason: str,
) -> None:
    host.progress_file.parent.mkdir()
    host.progress_file.write_text(contents, encoding="utf-8")
    local = ServerProgress(current_lesson="hello-postfix", updated_at=2000.0)
    new_session(tmp_path, "laptop-a").progress_store.save(LOGIN.target, local)

    session = connected(tmp_path, sessions, "laptop-a")
    warning = session.progress_warning
    assert warning is not None
    assert "~/.workshop-tui/progress.json" in warning
    assert LOGIN.target in warning
    assert "will be replaced" in warning
    assert reason in warning
    assert session.progress.current_lesson == "hello-postfix"
    settle(session)
    assert read_file(host)["current_lesson"] == "hello-postfix"


def test_session_team_kept_from_file(
    tmp_path: Path, host: FakeHost, sessions: list[Session]
) -> None:
    connected(tmp_path, sessions, "laptop-a", team="team-1").close()
    session = connected(tmp_path, sessions, "laptop-b")
    assert session.team == "team-1"
    settle(session)
    assert read_file(host)["team"] == "team-1"


def test_step_since_only_on_move(
    tmp_path: Path, host: FakeHost, sessions: list[Session], lesson: Lesson
) -> None:
    session = connected(tmp_path, sessions, "laptop-a")
    session.set_position(lesson, lesson.steps[0])
    arrived = session.progress.step_since
    changed = session.progress.updated_at
    assert arrived is not None
    session.set_position(lesson, lesson.steps[0])
    assert session.progress.step_since == arrived
    assert session.progress.updated_at == changed
    session.set_position(lesson, lesson.steps[1])
    moved = session.progress.step_since
    assert moved is not None
    assert moved >= arrived


def test_changes_set_updated_at(
    tmp_path: Path, host: FakeHost, sessions: list[Session], lesson: Lesson
) -> None:
    session = connected(tmp_path, sessions, "laptop-a")
    session.progress.updated_at = None
    session.set_step_state(lesson, lesson.steps[0], "ran")
    assert session.progress.updated_at is not None


def test_connect_does_not_mark_change(
    tmp_path: Path, host: FakeHost, sessions: list[Session]
) -> None:
    local = ServerProgress(current_lesson="hello-postfix", updated_at=2000.0)
    new_session(tmp_path, "laptop-a").progress_store.save(LOGIN.target, local)
    session = connected(tmp_path, sessions, "laptop-a")
    assert session.progress.updated_at == 2000.0


def test_hand_raised_and_lowered(
    tmp_path: Path, host: FakeHost, sessions: list[Session], lesson: Lesson
) -> None:
    session = connected(tmp_path, sessions, "laptop-a")
    session.set_hand_raised(True)
    raised_at = session.progress.hand_raised_at
    assert raised_at is not None
    session.set_hand_raised(True)
    assert session.progress.hand_raised_at == raised_at
    settle(session)
    assert read_file(host)["hand_raised_at"] == raised_at
    session.set_hand_raised(False)
    settle(session)
    assert read_file(host)["hand_raised_at"] is None


def _results(passed: bool) -> object:
    def evaluate(connection: object, checks: list[object], *_: object, **__: object) -> object:
        return [CheckResult(check, passed, "scripted") for check in checks]  # type: ignore[arg-type]

    return evaluate


def test_passed_check_lowers_hand(
    tmp_path: Path,
    host: FakeHost,
    sessions: list[Session],
    lesson: Lesson,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install = lesson.steps[1]
    session = connected(tmp_path, sessions, "laptop-a")
    session.set_position(lesson, install)
    session.set_hand_raised(True)

    monkeypatch.setattr(session_module, "evaluate_checks", _results(False))
    session.check_step(lesson, install)
    assert session.progress.hand_raised_at is not None

    monkeypatch.setattr(session_module, "evaluate_checks", _results(True))
    session.check_step(lesson, install)
    assert session.progress.hand_raised_at is None


def test_other_step_pass_keeps_hand(
    tmp_path: Path,
    host: FakeHost,
    sessions: list[Session],
    lesson: Lesson,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    session = connected(tmp_path, sessions, "laptop-a")
    session.set_position(lesson, lesson.steps[2])
    session.set_hand_raised(True)
    monkeypatch.setattr(session_module, "evaluate_checks", _results(True))
    session.check_step(lesson, lesson.steps[1])
    assert session.progress.hand_raised_at is not None


def test_lost_link_written_after_reconnect(
    tmp_path: Path, host: FakeHost, sessions: list[Session], lesson: Lesson
) -> None:
    session = connected(tmp_path, sessions, "laptop-a")
    settle(session)
    host.drop_links()
    session.set_hand_raised(True)
    settle(session)
    assert read_file(host)["hand_raised_at"] is None
    assert session.shared_writer.pending

    session.connect()
    settle(session)
    assert read_file(host)["hand_raised_at"] == session.progress.hand_raised_at


def test_reconnect_keeps_local(
    tmp_path: Path, host: FakeHost, sessions: list[Session], lesson: Lesson
) -> None:
    session = connected(tmp_path, sessions, "laptop-a")
    make_progress(session, lesson)
    settle(session)
    newer = ServerProgress(current_lesson="elsewhere", updated_at=9e9)
    host.progress_file.write_bytes(encode_shared_progress(newer, team=None, written_at=9e9))
    session.connect()
    assert session.progress.current_lesson == "hello-postfix"


def test_new_machine_takes_its_file(
    tmp_path: Path,
    host: FakeHost,
    sessions: list[Session],
    lesson: Lesson,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Laptop A made progress on the old machine; laptop B worked on the new one at the
    # same address. A reconnects: its old progress is put aside and B's is taken over.
    old = ServerProgress(current_lesson="old-lesson", host_key="SHA256:first", updated_at=9e9)
    old.lesson("old-lesson").steps["a-step"] = "passed"
    new_session(tmp_path, "laptop-a").progress_store.save(LOGIN.target, old)
    monkeypatch.setattr(host, "fingerprint", "SHA256:second")
    newer = ServerProgress(current_lesson="hello-postfix", updated_at=1000.0)
    host.progress_file.parent.mkdir()
    host.progress_file.write_bytes(encode_shared_progress(newer, team=None, written_at=1000.0))

    session = connected(tmp_path, sessions, "laptop-a")
    assert session.progress.current_lesson == "hello-postfix"
    assert session.progress.host_key == "SHA256:second"
    kept = session.progress_store.load(f"{LOGIN.target} SHA256:first")
    assert kept.current_lesson == "old-lesson"
