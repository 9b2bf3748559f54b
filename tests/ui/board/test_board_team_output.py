"""The team view's last output: it opens at its end and follows new output."""

from __future__ import annotations

from textual.pilot import Pilot

from workshop_tui.ui.board import BoardApp
from workshop_tui.ui.board.screens.team import TeamScreen

from ..helpers import screen_text
from .conftest import Room, wait_for, wait_for_refreshes
from .fakes import snapshot


def numbered_output(count: int) -> str:
    """Return ``count`` lines of output, each naming its number: ``output line 007``."""
    return "".join(f"output line {number:03d}\n" for number in range(1, count + 1))


async def open_long_output(pilot: Pilot[None], room: Room) -> None:
    """Open team-1, whose latest run printed 80 lines."""
    await wait_for_refreshes(pilot, room)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, TeamScreen), "the team opens")


async def read_new_output(pilot: Pilot[None], room: Room, count: int) -> None:
    """Let team-1's next read return ``count`` lines, and press r for it."""
    newer = snapshot(
        room.team("team-1"), room.lesson, at=2, passed=(0, 1), last_output=numbered_output(count)
    )
    room.poller("team-1").add(newer)
    await pilot.press("r")
    board = pilot.app
    assert isinstance(board, BoardApp)
    await wait_for(pilot, lambda: board.snapshots["team-1"] is newer, "team-1 is read again")


def long_output_room(room: Room) -> Room:
    room.script(
        "team-1",
        snapshot(
            room.team("team-1"),
            room.lesson,
            at=2,
            passed=(0, 1),
            last_output=numbered_output(80),
        ),
    )
    return room


async def test_output_opens_at_end(room: Room) -> None:
    app = long_output_room(room).app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_long_output(pilot, room)
        text = screen_text(pilot)
        assert "output line 080" in text
        assert "output line 001" not in text


async def test_facts_stay_above_output(room: Room) -> None:
    app = long_output_room(room).app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_long_output(pilot, room)
        text = screen_text(pilot)
        assert "Step      3 of 8: Start Postfix" in text
        assert "✔ No check fails." in text


async def test_home_shows_output_start(room: Room) -> None:
    app = long_output_room(room).app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_long_output(pilot, room)
        await pilot.press("home")
        await pilot.pause()
        text = screen_text(pilot)
        assert "output line 001" in text
        assert "output line 080" not in text


async def test_end_returns_to_output_end(room: Room) -> None:
    app = long_output_room(room).app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_long_output(pilot, room)
        await pilot.press("home", "end")
        await pilot.pause()
        assert "output line 080" in screen_text(pilot)


async def test_new_output_shown_at_end(room: Room) -> None:
    app = long_output_room(room).app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_long_output(pilot, room)
        await read_new_output(pilot, room, 95)
        assert "output line 095" in screen_text(pilot)


async def test_scrolled_up_output_stays(room: Room) -> None:
    app = long_output_room(room).app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_long_output(pilot, room)
        await pilot.press("home")
        await read_new_output(pilot, room, 95)
        text = screen_text(pilot)
        assert "output line 001" in text
        assert "output line 095" not in text


async def test_scroll_key_at_end_keeps_following(room: Room) -> None:
    app = long_output_room(room).app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_long_output(pilot, room)
        await pilot.press("j")
        await read_new_output(pilot, room, 95)
        assert "output line 095" in screen_text(pilot)


async def test_short_output_starts_at_top(room: Room) -> None:
    room.script(
        "team-1",
        snapshot(room.team("team-1"), room.lesson, at=2, passed=(0, 1), last_output="one line\n"),
    )
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_long_output(pilot, room)
        rows = screen_text(pilot).splitlines()
        title_row = next(i for i, row in enumerate(rows) if "Last output" in row)
        assert "one line" in rows[title_row + 1]


async def test_footer_names_top_and_end(room: Room) -> None:
    app = long_output_room(room).app()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_long_output(pilot, room)
        footer = screen_text(pilot).splitlines()[-1]
        assert "Home End Top/end" in footer
        assert "tab Other box" in footer
