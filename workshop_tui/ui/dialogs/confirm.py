"""A yes/no question, such as whether to reveal a step's solution."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button, Static

from workshop_tui.ui.dialogs.frame import DialogFrame


class ConfirmDialog(DialogFrame[bool]):
    """Asks a question and returns True for the confirming button, False otherwise.

    The cancelling button has the focus, so Enter and Escape both cancel. With
    ``danger``, the box and the confirming button are red, for an action that can do harm.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", "Cancel", id="dialog.cancel"),
    ]

    def __init__(
        self, title: str, question: str, *, confirm: str, cancel: str, danger: bool = False
    ) -> None:
        super().__init__(title, danger=danger)
        self.question = question
        self.confirm_label = confirm
        self.cancel_label = cancel

    def compose_body(self) -> ComposeResult:
        yield Static(self.question, id="question", markup=False)

    def compose_buttons(self) -> ComposeResult:
        yield Button(self.cancel_label, id="cancel")
        yield Button(
            self.confirm_label, id="confirm", variant="error" if self.danger else "primary"
        )

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
