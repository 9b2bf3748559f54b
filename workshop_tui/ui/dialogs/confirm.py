"""A yes/no question, such as whether to reveal a step's solution."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmDialog(ModalScreen[bool]):
    """Asks a question and returns True for the confirming button, False otherwise.

    The cancelling button has the focus, so Enter and Escape both cancel. With
    ``danger``, the box and the confirming button are red, for an action that can do harm.
    """

    CSS_PATH = "dialog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", "Cancel", id="dialog.cancel"),
    ]

    def __init__(
        self, title: str, question: str, *, confirm: str, cancel: str, danger: bool = False
    ) -> None:
        super().__init__(classes="dialog -danger" if danger else "dialog")
        self.danger = danger
        self.title_text = title
        self.question = question
        self.confirm_label = confirm
        self.cancel_label = cancel

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static(self.title_text, id="title", markup=False)
            yield Static(self.question, id="body", markup=False)
            with Horizontal(id="buttons"):
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
