"""The board's main screen: the grid of teams by steps, and the room summary below it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Static

from workshop_tui.core.board.model import room_summary
from workshop_tui.core.lessons import Lesson
from workshop_tui.ui.board.display import count_label, display_text, team_status
from workshop_tui.ui.board.screens.common import BoardView
from workshop_tui.ui.board.screens.team import TeamScreen
from workshop_tui.ui.board.widgets.grid import TeamGrid
from workshop_tui.ui.board.widgets.summary import RoomSummary, room_text


class BoardScreen(BoardView):
    """Every team's row; Enter opens the team under the cursor."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "j",
            "move(1)",
            "Move",
            key_display="↑↓ j k",
            tooltip="Move the cursor to the next or previous team.",
            id="board.down",
        ),
        Binding("k", "move(-1)", "Up", show=False, id="board.up"),
        Binding(
            "enter",
            "open_team",
            "Team",
            key_display="⏎",
            tooltip="Show the team under the cursor in detail.",
            priority=True,
            id="board.open",
        ),
        Binding(
            "left_square_bracket",
            "pick_lesson(-1)",
            "Lesson",
            key_display="[ ]",
            tooltip="Show the previous or next lesson; the board stops following the room.",
            id="board.previous_lesson",
        ),
        Binding(
            "right_square_bracket",
            "pick_lesson(1)",
            "Next lesson",
            show=False,
            id="board.next_lesson",
        ),
        Binding(
            "f",
            "follow_room",
            "Follow room",
            tooltip="Show the lesson that most teams have open, as it changes.",
            id="board.follow",
        ),
    ]

    def compose(self) -> ComposeResult:
        yield Static(id="heading")
        yield Static(id="legend")
        yield TeamGrid()
        yield RoomSummary(id="summary")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#summary", RoomSummary).border_title = "Room"
        self.update_view()
        self.query_one(TeamGrid).focus()

    def update_view(self) -> None:
        board = self.board
        lesson = board.shown_lesson
        grid = self.query_one(TeamGrid)
        if not grid.built or grid.lesson_id != (lesson.id if lesson else None):
            grid.show_lesson(lesson, board.roster.teams)
        now = board.clock()
        for team in board.roster.teams:
            snapshot = board.snapshots[team.name]
            status = team_status(
                snapshot,
                now,
                stale_after=board.stale_after,
                down_since=board.down_since.get(team.name),
            )
            grid.show_team(snapshot, lesson, now, status)
        self.query_one("#heading", Static).update(self._heading(lesson))
        self.query_one("#legend", Static).update(self._legend(lesson))
        self._update_summary(lesson)

    def _heading(self, lesson: Lesson | None) -> Text:
        board = self.board
        heading = Text.assemble((board.roster.title, "bold #ffffff"), "   ")
        if lesson is None:
            return heading.append("No lessons to show")
        number = [item.id for item in board.lessons].index(lesson.id) + 1
        heading.append(f"Lesson {number} of {len(board.lessons)}: ")
        heading.append(lesson.title, style="bold #5fd7ff")
        if board.pinned_lesson is None:
            heading.append("   following the room", style="#8a8a8a")
        else:
            heading.append("   picked · f follows the room", style="bold #ffd75f")
        return heading

    def _legend(self, lesson: Lesson | None) -> Text:
        if lesson is None:
            return Text("")
        # Step titles rarely hold variables, but a team's values would not fit here.
        titles = [
            f"{number} {display_text(step.title, {})}"
            for number, step in enumerate(lesson.steps, start=1)
        ]
        return Text.assemble(("Steps  ", "bold"), "  ·  ".join(titles))

    def _update_summary(self, lesson: Lesson | None) -> None:
        board = self.board
        snapshots = [board.snapshots[team.name] for team in board.roster.teams]
        # The team that has waited longest comes first.
        raised = sorted(
            (s.progress.hand_raised_at, s.team.name)
            for s in snapshots
            if s.progress is not None and s.progress.hand_raised_at is not None
        )
        text = room_text(
            room_summary(snapshots, board.lessons),
            board.roster,
            lesson,
            unreachable=[s.team.name for s in snapshots if s.reach == "unreachable"],
            refused=[s.team.name for s in snapshots if s.reach == "refused"],
            connecting=[s.team.name for s in snapshots if s.reach == "connecting"],
            hands=[name for _, name in raised],
        )
        summary = self.query_one("#summary", RoomSummary)
        summary.update(text)
        summary.border_subtitle = count_label(len(snapshots), "team")

    def action_move(self, offset: int) -> None:
        grid = self.query_one(TeamGrid)
        if offset > 0:
            grid.action_cursor_down()
        else:
            grid.action_cursor_up()

    def action_open_team(self) -> None:
        name = self.query_one(TeamGrid).selected_team()
        if name is not None:
            self.app.push_screen(TeamScreen(name))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        # A click on the highlighted row selects it; Enter is handled by the binding.
        event.stop()
        if event.row_key.value is not None:
            self.app.push_screen(TeamScreen(event.row_key.value))

    def action_pick_lesson(self, offset: int) -> None:
        self.board.pick_lesson(offset)

    def action_follow_room(self) -> None:
        self.board.follow_room()
        self.notify("The board follows the lesson that most teams have open.", timeout=3)
