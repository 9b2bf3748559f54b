"""The facilitator board: every team's progress on one screen, read live from their VPS."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.message import Message

from workshop_tui.core.board import pacing
from workshop_tui.core.board.diagnosis import TeamDiagnosis, diagnosis_due, failing_checks
from workshop_tui.core.board.model import TeamSnapshot
from workshop_tui.core.board.pacing import next_refresh_delay, team_phase
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.roster import Roster, Team
from workshop_tui.ui.board.display import room_lesson
from workshop_tui.ui.board.polling import (
    BoardPoller,
    PollerFactory,
    diagnose_safely,
    refresh_safely,
)
from workshop_tui.ui.board.screens.board import BoardScreen
from workshop_tui.ui.board.screens.common import BoardView
from workshop_tui.ui.board.screens.team import TeamScreen


class BoardApp(App[None]):
    """Shows the teams of ``roster`` by the steps of a lesson, refreshed in the background.

    One worker per team refreshes that team's poller in a thread of its own, so a slow
    or unreachable VPS delays only its own row. The threads come from the app's own pool
    with one thread per team. Textual's thread workers share asyncio's default pool of at
    most ``min(32, os.cpu_count() + 4)`` threads. A worker that refreshes in a loop occupies
    one thread for good, so with that pool the teams beyond its size would never be read.
    The same thread diagnoses the team that the team view shows, after a refresh that
    found failing checks.
    """

    CSS_PATH = "board.tcss"
    TITLE = "workshop-tui board"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "r",
            "refresh_now",
            "Refresh",
            tooltip="Read every team's VPS now instead of waiting for the next round.",
            id="board.refresh",
        ),
        Binding("q", "quit", "Quit", tooltip="Close the board.", id="board.quit"),
    ]

    class SnapshotRead(Message):
        """A poller finished one refresh of a team's VPS."""

        def __init__(self, snapshot: TeamSnapshot) -> None:
            super().__init__()
            self.snapshot = snapshot

    class DiagnosisRead(Message):
        """A poller finished diagnosing the failing checks of a team's VPS."""

        def __init__(self, team_name: str, diagnosis: TeamDiagnosis) -> None:
            super().__init__()
            self.team_name = team_name
            self.diagnosis = diagnosis

    def __init__(
        self,
        roster: Roster,
        lessons: Sequence[Lesson],
        poller_factory: PollerFactory,
        *,
        interval: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Create the board.

        Args:
            roster: The teams to show, and the workshop's title.
            lessons: The lessons the facilitator can show, in workshop order.
            poller_factory: Creates each team's poller; tests pass fakes.
            interval: Seconds between two refreshes of one team.
            clock: Returns the current time in epoch seconds; tests pass a fixed one.
        """
        super().__init__()
        self.roster = roster
        self.lessons = tuple(lessons)
        self.poller_factory = poller_factory
        self.interval = interval
        self.clock = clock
        self.snapshots: dict[str, TeamSnapshot] = {}
        """The latest snapshot of each team, by team name, in roster order."""
        self.down_since: dict[str, float] = {}
        """When the board last started failing to read each team's VPS, by team name. The
        status counts from it only for a team whose VPS was never read."""
        self.pinned_lesson: str | None = None
        """The lesson the facilitator picked, or None to show the lesson of the room."""
        self.diagnoses: dict[str, TeamDiagnosis] = {}
        """The latest diagnosis of each team, by team name, while its checks fail."""
        self._diagnosed_at: dict[str, float] = {}
        self._wake = {team.name: asyncio.Event() for team in roster.teams}
        self._threads = ThreadPoolExecutor(
            max_workers=max(1, len(roster.teams)), thread_name_prefix="board-poller"
        )

    @property
    def stale_after(self) -> float:
        """Seconds after which a team's data counts as stale."""
        return pacing.stale_after(self.interval)

    @property
    def shown_lesson(self) -> Lesson | None:
        """The lesson whose steps the grid shows."""
        for lesson in self.lessons:
            if lesson.id == self.pinned_lesson:
                return lesson
        return room_lesson(self.snapshots.values(), self.lessons)

    def team(self, name: str) -> Team:
        """Return the roster's team called ``name``."""
        return self.roster.team(name)

    def on_mount(self) -> None:
        pollers: list[tuple[Team, BoardPoller]] = []
        for team in self.roster.teams:
            poller = self.poller_factory(team)
            self.snapshots[team.name] = poller.snapshot
            pollers.append((team, poller))
        self.push_screen(BoardScreen())
        start = asyncio.get_running_loop().time()
        for index, (team, poller) in enumerate(pollers):
            phase = team_phase(start, index, len(pollers), self.interval)
            self.run_worker(
                self._poll(team, poller, phase),
                name=f"poll {team.name}",
                group="pollers",
                description=f"reads the VPS of {team.name}",
            )
        # Durations and ages on screen grow by the second, also between refreshes.
        self.set_interval(1.0, self.update_views)

    async def _poll(self, team: Team, poller: BoardPoller, phase: float) -> None:
        """Refresh ``poller`` at once, then in its slot every ``interval`` seconds, or
        sooner when woken, until cancelled. ``phase`` is a slot on the loop's clock."""
        loop = asyncio.get_running_loop()
        wake = self._wake[team.name]
        try:
            while True:
                wake.clear()
                snapshot = await loop.run_in_executor(self._threads, refresh_safely, poller, team)
                self.post_message(self.SnapshotRead(snapshot))
                if self._diagnosis_due_for(team.name, snapshot):
                    self._diagnosed_at[team.name] = self.clock()
                    found = await loop.run_in_executor(self._threads, diagnose_safely, poller, team)
                    if found is not None:
                        self.post_message(self.DiagnosisRead(team.name, found))
                delay = next_refresh_delay(loop.time(), phase, self.interval)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=delay)
        finally:
            # Textual cancels the workers when the app exits. Closing the connection
            # also makes a refresh that is still running in its thread end soon.
            poller.close()

    @property
    def viewed_team(self) -> str | None:
        """The name of the team whose team view is open, or None."""
        screen = self.screen_stack[-1] if self.screen_stack else None
        return screen.team_name if isinstance(screen, TeamScreen) else None

    def _diagnosis_due_for(self, name: str, snapshot: TeamSnapshot) -> bool:
        """Return whether to diagnose team ``name`` after the refresh that read ``snapshot``."""
        if self.viewed_team != name:
            return False
        return diagnosis_due(snapshot, self.lessons, self._diagnosed_at.get(name), self.clock())

    def team_opened(self, name: str) -> None:
        """Read team ``name`` now if its team view should show a new diagnosis."""
        if self._diagnosis_due_for(name, self.snapshots[name]):
            self._wake[name].set()

    def on_unmount(self) -> None:
        # A thread still in a refresh ends when that refresh returns; the process waits
        # for it before it exits.
        self._threads.shutdown(wait=False, cancel_futures=True)

    def on_board_app_snapshot_read(self, message: BoardApp.SnapshotRead) -> None:
        snapshot = message.snapshot
        name = snapshot.team.name
        self.snapshots[name] = snapshot
        if snapshot.reach in ("unreachable", "refused"):
            self.down_since.setdefault(name, self.clock())
        else:
            self.down_since.pop(name, None)
        if not failing_checks(snapshot, self.lessons):
            self.diagnoses.pop(name, None)
        self.update_views()

    def on_board_app_diagnosis_read(self, message: BoardApp.DiagnosisRead) -> None:
        name = message.team_name
        # Checks fixed while the diagnosis ran leave nothing to explain.
        if failing_checks(self.snapshots[name], self.lessons):
            self.diagnoses[name] = message.diagnosis
            self.update_views()

    def update_views(self) -> None:
        """Redraw every board screen from the latest snapshots."""
        for screen in self.screen_stack:
            if not isinstance(screen, BoardView):
                continue
            # While the app quits, a timer may fire after a screen lost its widgets;
            # there is nothing left to draw on it then.
            with contextlib.suppress(NoMatches):
                screen.update_view()

    def action_refresh_now(self) -> None:
        """Wake every poller, so each reads its VPS now."""
        for wake in self._wake.values():
            wake.set()
        self.notify("Reading every team's VPS now.", timeout=3)

    def pick_lesson(self, offset: int) -> None:
        """Show the lesson ``offset`` places after the shown one, and stop following the room."""
        shown = self.shown_lesson
        if shown is None:
            return
        if len(self.lessons) == 1:
            self.notify(f"The board has one lesson: “{shown.title}”.", timeout=3)
            return
        ids = [lesson.id for lesson in self.lessons]
        index = ids.index(shown.id) + offset
        if not 0 <= index < len(self.lessons):
            where = "first" if index < 0 else "last"
            self.notify(f"“{shown.title}” is the {where} lesson.", timeout=3)
            return
        self.pinned_lesson = self.lessons[index].id
        self.update_views()

    def follow_room(self) -> None:
        """Show the lesson that most teams have open, from now on."""
        self.pinned_lesson = None
        self.update_views()
