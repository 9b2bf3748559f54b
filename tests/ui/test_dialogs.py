"""Every dialog fits an 80x24 terminal: the body scrolls and the buttons stay in view."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import paramiko
import pytest
from textual.app import App
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button

from workshop_tui.core.hostkeys import host_key_changed_message
from workshop_tui.core.login import HostKeyInfo
from workshop_tui.ui.app import QUIT_QUESTION
from workshop_tui.ui.dialogs.confirm import ConfirmDialog
from workshop_tui.ui.dialogs.host_key_changed import HostKeyChangedDialog
from workshop_tui.ui.dialogs.lesson_done import LessonDoneDialog
from workshop_tui.ui.dialogs.markdown_dialog import MarkdownDialog
from workshop_tui.ui.dialogs.new_host_key import NewHostKeyDialog
from workshop_tui.ui.dialogs.unexpected_error import UnexpectedErrorDialog
from workshop_tui.ui.screens.step_text import STOP_QUESTION

from .fakes import FINGERPRINT
from .helpers import screen_text

DialogMaker = Callable[[], ModalScreen[Any]]


def host_key_changed() -> HostKeyChangedDialog:
    """Return the dialog with the core's real message for two stored keys and another one."""
    stored: list[paramiko.PKey] = [paramiko.ECDSAKey.generate(), paramiko.ECDSAKey.generate()]
    offered = paramiko.ECDSAKey.generate()
    return HostKeyChangedDialog(host_key_changed_message("203.0.113.10", 22, stored, offered))


LONG_SOLUTION = "\n\n".join(
    f"{number}. Run `sudo apt-get install postfix` and read what it prints." for number in range(20)
)

DIALOGS: dict[str, DialogMaker] = {
    "host-key-changed": host_key_changed,
    "new-host-key": lambda: NewHostKeyDialog(
        "203.0.113.10", 22, HostKeyInfo("ssh-ed25519", FINGERPRINT, first_use=True)
    ),
    "stop": lambda: ConfirmDialog(
        "Stop the commands?", STOP_QUESTION, confirm="Stop", cancel="Keep running", danger=True
    ),
    "quit": lambda: ConfirmDialog("Quit?", QUIT_QUESTION, confirm="Quit", cancel="Stay"),
    "lesson-done": lambda: LessonDoneDialog("Postfix, your own mail server", 4, 6),
    "solution": lambda: MarkdownDialog("Solution: Install Postfix", LONG_SOLUTION),
    "unexpected-error": lambda: UnexpectedErrorDialog("RuntimeError", "the check tripped " * 60),
}


class DialogHost(App[None]):
    """Shows one dialog over an empty screen."""

    def __init__(self, make_dialog: DialogMaker) -> None:
        super().__init__()
        self.make_dialog = make_dialog

    def on_mount(self) -> None:
        self.push_screen(self.make_dialog())


@pytest.mark.parametrize("name", DIALOGS)
async def test_dialog_buttons_fit_80x24(name: str) -> None:
    app = DialogHost(DIALOGS[name])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        dialog = app.screen
        box = dialog.query_one("#box").region
        assert box.bottom <= 24, box
        buttons = list(dialog.query(Button))
        assert buttons
        text = screen_text(pilot)
        for button in buttons:
            # The whole button, borders included, is inside the box.
            assert box.contains_region(button.region), (button.label, button.region, box)
            assert str(button.label) in text


async def test_long_body_scrolls_by_keys() -> None:
    app = DialogHost(host_key_changed)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        body = app.screen.query_one("#body", VerticalScroll)
        assert body.max_scroll_y > 0
        assert "and connect again." not in screen_text(pilot)
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause()
        text = screen_text(pilot)
        assert "workshop-tui hosts forget 203.0.113.10" in text
        assert "and connect again." in text
        assert "Close" in text
        await pilot.press("up")
        await pilot.pause()
        assert body.scroll_y == body.max_scroll_y - 1
