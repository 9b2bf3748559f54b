"""The dialog for a failure that the app did not expect, such as a bug in a check."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

REPORT_HINT = (
    "The app keeps running: close this box and try again. If it happens again, show "
    "this message to a facilitator so it can be fixed."
)


class UnexpectedErrorDialog(ModalScreen[None]):
    """Shows an error's type and message, already stripped of any password."""

    CSS_PATH = "dialog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="dialog.close"),
    ]

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(classes="dialog -danger")
        self.error_type = error_type
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static("Something went wrong", id="title")
            with VerticalScroll(id="body"):
                yield Static(f"{self.error_type}: {self.message}", id="error", markup=False)
                yield Static(REPORT_HINT, id="report-hint")
            with Horizontal(id="buttons"):
                yield Button("Close", id="close", variant="error")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
