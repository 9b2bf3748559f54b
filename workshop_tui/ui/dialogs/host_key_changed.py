"""The stop sign shown when a server offers a host key other than the trusted one."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class HostKeyChangedDialog(ModalScreen[None]):
    """Explains a changed host key with the core's full message and what to do."""

    CSS_PATH = "dialog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="dialog.close"),
    ]

    def __init__(self, explanation: str) -> None:
        super().__init__(classes="dialog -danger")
        self.explanation = explanation

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static("The server's identity changed", id="title")
            with VerticalScroll(id="body"):
                yield Static(self.explanation, id="explanation", markup=False)
            with Horizontal(id="buttons"):
                yield Button("Close", id="close", variant="error")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
