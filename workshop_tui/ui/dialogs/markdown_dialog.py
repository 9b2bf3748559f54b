"""A dialog that shows a piece of lesson Markdown, such as a step's solution."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Markdown

from workshop_tui.ui.dialogs.closable import ClosableDialog


class MarkdownDialog(ClosableDialog):
    """Shows Markdown in a scrollable box; links are not followed."""

    def __init__(self, title: str, markdown: str) -> None:
        super().__init__(title)
        self.markdown = markdown

    def compose_body(self) -> ComposeResult:
        yield Markdown(self.markdown, open_links=False)
