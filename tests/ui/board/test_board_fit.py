"""At 100x30 cells the whole board fits: seven teams, eight steps, the summary, the keys."""

from __future__ import annotations

from workshop_tui.ui.board.widgets.grid import TeamGrid
from workshop_tui.ui.board.widgets.summary import RoomSummary

from ..helpers import screen_text
from .conftest import Room, busy_room, wait_for_refreshes


async def test_board_fits_projector_size(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        grid = app.screen.query_one(TeamGrid)
        assert grid.max_scroll_y == 0
        assert grid.max_scroll_x == 0
        summary = app.screen.query_one(RoomSummary)
        assert summary.region.bottom <= 29
        text = screen_text(pilot)
        for number in range(1, 8):
            assert f"team-{number} " in text
        assert "1  2  3  4  5  6  7  8  On step  Hand" in text
        assert "Status" in text


async def test_footer_names_keys(room: Room) -> None:
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        footer = screen_text(pilot).splitlines()[-1]
        for key in ("⏎ Team", "↑↓ j k Move", "[ ] Lesson", "f Follow room", "r Refresh", "q Quit"):
            assert key in footer


async def test_summary_fits_projector_size(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        text = screen_text(pilot)
        assert "✖ 3 of 7 teams  Step 4 · Postfix answers on port 25" in text
        assert "connection refused on port 25" in text
        assert "1 team unreachable" in text
