"""The board's poller on two lab hosts: a live attendee, a planted progress file, a cut link."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from workshop_tui.core.board.poll import TeamPoller
from workshop_tui.core.hostkeys import KnownHosts, fingerprint_from_base64
from workshop_tui.core.lessons import Catalog, Lesson
from workshop_tui.core.login import Login
from workshop_tui.core.progress import LessonProgress, ProgressStore, ServerProgress, StepState
from workshop_tui.core.remote import Connection
from workshop_tui.core.roster import Team, load_roster
from workshop_tui.core.session import Session
from workshop_tui.core.shared_progress import encode_shared_progress, write_shared_progress
from workshop_tui.lab import Lab, LabHost
from workshop_tui.lab.roster import write_lab_roster
from workshop_tui.ui.board import BoardApp
from workshop_tui.ui.board.command import team_poller_factory

from ..ui.helpers import screen_text
from .conftest import login_for

pytestmark = pytest.mark.lab

WRITE_WAIT_SECONDS = 30.0


def team_for(name: str, host: LabHost) -> Team:
    """Return a roster team for ``host`` that lists the host keys the lab reported."""
    keys = tuple(fingerprint_from_base64(kind, key) for kind, key in host.host_keys)
    return Team(name, login_for(host, as_root=False), None, keys, 1)


def postfix(catalog: Catalog) -> Lesson:
    lesson = catalog.get("postfix")
    assert lesson is not None
    return lesson


def test_attendee_session_shows_on_board(
    lab_hosts: list[LabHost], catalog: Catalog, tmp_path: Path
) -> None:
    lesson = postfix(catalog)
    about, preseed, install = lesson.steps[0], lesson.steps[1], lesson.steps[2]
    host = lab_hosts[0]
    session = Session(
        login_for(host, as_root=False),
        known_hosts=KnownHosts(tmp_path / "attendee" / "known_hosts"),
        progress_store=ProgressStore(tmp_path / "attendee" / "progress.json"),
        team="team-a",
    )
    session.connect()
    try:
        session.set_position(lesson, about)
        session.check_step(lesson, about)
        session.set_position(lesson, preseed)
        assert session.run_step(lesson, preseed, on_output=lambda chunk: None).succeeded
        assert session.shared_writer.wait_until_idle(WRITE_WAIT_SECONDS)
    finally:
        session.close()

    poller = TeamPoller(
        team_for("team-a", host),
        list(catalog),
        known_hosts=KnownHosts(tmp_path / "board" / "known_hosts"),
    )
    try:
        snapshot = poller.refresh()
    finally:
        poller.close()
    assert snapshot.reach == "online", snapshot.problem
    assert snapshot.problem is None
    assert snapshot.current_lesson == "postfix"
    current = snapshot.current_step(lesson)
    assert current is not None
    assert current.id == preseed.id
    assert snapshot.cell(lesson, about) == "done"
    assert snapshot.cell(lesson, preseed) == "current"
    assert snapshot.cell(lesson, install) == "not_started"
    preseed_results = snapshot.results[preseed.id]
    assert all(result.passed for result in preseed_results), [r.reason for r in preseed_results]


def plant_progress(
    host: LabHost, lesson: Lesson, step_id: str, known_hosts: KnownHosts, *, checked: bool = True
) -> None:
    """Write a progress file on ``host`` saying the team is at ``step_id``.

    With ``checked``, the file also records that the team checked the step and it failed.
    """
    steps: dict[str, StepState] = {step_id: "failed"} if checked else {}
    progress = ServerProgress(
        current_lesson=lesson.id,
        lessons={lesson.id: LessonProgress(current_step=step_id, steps=steps)},
    )
    login = Login(host=host.address, user=host.user, port=host.port, password=host.user_password)
    with Connection(login, known_hosts) as connection:
        connection.open()
        data = encode_shared_progress(progress, team="team-b", written_at=time.time())
        write_shared_progress(connection, data)


def test_failing_step_and_lost_link(
    practice_lab: tuple[Lab, list[LabHost]], catalog: Catalog, tmp_path: Path
) -> None:
    lab, hosts = practice_lab
    host = hosts[1]
    lesson = postfix(catalog)
    install = lesson.steps[2]
    known_hosts = KnownHosts(tmp_path / "board" / "known_hosts")
    plant_progress(host, lesson, install.id, known_hosts)
    poller = TeamPoller(team_for("team-b", host), list(catalog), known_hosts=known_hosts)
    try:
        poller.refresh()
        steady = poller.refresh()
        assert steady.reach == "online", steady.problem
        assert steady.round_trips == 1
        # The SMTP check ran in the first refresh and waits out its spacing now.
        assert steady.tunnels == 0
        assert steady.cell(lesson, install) == "failing"
        package, unit, smtp = steady.results[install.id]
        assert package.reason == "postfix is not installed"
        assert unit.reason == "there is no unit postfix@-; is its package installed?"
        assert smtp.reason == "nothing listens on 127.0.0.1:25: the connection was refused"

        lab.set_link(host.name, False)
        cut_at = time.monotonic()
        try:
            lost = poller.refresh()
            noticed_after = time.monotonic() - cut_at
        finally:
            lab.set_link(host.name, True)
        assert lost.reach == "unreachable"
        assert lost.problem is not None
        assert lost.progress == steady.progress
        assert lost.results == steady.results
        assert lost.polled_at == steady.polled_at

        back = poller.refresh()
        assert back.reach == "online", back.problem
        assert back.cell(lesson, install) == "failing"
        again = poller.refresh()
        assert again.round_trips == 1
    finally:
        poller.close()
    print(f"\nlost link reported after {noticed_after:.1f} s: {lost.problem}")


async def test_board_app_follows_the_room(
    practice_lab: tuple[Lab, list[LabHost]], catalog: Catalog, tmp_path: Path
) -> None:
    """The board as the command opens it, on the roster that `lab up` writes."""
    lab, hosts = practice_lab
    lesson = postfix(catalog)
    about, preseed, install = lesson.steps[0], lesson.steps[1], lesson.steps[2]
    roster_path = tmp_path / "roster.toml"
    write_lab_roster(roster_path, lab.name, hosts, [lesson.id])
    roster = load_roster(roster_path, known_lessons=[lesson.id])
    known_hosts = KnownHosts(tmp_path / "board" / "known_hosts")
    plant_progress(hosts[0], lesson, about.id, known_hosts, checked=False)
    plant_progress(hosts[1], lesson, install.id, known_hosts)

    attendee = Session(
        roster.team("team-1").login,
        known_hosts=KnownHosts(tmp_path / "attendee" / "known_hosts"),
        progress_store=ProgressStore(tmp_path / "attendee" / "progress.json"),
        team="team-1",
    )
    app = BoardApp(
        roster, [lesson], team_poller_factory(roster, [lesson], known_hosts), interval=1.0
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: "✖" in row_of(screen_text(pilot), "team-2"))
        assert "▶  ·  ·" in row_of(screen_text(pilot), "team-1")
        assert "postfix is not installed" in screen_text(pilot)

        # The attendee moves on while the board runs; the board follows within refreshes.
        attendee.connect()
        try:
            attendee.set_position(lesson, about)
            attendee.check_step(lesson, about)
            attendee.set_position(lesson, preseed)
            assert attendee.shared_writer.wait_until_idle(WRITE_WAIT_SECONDS)
        finally:
            attendee.close()
        await wait_until(pilot, lambda: "✔  ▶  ·" in row_of(screen_text(pilot), "team-1"))

        lab.set_link(hosts[1].name, False)
        try:
            await wait_until(
                pilot, lambda: "UNREACHABLE" in row_of(screen_text(pilot), "team-2"), 60
            )
        finally:
            lab.set_link(hosts[1].name, True)
        await wait_until(pilot, lambda: "online" in row_of(screen_text(pilot), "team-2"), 60)
        assert "✖" in row_of(screen_text(pilot), "team-2")


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], seconds: float = 30
) -> None:
    """Let the board run until ``condition`` holds, or fail with the screen's text."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {seconds:g} s; screen:\n{screen_text(pilot)}")
        await pilot.pause(0.25)


def row_of(text: str, team: str) -> str:
    """Return the grid line of ``team``, or "" while the board shows none."""
    for line in text.splitlines():
        if line.strip().startswith(team + " "):
            return line
    return ""
