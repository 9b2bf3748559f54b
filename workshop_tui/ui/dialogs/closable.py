"""The shared frame of the dialogs that only show something and close."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Button

from workshop_tui.ui.dialogs.frame import DialogFrame


class ClosableDialog(DialogFrame[None]):
    """A titled, scrollable box with one Close button; subclasses fill the body."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="dialog.close"),
    ]

    def compose_buttons(self) -> ComposeResult:
        yield Button("Close", id="close", variant="error" if self.danger else "primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
