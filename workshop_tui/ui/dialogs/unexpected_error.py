"""The dialog for a failure that the app did not expect, such as a bug in a check."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from workshop_tui.ui.dialogs.closable import ClosableDialog

REPORT_HINT = (
    "The app keeps running: close this box and try again. If it happens again, show "
    "this message to a facilitator so it can be fixed."
)


class UnexpectedErrorDialog(ClosableDialog):
    """Shows an error's type and message, already stripped of any password."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__("Something went wrong", danger=True)
        self.error_type = error_type
        self.message = message

    def compose_body(self) -> ComposeResult:
        yield Static(f"{self.error_type}: {self.message}", id="error", markup=False)
        yield Static(REPORT_HINT, id="report-hint")
