"""The grid: a row per team, a symbol and colour per step state, time, hand and status."""

from __future__ import annotations

from rich.text import Text

from workshop_tui.ui.board.display import CELL_STYLES, DIMMED, STATUS_STYLES
from workshop_tui.ui.board.widgets.grid import TeamGrid

from ..helpers import screen_text
from .conftest import Room, busy_room, wait_for_refreshes
from .fakes import NOW, PASSWORD, snapshot


def row_of(text: str, team: str) -> str:
    """Return the line of the screen that shows ``team`` in the grid."""
    for line in text.splitlines():
        if line.strip().startswith(team + " "):
            return line
    raise AssertionError(f"no row for {team} in:\n{text}")


def cell(grid: TeamGrid, team: str, key: str) -> Text:
    return grid.get_cell(team, key)


async def test_grid_shows_each_state(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        text = screen_text(pilot)
        assert "✔  ✔  ✔  ▶  ·  ·  ·  ·" in row_of(text, "team-1")
        assert "✔  ✔  ✔  ✖  ·  ·  ·  ·" in row_of(text, "team-2")
        assert "✔  ✖  ·  ·  ·  ·  ·  ·" in row_of(text, "team-5")


async def test_grid_colours_each_state(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        grid = app.screen.query_one(TeamGrid)
        steps = [f"step:{step.id}" for step in room.lesson.steps]
        assert str(cell(grid, "team-2", steps[0]).style) == CELL_STYLES["done"]
        assert str(cell(grid, "team-2", steps[3]).style) == CELL_STYLES["failing"]
        assert str(cell(grid, "team-1", steps[3]).style) == CELL_STYLES["current"]
        assert str(cell(grid, "team-1", steps[4]).style) == CELL_STYLES["not_started"]


async def test_grid_shows_time_and_hand(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        text = screen_text(pilot)
        assert "2:05" in row_of(text, "team-1")
        assert "✋ 2:10" in row_of(text, "team-3")
        assert "✋" not in row_of(text, "team-2")


async def test_grid_marks_unreachable_row(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        room.clock.now = NOW + 200
        app.update_views()
        await pilot.pause()
        row = row_of(screen_text(pilot), "team-6")
        # The time counts from team-6's last read, 2 s before NOW.
        assert "UNREACHABLE 3:22" in row
        assert "✔  ✔  ▶  ·" in row
        grid = app.screen.query_one(TeamGrid)
        first_step = f"step:{room.lesson.steps[0].id}"
        assert str(cell(grid, "team-6", first_step).style) == DIMMED
        assert str(cell(grid, "team-6", "status").style) == STATUS_STYLES["unreachable"]


async def test_grid_marks_refused_row(room: Room) -> None:
    room.script(
        "team-1",
        snapshot(
            room.team("team-1"),
            room.lesson,
            at=2,
            reach="refused",
            problem="the login was rejected; check user and password in the roster",
            polled_at=None,
        ),
    )
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        room.clock.now = NOW + 60
        app.update_views()
        await pilot.pause()
        row = row_of(screen_text(pilot), "team-1")
        # Never read: the time counts from the board's first failed read, at NOW.
        assert "REFUSED 1:00" in row
        assert "UNREACHABLE" not in row


async def test_grid_marks_stale_row(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        text = screen_text(pilot)
        assert "STALE 4:05" in row_of(text, "team-7")
        assert "STALE" not in row_of(text, "team-1")


async def test_short_interval_read_not_stale(room: Room) -> None:
    # With a 1 s interval, the next read of a team can end seconds after its slot.
    room.script(
        "team-1", snapshot(room.team("team-1"), room.lesson, at=2, passed=(0, 1), polled_at=NOW - 5)
    )
    app = room.app(interval=1.0)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        row = row_of(screen_text(pilot), "team-1")
        assert "online" in row
        assert "STALE" not in row


async def test_grid_shows_connecting_before_first_read(room: Room) -> None:
    # No script: the fake keeps the poller's first snapshot, as before any read.
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        assert "connecting…" in row_of(screen_text(pilot), "team-4")


async def test_grid_never_shows_braces_or_password(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        text = screen_text(pilot)
        assert "{{" not in text
        assert PASSWORD not in text


async def test_grid_finished_lesson_stops_clock(room: Room) -> None:
    lesson = room.lesson
    last = len(lesson.steps) - 1
    room.script(
        "team-1", snapshot(room.team("team-1"), lesson, at=last, passed=range(len(lesson.steps)))
    )
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        row = row_of(screen_text(pilot), "team-1")
        assert "✔  ✔  ✔  ✔  ✔  ✔  ✔  ✔" in row
        assert "done" in row
        assert "2:05" not in row


async def test_redraw_after_grid_removed(room: Room) -> None:
    # At quit a timer can fire after the screen's widgets are gone.
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await app.screen.query_one(TeamGrid).remove()
        app.update_views()
