"""The stop sign shown when a server offers a host key other than the trusted one."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from workshop_tui.ui.dialogs.closable import ClosableDialog


class HostKeyChangedDialog(ClosableDialog):
    """Explains a changed host key with the core's full message and what to do."""

    def __init__(self, explanation: str) -> None:
        super().__init__("The server's identity changed", danger=True)
        self.explanation = explanation

    def compose_body(self) -> ComposeResult:
        yield Static(self.explanation, id="explanation", markup=False)
