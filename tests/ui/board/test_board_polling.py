"""The pollers: one per team, woken by r, closed at exit; a poller's bug shows as a problem."""

from __future__ import annotations

from ..helpers import screen_text
from .conftest import Room, busy_room, wait_for, wait_for_refreshes
from .fakes import PASSWORD


async def test_board_reads_every_team(room: Room) -> None:
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        assert sorted(room.pollers) == [f"team-{number}" for number in range(1, 8)]


async def test_refresh_key_wakes_pollers(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("r")
        await wait_for_refreshes(pilot, room, count=2)
        assert all(poller.refreshes == 2 for poller in room.pollers.values())


async def test_pollers_wait_for_interval(room: Room) -> None:
    # With an hour between rounds, nothing but the first round runs during the test.
    app = room.app(interval=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.pause(0.2)
        assert all(poller.refreshes == 1 for poller in room.pollers.values())


async def test_refresh_key_works_in_team_view(room: Room) -> None:
    busy_room(room)
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("enter", "r")
        await wait_for_refreshes(pilot, room, count=2)
        assert room.poller("team-1").refreshes == 2


async def test_pollers_closed_at_exit(room: Room) -> None:
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for_refreshes(pilot, room)
        await pilot.press("q")
    assert all(poller.closed.is_set() for poller in room.pollers.values())


async def test_poller_error_becomes_problem(room: Room) -> None:
    busy_room(room)
    room.poller("team-2").fail_with = RuntimeError(f"bad state with {PASSWORD} inside")
    app = room.app()
    async with app.run_test(size=(100, 30)) as pilot:

        def failed() -> bool:
            return app.snapshots["team-2"].problem is not None

        await wait_for(pilot, failed, "team-2's refresh failed")
        problem = app.snapshots["team-2"].problem or ""
        assert "the board failed to read this VPS: RuntimeError: bad state with" in problem
        assert PASSWORD not in problem
        assert "UNREACHABLE" in screen_text(pilot)
