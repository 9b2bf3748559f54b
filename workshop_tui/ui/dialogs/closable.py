"""The shared frame of the dialogs that only show something and close."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ClosableDialog(ModalScreen[None]):
    """A titled, scrollable box with one Close button; subclasses fill the body."""

    CSS_PATH = "dialog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="dialog.close"),
    ]

    def __init__(self, title: str, *, danger: bool = False) -> None:
        super().__init__(classes="dialog -danger" if danger else "dialog")
        self.title_text = title
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static(self.title_text, id="title", markup=False)
            with VerticalScroll(id="body"):
                yield from self.compose_body()
            with Horizontal(id="buttons"):
                yield Button("Close", id="close", variant="error" if self.danger else "primary")

    def compose_body(self) -> ComposeResult:
        """Yield the widgets inside the scrollable body."""
        raise NotImplementedError

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
