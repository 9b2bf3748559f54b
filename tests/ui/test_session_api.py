"""The real Session and the test double both fit the surface that the UI uses."""

from __future__ import annotations

from pathlib import Path

from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.progress import ProgressStore
from workshop_tui.core.session import Session
from workshop_tui.ui.session_api import AttendeeSession

from .fakes import FakeSession, make_login


def as_attendee_session(session: AttendeeSession) -> AttendeeSession:
    """Accept anything that mypy finds compatible with the protocol."""
    return session


def test_session_fits_protocol(tmp_path: Path) -> None:
    real = Session(
        make_login(),
        known_hosts=KnownHosts(tmp_path / "known_hosts"),
        progress_store=ProgressStore(tmp_path / "progress.json"),
    )
    assert as_attendee_session(real) is real
    fake = FakeSession(login=make_login())
    assert as_attendee_session(fake) is fake
