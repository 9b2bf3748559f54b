"""The progress file on a real lab host: a second laptop continues where the first stopped."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.lab.support import connect, lab_skip_reason, run
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.lessons import load_catalog
from workshop_tui.core.login import Login
from workshop_tui.core.progress import ProgressStore
from workshop_tui.core.session import Session
from workshop_tui.core.shared_progress import SHARED_PROGRESS_FILE, decode_shared_progress
from workshop_tui.lab import Lab, LabHost

pytestmark = pytest.mark.lab

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lab_host() -> Iterator[LabHost]:
    reason = lab_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    lab = Lab(f"progress-{secrets.token_hex(3)}")
    try:
        yield lab.up(1)[0]
    finally:
        lab.down()


def laptop_session(host: LabHost, directory: Path) -> Session:
    """Return a session with a laptop's own known hosts and progress store."""
    login = Login(host=host.address, user=host.user, port=host.port, password=host.user_password)
    return Session(
        login,
        known_hosts=KnownHosts(directory / "known_hosts"),
        progress_store=ProgressStore(directory / "progress.json"),
        team="team-1",
    )


def test_second_laptop_continues(lab_host: LabHost, tmp_path: Path) -> None:
    lesson = load_catalog([REPOSITORY / "lessons"]).get("postfix")
    assert lesson is not None
    intro, preseed, install = lesson.steps[0], lesson.steps[1], lesson.steps[2]

    first = laptop_session(lab_host, tmp_path / "laptop-a")
    first.connect()
    try:
        first.set_position(lesson, intro)
        first.set_step_state(lesson, intro, "passed")
        first.set_position(lesson, preseed)
        assert first.run_step(lesson, preseed, on_output=lambda chunk: None).succeeded
        first.set_position(lesson, install)
        first.set_hand_raised(True)
    finally:
        # Closing writes what is still pending to the VPS.
        first.close()
    assert not first.shared_writer.pending

    second = laptop_session(lab_host, tmp_path / "laptop-b")
    second.connect()
    try:
        progress = second.progress
        assert progress.current_lesson == "postfix"
        assert progress.lessons["postfix"].current_step == install.id
        assert progress.lessons["postfix"].steps == first.progress.lessons["postfix"].steps
        assert progress.lessons["postfix"].run == first.progress.lessons["postfix"].run
        assert progress.hand_raised_at == first.progress.hand_raised_at
        assert progress.step_since == first.progress.step_since
        assert second.progress_warning is None
    finally:
        second.close()

    client = connect(lab_host, lab_host.user, lab_host.user_password)
    try:
        status, mode, _ = run(client, f"stat -c %a {SHARED_PROGRESS_FILE}", timeout=30)
        assert status == 0
        assert mode.strip() == "600"
        status, text, _ = run(client, f"cat {SHARED_PROGRESS_FILE}", timeout=30)
        assert status == 0
    finally:
        client.close()
    assert json.loads(text)["team"] == "team-1"
    shared = decode_shared_progress(text)
    assert shared is not None
    assert shared.progress.hand_raised_at == first.progress.hand_raised_at
