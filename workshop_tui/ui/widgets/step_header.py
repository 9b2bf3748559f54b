"""The step screen's top line: lesson, step number and title, login and connection state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Static

LinkState = Literal["connected", "reconnecting", "offline"]

LINK_LABELS: Mapping[LinkState, tuple[str, str]] = {
    "connected": ("● connected", "$success"),
    "reconnecting": ("◌ reconnecting", "$warning"),
    "offline": ("○ offline", "$error"),
}


class StepHeader(Horizontal):
    """Where the attendee is, on the left, and which server and link state, on the right."""

    DEFAULT_CSS = """
    StepHeader { height: 1; background: $panel; padding: 0 1; }
    StepHeader #where { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
    StepHeader #link { width: auto; padding-left: 2; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="where")
        yield Static(id="link")

    def show_step(self, lesson_title: str, number: int, total: int, step_title: str) -> None:
        """Show ``Lesson · Step 3 of 6: Title``."""
        self.query_one("#where", Static).update(
            Content.assemble(
                (lesson_title, "bold"), f" · Step {number} of {total}: ", (step_title, "bold")
            )
        )

    def show_link(self, target: str, state: LinkState) -> None:
        """Show the login target and the connection state in its colour."""
        label, style = LINK_LABELS[state]
        self.query_one("#link", Static).update(Content.assemble(f"{target} ", (label, style)))
