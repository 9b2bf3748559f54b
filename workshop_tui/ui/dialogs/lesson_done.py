"""The dialog at the end of a lesson, with the way back to the lesson list."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button, Static

from workshop_tui.ui.dialogs.frame import DialogFrame


class LessonDoneDialog(DialogFrame[bool]):
    """Returns True to go back to the lesson list, False to stay on the last step."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stay", "Stay here", id="dialog.stay"),
    ]

    def __init__(self, lesson_title: str, passed: int, total: int) -> None:
        super().__init__("Lesson done" if passed == total else "End of the lesson")
        self.lesson_title = lesson_title
        self.passed = passed
        self.total = total

    def compose_body(self) -> ComposeResult:
        if self.passed == self.total:
            text = f"You finished “{self.lesson_title}”: all {self.total} steps are done."
        else:
            open_steps = self.total - self.passed
            text = (
                f"This was the last step of “{self.lesson_title}”. {self.passed} of "
                f"{self.total} steps are done; {open_steps} still wait for their checks. "
                "The lesson list shows where to continue."
            )
        yield Static(text, id="summary", markup=False)

    def compose_buttons(self) -> ComposeResult:
        yield Button("Stay here", id="stay")
        yield Button("Back to lessons", id="lessons", variant="success")

    def on_mount(self) -> None:
        self.query_one("#lessons", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "lessons")

    def action_stay(self) -> None:
        self.dismiss(False)
