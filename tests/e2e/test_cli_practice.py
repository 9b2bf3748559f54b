"""`workshop-tui practice`: one command from nothing to the lesson list on a lab host."""

from __future__ import annotations

import secrets
from pathlib import Path

import pexpect
import pytest

from tests.lab.support import lab_skip_reason
from workshop_tui.lab import Lab

from .terminal import PtyScreen
from .test_cli_postfix import WORKSHOP_TUI, app_environment

pytestmark = pytest.mark.lab


def test_practice_opens_lessons_on_lab_host(tmp_path: Path) -> None:
    reason = lab_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    name = f"e2e-{secrets.token_hex(3)}"
    terminal = PtyScreen([WORKSHOP_TUI, "practice", "--name", name], app_environment(tmp_path))
    try:
        terminal.wait_for(r"Press Enter to open the lessons", timeout=600)
        assert "PASSWORD" in terminal.text()
        assert "lab status --name" in terminal.text()
        terminal.press("\r")
        terminal.wait_for(r"Postfix, your own mail server")
        screen = terminal.text()
        assert "learner@" in screen
        terminal.press("\x11")  # ctrl+q
        terminal.child.expect(pexpect.EOF, timeout=15)
        # The lab's host keys were pinned, so the app never had to trust one on first use.
        assert "New server" not in terminal.raw.decode("utf-8", "replace")
        assert (tmp_path / "known_hosts").read_text(encoding="utf-8").strip()
    finally:
        terminal.close()
        Lab(name).down()
