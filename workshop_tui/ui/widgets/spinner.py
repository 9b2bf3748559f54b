"""A one-cell spinner that shows that something is in progress."""

from __future__ import annotations

from rich.text import Text
from textual.timer import Timer
from textual.widget import Widget

FRAMES = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
"""Braille frames; every terminal font that draws ✓ and ✖ draws these too."""


class Spinner(Widget):
    """A single animated character, ten frames a second while the widget is shown."""

    DEFAULT_CSS = """
    Spinner {
        width: 1;
        height: 1;
        color: $accent;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._frame = 0
        self._timer: Timer | None = None

    def on_mount(self) -> None:
        self._timer = self.set_interval(0.1, self._advance)

    def _advance(self) -> None:
        if self.display:
            self._frame = (self._frame + 1) % len(FRAMES)
            self.refresh()

    def render(self) -> Text:
        return Text(FRAMES[self._frame])
