"""Formatting for the board: symbols, colours, durations and check titles.

These functions turn core data into rich ``Text`` for the grid and the panels. They
keep no state, so tests can check each of them without running the app.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.text import Text

from workshop_tui.core.board.model import CellState, FailingCheck, TeamSnapshot
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.roster import Roster, Team, team_variables
from workshop_tui.core.variables import PLACEHOLDER

SYMBOLS: Mapping[CellState, str] = {
    "done": "✔",
    "current": "▶",
    "failing": "✖",
    "not_started": "·",
}
"""The symbol of each cell state. The symbols differ in shape, so the grid reads without colour."""

CELL_STYLES: Mapping[CellState, str] = {
    "done": "bold #5fff87",
    "current": "bold #5fd7ff",
    "failing": "bold #ffffff on #d70000",
    "not_started": "#8a8a8a",
}
"""Bright colours that stay distinct on a projector. A failing cell is a solid red block."""

DIMMED = "#6c6c6c"
"""The colour of every cell of a team whose VPS cannot be read, so old data looks old."""

StatusKind = Literal["online", "warning", "connecting", "stale", "unreachable", "refused"]

STATUS_STYLES: Mapping[StatusKind, str] = {
    "online": "#5fff87",
    "warning": "bold #ffd75f",
    "connecting": "#8a8a8a",
    "stale": "bold #ffd75f",
    "unreachable": "bold #000000 on #ffaf00",
    "refused": "bold #ffffff on #af5fff",
}

HAND_STYLE = "bold #ffd75f"


def format_duration(seconds: float) -> str:
    """Return ``m:ss`` under an hour and ``h:mm h`` from an hour on, e.g. ``4:07``, ``1:05 h``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, seconds_left = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d} h"
    return f"{minutes}:{seconds_left:02d}"


def display_text(text: str, values: Mapping[str, str]) -> str:
    """Return lesson text with each ``{{ name }}`` replaced by its value, or by the bare name.

    The board does not know every value (``domain`` comes from the VPS), and raw braces
    would puzzle the room, so an unknown variable is shown by its name alone.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        return values.get(name, name)

    rendered = PLACEHOLDER.sub(replace, text)
    return rendered.replace("{{", "").replace("}}", "")


def room_lesson(snapshots: Iterable[TeamSnapshot], lessons: Sequence[Lesson]) -> Lesson | None:
    """Return the lesson that most teams have open; a tie goes to the earlier lesson.

    Returns the first lesson when no team has one of ``lessons`` open, and None when
    there are no lessons.
    """
    if not lessons:
        return None
    order = {lesson.id: index for index, lesson in enumerate(lessons)}
    counts = Counter(
        snapshot.current_lesson for snapshot in snapshots if snapshot.current_lesson in order
    )
    if not counts:
        return lessons[0]
    best = min(counts, key=lambda lesson_id: (-counts[lesson_id], order[str(lesson_id)]))
    return lessons[order[str(best)]]


def cell_text(state: CellState, *, dimmed: bool) -> Text:
    """Return the grid cell of one step: its symbol in the state's colour, or dimmed."""
    return Text(SYMBOLS[state], style=DIMMED if dimmed else CELL_STYLES[state])


@dataclass(frozen=True)
class Status:
    """The text of the status column for one team, and its style."""

    kind: StatusKind

    label: str

    @property
    def text(self) -> Text:
        return Text(self.label, style=STATUS_STYLES[self.kind])


def team_status(
    snapshot: TeamSnapshot, now: float, *, stale_after: float, down_since: float | None
) -> Status:
    """Return the status of one team: online, connecting, stale, unreachable or refused.

    An online team with a problem, such as checks that sudo did not run, gets the kind
    ``warning`` and the label ``online ⚠``. The team view shows the problem itself.

    Args:
        snapshot: The team's latest snapshot.
        now: The current time in epoch seconds.
        stale_after: Seconds after which data that was read is called stale.
        down_since: When the board first failed to read the VPS in a row of failures,
            in epoch seconds; None while it can read it. An unreachable or refused
            team's time counts from its last good read, and from ``down_since`` only
            when the VPS was never read, so the time keeps growing when a stale
            team's next read fails.
    """
    if snapshot.reach in ("unreachable", "refused"):
        # A space on each side, because these labels are coloured blocks.
        label = snapshot.reach.upper()
        since = snapshot.polled_at if snapshot.polled_at is not None else down_since
        if since is not None:
            label += f" {format_duration(max(0.0, now - since))}"
        return Status(snapshot.reach, f" {label} ")
    if snapshot.reach == "connecting" and snapshot.polled_at is None:
        return Status("connecting", "connecting…")
    age = snapshot.age(now)
    if snapshot.is_stale(now, stale_after):
        return Status("stale", f"STALE {format_duration(age or 0.0)}")
    if snapshot.problem:
        return Status("warning", "online ⚠")
    return Status("online", "online")


def hand_text(snapshot: TeamSnapshot, now: float) -> Text:
    """Return ``✋ 2:10`` (how long the hand is up) or nothing when no hand is raised."""
    progress = snapshot.progress
    if progress is None or progress.hand_raised_at is None:
        return Text("")
    waited = format_duration(max(0.0, now - progress.hand_raised_at))
    return Text(f"✋ {waited}", style=HAND_STYLE)


def count_label(number: int, noun: str) -> str:
    """Return ``1 team`` or ``3 teams``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def team_values(roster: Roster, team: Team, lesson: Lesson | None) -> dict[str, str]:
    """Return the lesson variables that the board has values for, to fill in check titles.

    The values come from the login, the lesson's defaults and the roster. The VPS's host
    name and mail domain are only read on the VPS, so they have no value here.
    """
    login = team.login
    values = {"user": login.user, "host": login.host, "port": str(login.port)}
    if lesson is not None:
        values.update(
            {name: value for name, value in lesson.variables.items() if value is not None}
        )
    values.update(team_variables(roster, team))
    return values


def room_title(failing: FailingCheck, roster: Roster) -> str:
    """Return a failing check's title as all its teams would read it.

    When the teams' values differ, such as their user names, each variable is shown by
    its name.
    """
    titles = {
        display_text(failing.title, team_values(roster, roster.team(name), failing.lesson))
        for name in failing.teams
    }
    return titles.pop() if len(titles) == 1 else display_text(failing.title, {})
