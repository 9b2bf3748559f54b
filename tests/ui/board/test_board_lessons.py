"""Which lesson the grid shows: the room's, or the one the facilitator picked."""

from __future__ import annotations

from workshop_tui.ui.board import BoardApp
from workshop_tui.ui.board.widgets.grid import TeamGrid

from ..helpers import screen_text
from .conftest import Room, wait_for, wait_for_refreshes
from .fakes import snapshot


def shown_steps(app: BoardApp) -> int:
    """Return the number of step columns in the grid."""
    grid = app.screen.query_one(TeamGrid)
    return sum(str(key.value).startswith("step:") for key in grid.columns)


def second_lesson_room(room: Room) -> Room:
    """Put four teams in the second lesson and three in the first."""
    first, second = room.lessons
    for number, team in enumerate(room.roster.teams):
        lesson = second if number < 4 else first
        room.script(team.name, snapshot(team, lesson, at=1, passed=(0,)))
    return room


async def test_grid_follows_room(room: Room) -> None:
    second_lesson_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        assert "Lesson 2 of 2: Read mail with IMAP   following the room" in screen_text(pilot)
        assert shown_steps(app) == 2


async def test_grid_follows_room_when_it_moves(room: Room) -> None:
    first, second = room.lessons
    for team in room.roster.teams:
        room.script(team.name, snapshot(team, first, at=7), snapshot(team, second, at=0))
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        assert shown_steps(app) == 8
        await pilot.press("r")
        await wait_for_refreshes(pilot, room, count=2)
        assert shown_steps(app) == 2


async def test_brackets_pick_lesson(room: Room) -> None:
    second_lesson_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        text = screen_text(pilot)
        assert "Lesson 1 of 2: Mail basics   picked · f follows the room" in text
        assert shown_steps(app) == 8
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert "Lesson 2 of 2: Read mail with IMAP   picked" in screen_text(pilot)


async def test_picked_lesson_stays(room: Room) -> None:
    first, second = room.lessons
    for team in room.roster.teams:
        room.script(team.name, snapshot(team, first, at=1), snapshot(team, second, at=1))
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("right_square_bracket", "left_square_bracket")
        await pilot.press("r")
        await wait_for_refreshes(pilot, room, count=2)
        assert app.pinned_lesson == "mail-basics"
        assert shown_steps(app) == 8


async def test_f_follows_room_again(room: Room) -> None:
    second_lesson_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert shown_steps(app) == 8
        await pilot.press("f")
        await pilot.pause()
        assert shown_steps(app) == 2
        assert "following the room" in screen_text(pilot)


async def test_bracket_stops_at_last_lesson(room: Room) -> None:
    second_lesson_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.pinned_lesson is None
        assert shown_steps(app) == 2


async def test_lesson_switch_keeps_cursor(room: Room) -> None:
    second_lesson_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("j", "j", "j", "left_square_bracket")
        await wait_for(pilot, lambda: shown_steps(app) == 8, "the first lesson is shown")
        assert app.screen.query_one(TeamGrid).selected_team() == "team-4"
