"""The team view: login, reach, step, failing checks with reason and evidence, last output."""

from __future__ import annotations

from textual.pilot import Pilot

from workshop_tui.ui.board.screens.board import BoardScreen
from workshop_tui.ui.board.screens.team import TeamScreen

from ..helpers import screen_text
from .conftest import Room, busy_room, wait_for, wait_for_refreshes
from .fakes import NOW, PASSWORD, snapshot


async def open_team(pilot: Pilot[None], position: int) -> None:
    """Move the cursor from the first row down ``position`` rows and press Enter."""
    await pilot.press(*(["j"] * position), "enter")
    await pilot.pause()


async def test_team_view_shows_failing_check(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        assert isinstance(app.screen, TeamScreen)
        text = screen_text(pilot)
        assert "Team team-3" in text
        assert "✖ Step 4 · Postfix answers on port 25" in text
        assert "connection refused on port 25" in text
        assert "telnet: Unable to connect to remote host" in text


async def test_team_view_shows_last_output(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        text = screen_text(pilot)
        assert "Last output" in text
        assert "Setting up postfix (3.7.11-0+deb12u1) ..." in text
        assert "Job for postfix failed." in text


async def test_team_view_shows_facts(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        text = screen_text(pilot)
        assert "Login     user3@10.77.0.13" in text
        assert "Lesson    Mail basics (mail-basics)" in text
        assert "Step      4 of 8: Answer on port 25" in text
        assert "On step   2:05" in text
        assert "Hand      ✋ raised 2:10 ago" in text
        assert PASSWORD not in text


async def test_team_view_shows_problem(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 5)
        text = screen_text(pilot)
        assert "Team team-6" in text
        assert "UNREACHABLE 0:02" in text
        assert "10.77.0.16 port 22: connection timed out" in text


async def test_team_view_fills_in_team_values(room: Room) -> None:
    lesson = room.lesson
    room.script("team-1", snapshot(room.team("team-1"), lesson, at=5, failed={5: "no mail"}))
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 0)
        text = screen_text(pilot)
        assert "✖ Step 6 · A mail for user1 arrived" in text
        assert "Partner   team-2" in text


async def test_escape_returns_to_grid(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 1)
        assert isinstance(app.screen, TeamScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)


async def test_team_view_updates_live(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await open_team(pilot, 2)
        fixed = snapshot(
            room.team("team-3"),
            room.lesson,
            at=4,
            passed=(0, 1, 2, 3),
            step_since=NOW - 5,
            last_output="postfix/master: daemon started",
        )
        poller = room.poller("team-3")
        poller.add(fixed)
        await pilot.press("r")
        await wait_for(pilot, lambda: app.snapshots["team-3"] is fixed, "team-3 is read again")
        text = screen_text(pilot)
        assert "Step      5 of 8: Set the mail name" in text
        assert "✔ No check fails." in text
        assert "postfix/master: daemon started" in text


async def test_online_problem_shown(room: Room) -> None:
    problem = "Checks that need root did not run: sudo rejected the password"
    room.script(
        "team-1", snapshot(room.team("team-1"), room.lesson, at=2, passed=(0, 1), problem=problem)
    )
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        assert "online ⚠" in screen_text(pilot)
        await open_team(pilot, 0)
        text = screen_text(pilot)
        assert "Reach     online ⚠, read 0:02 ago" in text
        assert problem in text
