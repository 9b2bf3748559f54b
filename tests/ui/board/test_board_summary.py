"""The room summary: the most common failing check, the next ones, reach and hands."""

from __future__ import annotations

from textual.widgets import Static

from workshop_tui.ui.board import BoardApp
from workshop_tui.ui.board.widgets.summary import RoomSummary

from ..helpers import screen_text, static_text
from .conftest import Room, busy_room, wait_for_refreshes
from .fakes import NOW, snapshot


def summary_text(app: BoardApp) -> str:
    return static_text(app.screen.query_one(RoomSummary))


async def test_summary_names_most_common_failure(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        lines = summary_text(app).splitlines()
        assert lines[0] == "✖ 3 of 7 teams  Step 4 · Postfix answers on port 25"
        assert lines[1].strip() == "connection refused on port 25"


async def test_summary_lists_next_failure(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        lines = summary_text(app).splitlines()
        assert lines[2] == (
            "✖ 1 of 7 teams  Step 2 · The package postfix is installed: postfix is missing"
        )


async def test_summary_counts_unreachable_and_hands(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        last = summary_text(app).splitlines()[-1]
        assert "1 team unreachable  team-6" in last
        assert "✋ 1 hand raised: team-3" in last


async def test_summary_orders_hands_by_wait(room: Room) -> None:
    lesson = room.lesson
    room.script("team-2", snapshot(room.team("team-2"), lesson, at=1, hand_raised_at=NOW - 10))
    room.script("team-5", snapshot(room.team("team-5"), lesson, at=1, hand_raised_at=NOW - 300))
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        assert "✋ 2 hands raised: team-5, team-2" in summary_text(app)


async def test_summary_fills_in_shared_values(room: Room) -> None:
    # The board has no value for {{ hostname }} in the check title "Postfix is running
    # on {{ hostname }}", so it shows the variable's name instead.
    lesson = room.lesson
    for name in ("team-1", "team-2"):
        room.script(name, snapshot(room.team(name), lesson, at=2, failed={2: "inactive"}))
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        text = summary_text(app)
        assert "Step 3 · Postfix is running on hostname" in text
        assert "{{" not in screen_text(pilot)


async def test_summary_when_nothing_fails(room: Room) -> None:
    for team in room.roster.teams:
        room.script(team.name, snapshot(team, room.lesson, at=1, passed=(0,)))
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        text = summary_text(app)
        assert "No check fails across the room." in text
        assert "No hands raised" in text
        assert "Every VPS answers" in text
        assert app.screen.query_one("#summary", Static).border_title == "Room"


async def test_summary_counts_teams_not_read_yet(room: Room) -> None:
    room.script("team-1", snapshot(room.team("team-1"), room.lesson, at=1))
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        text = summary_text(app)
        assert "6 teams connecting" in text
        assert "Every VPS answers" not in text
