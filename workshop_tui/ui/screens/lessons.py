"""The lesson list: every lesson with its progress, and where to continue."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Footer, ListItem, ListView, Static

from workshop_tui.core.lessons import Catalog, Lesson
from workshop_tui.ui.progress_view import LessonStatus, lesson_status
from workshop_tui.ui.screens.base import WorkshopScreen
from workshop_tui.ui.session_api import AttendeeSession
from workshop_tui.ui.widgets.step_header import LINK_LABELS, LinkState


def describe_lesson(number: int, lesson: Lesson, status: LessonStatus) -> Content:
    """Return the lines shown for one lesson in the list."""
    if status.total and status.finished:
        state = Content.from_markup("[$success]✓ done[/]")
    else:
        state = Content(f"{status.passed}/{status.total} steps")
    lines = [
        Content.assemble((f"{number}. {lesson.title}", "bold"), "  ", state),
        Content(lesson.summary),
    ]
    if status.missing_requirements:
        names = ", ".join(f"“{title}”" for title in status.missing_requirements)
        lines.append(Content.assemble(("⚠ ", "$warning"), f"Best done after {names}."))
    if status.total and not status.finished:
        step = lesson.steps[status.resume_index]
        verb = "Continue with" if status.passed or status.resume_index else "Start with"
        lines.append(
            Content(f"→ {verb} step {status.resume_index + 1}: {step.title}").stylize("dim")
        )
    return Content("\n").join(lines)


class LessonItem(ListItem):
    """One lesson in the list."""

    def __init__(self, lesson: Lesson) -> None:
        super().__init__()
        self.lesson = lesson

    def compose(self) -> ComposeResult:
        yield Static(classes="lesson-text")


class LessonListScreen(WorkshopScreen):
    """Lists the catalog's lessons; Enter opens one at the step where the attendee left off."""

    CSS_PATH = "lessons.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "open_lesson",
            "Open",
            tooltip="Open the highlighted lesson at the step where you left off.",
            priority=True,
            id="lessons.open",
        ),
        Binding(
            "t",
            "app.open_terminal",
            "Terminal",
            tooltip="Open a shell on your server; type exit to come back.",
            id="lessons.terminal",
        ),
        Binding("ctrl+q", "app.quit", "Quit", priority=True, id="lessons.quit"),
    ]

    def __init__(self, catalog: Catalog, session: AttendeeSession) -> None:
        super().__init__()
        self.catalog = catalog
        self.session = session

    def compose(self) -> ComposeResult:
        yield Static(id="heading")
        yield ListView(*(LessonItem(lesson) for lesson in self.catalog), id="lesson-list")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.watch(self.workshop, "link_state", self._show_heading)
        self.refresh_progress()
        lessons = list(self.catalog)
        current = self.session.progress.current_lesson
        list_view = self.query_one(ListView)
        for index, lesson in enumerate(lessons):
            if lesson.id == current:
                list_view.index = index
        list_view.focus()

    def _show_heading(self, state: LinkState) -> None:
        # The app also reconnects after a lost link while this screen is in front.
        label, style = LINK_LABELS[state]
        self.query_one("#heading", Static).update(
            Content.assemble(
                ("Lessons", "bold"),
                f" for {self.session.login.target} · Enter opens a lesson  ",
                (label, style),
            )
        )

    def on_screen_resume(self) -> None:
        self.refresh_progress()
        self._highlight_next_unfinished()

    def _highlight_next_unfinished(self) -> None:
        """Move from a lesson the attendee just finished to the next unfinished one."""
        list_view = self.query_one(ListView)
        lessons = list(self.catalog)
        index = list_view.index
        if index is None or not self._finished(lessons[index]):
            return
        for later in range(index + 1, len(lessons)):
            if not self._finished(lessons[later]):
                list_view.index = later
                return

    def _finished(self, lesson: Lesson) -> bool:
        status = lesson_status(lesson, self.catalog, self.session.progress)
        return status.total > 0 and status.finished

    def refresh_progress(self) -> None:
        """Redraw every lesson's progress from the session's saved state."""
        for number, item in enumerate(self.query(LessonItem), start=1):
            status = lesson_status(item.lesson, self.catalog, self.session.progress)
            item.query_one(".lesson-text", Static).update(
                describe_lesson(number, item.lesson, status)
            )
            item.set_class(status.total > 0 and status.finished, "-finished")

    def on_list_view_selected(self, event: ListView.Selected) -> None:
        event.stop()
        if isinstance(event.item, LessonItem):
            self.workshop.open_lesson(event.item.lesson)

    def action_open_lesson(self) -> None:
        item = self.query_one(ListView).highlighted_child
        if isinstance(item, LessonItem):
            self.workshop.open_lesson(item.lesson)
