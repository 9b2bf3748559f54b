"""One team in detail: login, reach, lesson and step, failing checks, what the board noticed
about them, and the last output."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from workshop_tui.core.board.model import TeamSnapshot
from workshop_tui.core.lessons import Lesson
from workshop_tui.ui.board.display import (
    CELL_STYLES,
    HAND_STYLE,
    display_text,
    format_duration,
    team_status,
    team_values,
)
from workshop_tui.ui.board.noticed import noticed_text
from workshop_tui.ui.board.screens.common import BoardView

LABEL_WIDTH = 10


def fact(label: str, *value: str | Text | tuple[str, str]) -> Text:
    """Return one ``Label     value`` line of the facts."""
    return Text.assemble((label.ljust(LABEL_WIDTH), "bold #8a8a8a"), *value)


class TeamPanel(VerticalScroll):
    """A framed box of the team view that scrolls with the keys when it has the focus."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "j",
            "scroll_down",
            "Scroll",
            key_display="↑↓ j k",
            tooltip="Scroll the framed box that has the focus.",
            id="team.down",
        ),
        Binding("k", "scroll_up", "Scroll up", show=False, id="team.up"),
        Binding(
            "home",
            "scroll_home",
            "Top/end",
            key_display="Home End",
            tooltip="Show the start or the end of the framed box that has the focus.",
            id="team.home",
        ),
        Binding("end", "scroll_end", "End", show=False, id="team.end"),
    ]

    def follow_if_at_end(self) -> None:
        """Keep the end in view as the content grows, if the box shows its end now.

        Textual 8.2 releases a box's anchor on every scroll request, also on one that
        cannot move, such as j on the last line, and restores it only when a scroll
        moves the box to its end. So the box is anchored again whenever it shows its end.
        """
        if self.is_vertical_scroll_end:
            self.anchor()


