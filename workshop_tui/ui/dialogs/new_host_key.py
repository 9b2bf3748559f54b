"""The question before the first login to a server: trust the key that it showed?"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import Button, Static

from workshop_tui.core.login import HostKeyInfo
from workshop_tui.ui.dialogs.frame import DialogFrame


def first_connection_text(host: str) -> str:
    """Return the explanation of host keys for attendees who are new to SSH."""
    return (
        f"This is the first time this computer connects to {host}. Servers prove who "
        "they are with a key. If your slip shows a fingerprint, check that it matches."
    )


class NewHostKeyDialog(DialogFrame[bool]):
    """Shows a new server's host key; returns True to trust it and log in, False to cancel.

    "Trust and connect" has the focus, so Enter trusts the key and Escape cancels.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", "Cancel", id="dialog.cancel"),
    ]

    def __init__(self, host: str, port: int, key: HostKeyInfo) -> None:
        super().__init__("New server: check its key")
        self.host = host
        self.port = port
        self.key = key

    def compose_body(self) -> ComposeResult:
        yield Static(first_connection_text(self.host), id="explanation", markup=False)
        facts = (
            ("Server", f"{self.host}, port {self.port}"),
            ("Key type", self.key.key_type),
            ("Fingerprint", self.key.fingerprint),
        )
        lines = [Content.assemble((f"{label:>12}: ", "bold"), value) for label, value in facts]
        yield Static(Content("\n").join(lines), id="key-facts")

    def compose_buttons(self) -> ComposeResult:
        yield Button("Cancel", id="cancel")
        yield Button("Trust and connect", id="trust", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#trust", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "trust")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)
