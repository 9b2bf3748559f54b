"""The frame that every dialog shares: a titled box, a scrollable body, and buttons."""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

ResultT = TypeVar("ResultT")


class DialogFrame(ModalScreen[ResultT]):
    """A modal box with ``#title``, a ``#body`` that scrolls, and ``#buttons`` below it.

    ``dialog.tcss`` docks the title and the buttons and lets the body scroll in the rest
    of the box, so a long text never pushes the buttons off an 80x24 screen. The arrow
    and page keys scroll the body while a button has the focus.
    """

    CSS_PATH = "dialog.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "scroll_body('up')", "Scroll up", show=False, id="dialog.scroll-up"),
        Binding("down", "scroll_body('down')", "Scroll down", show=False, id="dialog.scroll-down"),
        Binding("pageup", "scroll_body('page_up')", "Page up", show=False, id="dialog.page-up"),
        Binding(
            "pagedown",
            "scroll_body('page_down')",
            "Page down",
            show=False,
            id="dialog.page-down",
        ),
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
                yield from self.compose_buttons()

    def compose_body(self) -> ComposeResult:
        """Yield the widgets inside the scrollable body."""
        raise NotImplementedError

    def compose_buttons(self) -> ComposeResult:
        """Yield the buttons, left to right."""
        raise NotImplementedError

    def action_scroll_body(self, direction: str) -> None:
        body = self.query_one("#body", VerticalScroll)
        if direction == "up":
            body.scroll_up()
        elif direction == "down":
            body.scroll_down()
        elif direction == "page_up":
            body.scroll_page_up()
        elif direction == "page_down":
            body.scroll_page_down()
