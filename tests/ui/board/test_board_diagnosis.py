"""What the board noticed: diagnosis of the open team's failing checks, in its poller thread."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.board import fakes as vps_fakes
from workshop_tui.core.board import poll
from workshop_tui.core.board.diagnosis import DIAGNOSIS_SPACING, TeamDiagnosis
from workshop_tui.core.board.poll import TeamPoller
from workshop_tui.core.diagnosis import Finding
from workshop_tui.core.hostkeys import KnownHosts
from workshop_tui.core.roster import Roster, Team
from workshop_tui.ui.board import BoardApp
from workshop_tui.ui.board.screens.team import TeamPanel, TeamScreen

from ..helpers import screen_text
from .conftest import Room, busy_room, wait_for, wait_for_refreshes
from .fakes import INTERVAL, NOW, PASSWORD, FakeClock, FakePoller, snapshot

TALL = (100, 60)
"""A screen on which the failing checks and what the board noticed fit without scrolling."""

LOOPS = Finding(
    "mail-loops-back",
    "Postfix bounced mail for `alpha.lab.test`: add it to `mydestination`.",
    ("03:16:45 alpha postfix/smtp[5119]: status=bounced (loops back to myself)",),
)


async def open_team(pilot: Pilot[None], position: int) -> None:
    """Move the cursor down ``position`` rows from the first, and open that team."""
    await pilot.press(*(["j"] * position), "enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TeamScreen), "the team opens")


async def read_once(pilot: Pilot[None], poller: FakePoller) -> None:
    """Press r and wait until ``poller`` refreshed once more."""
    target = poller.refreshes + 1
    await pilot.press("r")
    await wait_for(pilot, lambda: poller.refreshes >= target, f"{poller.team.name} is read")


async def read_again(pilot: Pilot[None], room: Room, name: str) -> None:
    """Press r twice and wait until the poller of ``name`` refreshed each time.

    A poller diagnoses right after its refresh, so after the second refresh the first
    round's diagnosis, if any, has happened.
    """
    await read_once(pilot, room.poller(name))
    await read_once(pilot, room.poller(name))


async def test_only_open_failing_team_diagnosed(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=TALL) as pilot:
        await wait_for_refreshes(pilot, room)
        assert all(poller.diagnoses == 0 for poller in room.pollers.values())
        await open_team(pilot, 2)
        team_3 = room.poller("team-3")
        # Opening the team reads it at once, without waiting for its slot.
        await wait_for(pilot, lambda: "team-3" in app.diagnoses, "team-3 is diagnosed")
        assert team_3.diagnoses == 1
        assert team_3.diagnose_threads[0].startswith("board-poller")
        await read_again(pilot, room, "team-2")
        others = [poller for name, poller in room.pollers.items() if name != "team-3"]
        assert all(poller.diagnoses == 0 for poller in others)


async def test_no_diagnosis_without_failing_checks(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=TALL) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 0)
        await read_again(pilot, room, "team-1")
        assert room.poller("team-1").diagnoses == 0
        text = screen_text(pilot)
        assert "✔ No check fails." in text
        assert "What the board noticed" not in text


async def test_diagnosis_spacing(room: Room) -> None:
    busy_room(room)
    app = room.app()
    poller = room.poller("team-3")
    async with app.run_test(size=TALL) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        await wait_for(pilot, lambda: poller.diagnoses == 1, "team-3 is diagnosed")
        room.clock.now = NOW + DIAGNOSIS_SPACING - 1
        await read_again(pilot, room, "team-3")
        assert poller.diagnoses == 1
        room.clock.now = NOW + DIAGNOSIS_SPACING
        await read_again(pilot, room, "team-3")
        assert poller.diagnoses == 2
        # Back on the grid, no team is diagnosed, however long ago the last time was.
        await pilot.press("escape")
        room.clock.now = NOW + 10 * DIAGNOSIS_SPACING
        await read_again(pilot, room, "team-3")
        assert poller.diagnoses == 2


async def test_findings_show_evidence_and_age(room: Room) -> None:
    busy_room(room)
    room.poller("team-3").diagnosis = TeamDiagnosis(findings=(LOOPS,), at=NOW - 12)
    app = room.app()
    async with app.run_test(size=TALL) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        await wait_for(pilot, lambda: "team-3" in app.diagnoses, "team-3 is diagnosed")
        lines = screen_text(pilot).splitlines()
        start = next(i for i, line in enumerate(lines) if "What the board noticed" in line)
        failing = next(i for i, line in enumerate(lines) if "✖ Step 4" in line)
        assert failing < start
        assert lines[start].strip("│ ") == "What the board noticed  12 s ago"
        hint = "• Postfix bounced mail for alpha.lab.test: add it to mydestination."
        assert lines[start + 1].strip("│ ") == hint
        assert lines[start + 2].strip("│ ") == LOOPS.evidence[0]


async def test_nothing_known_found(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=TALL) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        await wait_for(pilot, lambda: "team-3" in app.diagnoses, "team-3 is diagnosed")
        text = screen_text(pilot)
        assert "What the board noticed  0 s ago" in text
        assert "Nothing known found." in text


async def test_sudo_refused_line(room: Room) -> None:
    busy_room(room)
    refused = "no diagnosis: sudo rejected the password of user3."
    room.poller("team-3").diagnosis = TeamDiagnosis(problem=refused, at=NOW - 3)
    app = room.app()
    async with app.run_test(size=TALL) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        await wait_for(pilot, lambda: "team-3" in app.diagnoses, "team-3 is diagnosed")
        text = screen_text(pilot)
        assert refused in text
        assert "Nothing known found." not in text


async def test_diagnosis_error_hides_password(room: Room) -> None:
    busy_room(room)
    room.poller("team-3").diagnose_fails_with = RuntimeError(f"bad reply near {PASSWORD}")
    app = room.app()
    async with app.run_test(size=TALL) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        await wait_for(pilot, lambda: "team-3" in app.diagnoses, "team-3 is diagnosed")
        text = screen_text(pilot)
        assert "no diagnosis: the board failed: RuntimeError: bad reply near ••••••" in text
        assert "Traceback" not in text
        assert PASSWORD not in text


async def test_findings_go_when_checks_pass(room: Room) -> None:
    busy_room(room)
    room.poller("team-3").diagnosis = TeamDiagnosis(findings=(LOOPS,), at=NOW)
    app = room.app()
    async with app.run_test(size=TALL) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        await wait_for(pilot, lambda: "team-3" in app.diagnoses, "team-3 is diagnosed")
        fixed = snapshot(room.team("team-3"), room.lesson, at=4, passed=(0, 1, 2, 3))
        room.poller("team-3").add(fixed)
        await read_again(pilot, room, "team-3")
        assert "team-3" not in app.diagnoses
        text = screen_text(pilot)
        assert "What the board noticed" not in text
        assert LOOPS.evidence[0] not in text


async def test_fits_projector_size(room: Room) -> None:
    busy_room(room)
    room.poller("team-3").diagnosis = TeamDiagnosis(findings=(LOOPS, LOOPS, LOOPS), at=NOW)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        await wait_for(pilot, lambda: "team-3" in app.diagnoses, "team-3 is diagnosed")
        failing = app.screen.query_one("#team-failing", TeamPanel)
        output = app.screen.query_one("#team-output", TeamPanel)
        assert output.region.bottom <= 29
        assert output.region.height >= 6
        assert failing.max_scroll_y > 0
        # The failing checks box scrolls to what the board noticed.
        await pilot.press("tab", "end")
        await pilot.pause()
        text = screen_text(pilot)
        assert "What the board noticed" in text
        assert LOOPS.evidence[0] in text
        assert screen_text(pilot).splitlines()[-1].strip()


async def test_password_never_on_screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real poller on a fake VPS whose shell history quotes the login password."""
    home = tmp_path / "home"
    home.mkdir()
    vps = vps_fakes.FakeVps(home=home)
    monkeypatch.setattr(poll, "Connection", vps_fakes.connection_factory(vps))
    vps_fakes.serve_evidence(monkeypatch, vps_fakes.NO_MAIL_LOG)
    configure = "configure-the-tool"
    vps.write_progress(vps_fakes.progress_at("basics", configure, {configure: "failed"}))
    lessons = list(vps_fakes.write_lessons(tmp_path / "lessons"))
    team = vps_fakes.make_team()
    roster = Roster(tmp_path / "roster.toml", "Workshop", (), (team,))
    known_hosts = KnownHosts(tmp_path / "known_hosts")

    def make_poller(team: Team) -> TeamPoller:
        return TeamPoller(team, lessons, known_hosts=known_hosts, connect_timeout=5)

    app = BoardApp(roster, lessons, make_poller, interval=INTERVAL, clock=FakeClock())
    async with app.run_test(size=TALL) as pilot:
        await wait_for(pilot, lambda: app.snapshots["team-1"].reach == "online", "team-1 is read")
        await open_team(pilot, 0)
        await wait_for(pilot, lambda: "team-1" in app.diagnoses, "team-1 is diagnosed")
        [finding] = app.diagnoses["team-1"].findings
        assert finding.rule == "mail-log-missing"
        assert app.diagnoses["team-1"].round_trips == 1
        text = screen_text(pilot)
        assert "grep error /var/log/mail.log # ••••••" in text
        assert vps_fakes.PASSWORD not in text
        # The refresh before the diagnosis kept its single exec.
        assert app.snapshots["team-1"].round_trips == 1
