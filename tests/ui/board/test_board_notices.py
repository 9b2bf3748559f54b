"""Notifications of the board's keys, drawn on the screen at projector size."""

from __future__ import annotations

from textual.pilot import Pilot

from workshop_tui.ui.board.screens.team import TeamScreen

from ..helpers import screen_text
from .conftest import Room, busy_room, wait_for, wait_for_refreshes

REFRESH_NOTICE = "Reading every team's VPS now."


def notice_shown(pilot: Pilot[None], text: str) -> bool:
    return text in screen_text(pilot)


async def test_refresh_notice_on_grid(room: Room) -> None:
    busy_room(room)
    app = room.app()
    # run_test draws no notifications unless asked to.
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("r")
        await wait_for(pilot, lambda: notice_shown(pilot, REFRESH_NOTICE), "the notice is drawn")
        assert REFRESH_NOTICE in screen_text(pilot)


async def test_refresh_notice_in_team_view(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, TeamScreen), "the team view opens")
        await pilot.press("r")
        await wait_for(pilot, lambda: notice_shown(pilot, REFRESH_NOTICE), "the notice is drawn")
        assert REFRESH_NOTICE in screen_text(pilot)


async def test_brackets_with_one_lesson(room: Room) -> None:
    busy_room(room)
    room.lessons = room.lessons[:1]
    app = room.app()
    notice = "The board has one lesson: “Mail basics”."
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: notice_shown(pilot, notice), "the notice is drawn")
        assert notice in screen_text(pilot)
        assert app.pinned_lesson is None


async def test_bracket_before_first_lesson(room: Room) -> None:
    busy_room(room)
    app = room.app()
    notice = "“Mail basics” is the first lesson."
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: notice_shown(pilot, notice), "the notice is drawn")
        assert notice in screen_text(pilot)
