"""The grid of the board: one row per team, one column per step of the shown lesson."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from workshop_tui.core.board.model import TeamSnapshot
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.roster import Team
from workshop_tui.ui.board.display import DIMMED, Status, cell_text, format_duration, hand_text

TEAM_WIDTH = 14
LESSON_WIDTH = 12
TIME_WIDTH = 7
HAND_WIDTH = 7
STATUS_WIDTH = 18
"""Wide enough for `` UNREACHABLE 12:34 ``; longer outages switch to ``h:mm h``, which
the column cuts."""

ROW_HEIGHT = 2
"""Lines per team: the row and an empty line, so rows stay apart on a projector."""


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class TeamGrid(DataTable[Text]):
    """Teams by steps. Up and down move the cursor; Enter selects the team under it."""

    def __init__(self) -> None:
        # The cells' own colours win over the cursor's, so the highlighted team's steps
        # keep their colours.
        super().__init__(
            cursor_type="row",
            zebra_stripes=False,
            cursor_foreground_priority="renderable",
            cursor_background_priority="renderable",
            id="grid",
        )
        self.lesson_id: str | None = None
        """The lesson whose steps are the columns now."""

        self.built = False

    def show_lesson(self, lesson: Lesson | None, teams: Sequence[Team]) -> None:
        """Rebuild the columns for the steps of ``lesson`` and one row per team."""
        row = self.cursor_row
        self.clear(columns=True)
        self.add_column(Text("Team"), key="team", width=TEAM_WIDTH)
        self.add_column(Text("Lesson"), key="lesson", width=LESSON_WIDTH)
        for number, step in enumerate(lesson.steps if lesson else (), start=1):
            label = str(number)
            self.add_column(Text(label), key=f"step:{step.id}", width=len(label))
        self.add_column(Text("On step"), key="time", width=TIME_WIDTH)
        self.add_column(Text("Hand"), key="hand", width=HAND_WIDTH)
        self.add_column(Text("Status"), key="status", width=STATUS_WIDTH)
        for team in teams:
            cells = [Text("") for _ in self.columns]
            self.add_row(*cells, key=team.name, height=ROW_HEIGHT)
        if teams:
            self.move_cursor(row=min(max(row, 0), len(teams) - 1), animate=False)
        self.lesson_id = lesson.id if lesson else None
        self.built = True

    def show_team(
        self, snapshot: TeamSnapshot, lesson: Lesson | None, now: float, status: Status
    ) -> None:
        """Update the row of ``snapshot``'s team."""
        name = snapshot.team.name
        dimmed = snapshot.reach in ("unreachable", "refused")
        cells: dict[str, Text] = {
            "team": Text(_cut(name, TEAM_WIDTH), style="bold"),
            "lesson": Text(_cut(snapshot.current_lesson or "–", LESSON_WIDTH)),
            "hand": hand_text(snapshot, now),
            "status": status.text,
        }
        time_on_step = snapshot.time_on_step(now)
        if lesson is not None and snapshot.lesson_finished(lesson):
            # The attendee stays on the last step of a finished lesson; no clock runs.
            cells["time"] = Text("done")
        else:
            cells["time"] = Text(format_duration(time_on_step) if time_on_step is not None else "")
        if lesson is not None:
            for step in lesson.steps:
                cells[f"step:{step.id}"] = cell_text(snapshot.cell(lesson, step), dimmed=dimmed)
        if dimmed:
            for key in ("lesson", "time"):
                cells[key].stylize(DIMMED)
        for key, value in cells.items():
            self.update_cell(name, key, value)

    def selected_team(self) -> str | None:
        """Return the name of the team under the cursor, or None when there are no rows."""
        if not self.row_count:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
