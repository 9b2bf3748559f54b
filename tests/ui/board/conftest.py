"""Fixtures for Pilot tests of the board: lessons, seven teams and their fake pollers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from textual.pilot import Pilot

from workshop_tui.core.board.model import TeamSnapshot
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.roster import Roster, Team
from workshop_tui.ui.board import BoardApp

from .fakes import INTERVAL, NOW, FakeClock, FakePoller, make_roster, snapshot, write_lessons


@dataclass
class Room:
    """The roster, the lessons and one scripted poller per team."""

    roster: Roster
    lessons: list[Lesson]
    clock: FakeClock = field(default_factory=FakeClock)
    pollers: dict[str, FakePoller] = field(default_factory=dict)

    @property
    def lesson(self) -> Lesson:
        """The first lesson, with eight steps."""
        return self.lessons[0]

    def team(self, name: str) -> Team:
        return self.roster.team(name)

    def poller(self, name: str) -> FakePoller:
        return self.pollers.setdefault(name, FakePoller(self.team(name)))

    def script(self, name: str, *snapshots: TeamSnapshot) -> None:
        """Queue what the poller of team ``name`` returns on its next refreshes."""
        self.poller(name).add(*snapshots)

    def app(self, interval: float = INTERVAL) -> BoardApp:
        return BoardApp(
            self.roster,
            self.lessons,
            lambda team: self.poller(team.name),
            interval=interval,
            clock=self.clock,
        )


@pytest.fixture
def room(tmp_path: Path) -> Room:
    catalog = write_lessons(tmp_path / "lessons")
    return Room(make_roster(tmp_path / "roster.toml"), list(catalog))


def busy_room(room: Room) -> Room:
    """Script seven teams in every state of the grid.

    team-1 is at step 4. team-2, team-3 and team-4 fail step 4 (port 25), and team-3 has
    a raised hand. team-5 fails step 2, team-6 is unreachable and team-7's data is stale.
    """
    lesson = room.lesson
    done = (0, 1, 2)
    refused = "connection refused on port 25"
    room.script("team-1", snapshot(room.team("team-1"), lesson, at=3, passed=done))
    for name in ("team-2", "team-4"):
        room.script(name, snapshot(room.team(name), lesson, at=3, passed=done, failed={3: refused}))
    room.script(
        "team-3",
        snapshot(
            room.team("team-3"),
            lesson,
            at=3,
            passed=done,
            failed={3: refused},
            hand_raised_at=NOW - 130,
            evidence="telnet: Unable to connect to remote host",
            last_output="Setting up postfix (3.7.11-0+deb12u1) ...\nJob for postfix failed.",
        ),
    )
    room.script(
        "team-5",
        snapshot(room.team("team-5"), lesson, at=1, passed=(0,), failed={1: "postfix is missing"}),
    )
    room.script(
        "team-6",
        snapshot(
            room.team("team-6"),
            lesson,
            at=2,
            passed=(0, 1),
            reach="unreachable",
            problem="10.77.0.16 port 22: connection timed out",
        ),
    )
    room.script(
        "team-7",
        snapshot(room.team("team-7"), lesson, at=4, passed=(0, 1, 2, 3), polled_at=NOW - 245),
    )
    return room


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], what: str) -> None:
    """Wait until ``condition`` holds, then until the screen is drawn."""
    for _ in range(1000):
        if condition():
            await pilot.pause()
            return
        await pilot.pause(0.01)
    raise AssertionError(f"gave up waiting until {what}")


async def wait_for_refreshes(pilot: Pilot[None], room: Room, count: int = 1) -> None:
    """Wait until every poller refreshed ``count`` times and the board shows the results."""
    app = pilot.app
    assert isinstance(app, BoardApp)

    def done() -> bool:
        return all(
            poller.refreshes >= count and app.snapshots[name] is poller.snapshot
            for name, poller in room.pollers.items()
        )

    await wait_for(pilot, done, f"every poller refreshed {count} times")