class TeamScreen(BoardView):
    """Everything the board read about one team, updated after every refresh.

    The last output opens at its end, where an error usually is, and stays there as new
    output arrives, until the facilitator scrolls up. End follows it again. While checks
    fail, the board diagnoses them on the VPS, and the findings follow the failing checks.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", tooltip="Back to the grid.", id="team.back"),
        Binding(
            "tab",
            "app.focus_next",
            "Other box",
            tooltip="Move the focus between the failing checks and the last output.",
            id="team.other_box",
        ),
    ]

    def __init__(self, team_name: str) -> None:
        super().__init__()
        self.team_name = team_name

    def compose(self) -> ComposeResult:
        yield Static(id="team-name")
        yield Static(id="team-facts")
        with TeamPanel(id="team-failing"):
            yield Static(id="team-failing-text")
        with TeamPanel(id="team-output"):
            yield Static(id="team-output-text")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#team-failing", TeamPanel).border_title = "Failing checks"
        output = self.query_one("#team-output", TeamPanel)
        output.border_title = "Last output"
        self.update_view()
        # Anchored, the box keeps its end in view as the output grows, until the
        # facilitator scrolls up.
        output.anchor()
        output.focus()
        self.board.team_opened(self.team_name)

    def update_view(self) -> None:
        snapshot = self.board.snapshots[self.team_name]
        lesson = self._lesson(snapshot)
        self.query_one("#team-name", Static).update(
            Text.assemble(("Team ", "#8a8a8a"), (self.team_name, "bold #ffffff"))
        )
        self.query_one("#team-facts", Static).update(self._facts(snapshot, lesson))
        self.query_one("#team-failing-text", Static).update(self._failing(snapshot, lesson))
        output = snapshot.last_output.rstrip("\n")
        self.query_one("#team-output", TeamPanel).follow_if_at_end()
        self.query_one("#team-output-text", Static).update(
            Text.from_ansi(output) if output else Text("No output yet.", style="#8a8a8a")
        )

    def _lesson(self, snapshot: TeamSnapshot) -> Lesson | None:
        """Return the lesson of the team's check results, or else the lesson it has open."""
        lesson_id = snapshot.lesson_id or snapshot.current_lesson
        for lesson in self.board.lessons:
            if lesson.id == lesson_id:
                return lesson
        return None

    def _facts(self, snapshot: TeamSnapshot, lesson: Lesson | None) -> Text:
        now = self.board.clock()
        lines = [
            fact("Login", snapshot.team.login.target),
            fact("Partner", snapshot.team.partner or "–"),
            fact("Reach", self._reach_text(snapshot, now)),
            fact("Lesson", self._lesson_text(snapshot, lesson)),
            fact("Step", self._step_text(snapshot, lesson)),
        ]

        time_on_step = snapshot.time_on_step(now)
        if lesson is not None and snapshot.lesson_finished(lesson):
            lines.append(fact("On step", "lesson done"))
        elif time_on_step is not None:
            lines.append(fact("On step", format_duration(time_on_step)))

        progress = snapshot.progress
        if progress is not None and progress.hand_raised_at is not None:
            waited = format_duration(max(0.0, now - progress.hand_raised_at))
            lines.append(fact("Hand", (f"✋ raised {waited} ago", HAND_STYLE)))
        else:
            lines.append(fact("Hand", "not raised"))
        return Text("\n").join(lines)

    def _reach_text(self, snapshot: TeamSnapshot, now: float) -> Text:
        """Return the status with the age of the data, and the problem on a line of its own."""
        board = self.board
        status = team_status(
            snapshot,
            now,
            stale_after=board.stale_after,
            down_since=board.down_since.get(self.team_name),
        )
        reach = Text.assemble(status.text)
        age = snapshot.age(now)
        if status.kind in ("online", "warning") and age is not None:
            reach.append(f", read {format_duration(age)} ago")
        if status.kind == "stale":
            reach.append(f"  no new data for {format_duration(age or 0.0)}")
        if snapshot.problem:
            reach.append(f"\n{'':{LABEL_WIDTH}}{snapshot.problem}", style="#ffd75f")
        return reach

    def _lesson_text(self, snapshot: TeamSnapshot, lesson: Lesson | None) -> str:
        current = snapshot.current_lesson
        if current is None:
            return "none open yet"
        if lesson is None or lesson.id != current:
            return f"{current} (not one of the board's lessons)"
        return f"{lesson.title} ({lesson.id})"

    def _step_text(self, snapshot: TeamSnapshot, lesson: Lesson | None) -> str:
        step = snapshot.current_step(lesson) if lesson else None
        if lesson is None or step is None:
            return "–"
        number = (lesson.step_index(step.id) or 0) + 1
        values = team_values(self.board.roster, snapshot.team, lesson)
        return f"{number} of {len(lesson.steps)}: {display_text(step.title, values)}"

    def _failing(self, snapshot: TeamSnapshot, lesson: Lesson | None) -> Text:
        if lesson is None:
            return Text("No lesson open yet.", style="#8a8a8a")
        failing = snapshot.failing_results(lesson)
        if not failing:
            return Text("✔ No check fails.", style=CELL_STYLES["done"])
        values = team_values(self.board.roster, snapshot.team, lesson)
        lines: list[Text] = []
        for step, result in failing:
            number = (lesson.step_index(step.id) or 0) + 1
            lines.append(
                Text.assemble(
                    ("✖", CELL_STYLES["failing"]),
                    f" Step {number} · ",
                    (display_text(result.check.title, values), "bold"),
                )
            )
            lines.append(Text(f"  {result.reason}", style="bold #ff8787"))
            for line in result.evidence.splitlines():
                lines.append(Text(f"    {line}", style="#b2b2b2"))
        lines.append(Text())
        lines.append(noticed_text(self.board.diagnoses.get(self.team_name), self.board.clock()))
        return Text("\n").join(lines)
