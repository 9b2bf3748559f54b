"""The Postfix lesson through the real command line in a pseudo-terminal, key by key."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from workshop_tui.core.lessons import Catalog
from workshop_tui.lab import LabHost

from .terminal import PtyScreen

pytestmark = pytest.mark.lab

WORKSHOP_TUI = str(Path(sys.executable).with_name("workshop-tui"))


def app_environment(data_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(data_dir),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "WORKSHOP_TUI_DATA_DIR": str(data_dir),
    }


def use_terminal(terminal: PtyScreen, host: LabHost) -> None:
    """Open the real shell with `t`, read the mailbox there, and come back with `exit`."""
    terminal.press("t")
    terminal.wait_for(rf"{host.user}@{host.name}:~\$")
    terminal.press("grep Subject: /var/mail/$USER\r")
    terminal.wait_for(r"Subject: My first mail")
    terminal.press("exit\r")
    terminal.wait_for(r"Back from the shell")


def test_attendee_completes_lesson_with_keys(
    lab_hosts: list[LabHost], catalog: Catalog, tmp_path: Path
) -> None:
    host = lab_hosts[0]
    lesson = catalog.get("postfix")
    assert lesson is not None
    total = len(lesson.steps)
    terminal = PtyScreen(
        [WORKSHOP_TUI, "connect", f"{host.user}@{host.address}"],
        app_environment(tmp_path),
        columns=100,
        rows=30,
    )
    try:
        terminal.wait_for("Type the login from your slip")
        terminal.press(host.user_password + "\r")
        # The data directory is new, so the app asks about the host's key first.
        terminal.confirm_new_host_key(host.host_keys)
        terminal.wait_for(r"Postfix, your own mail server")
        terminal.press("\x1b[B")  # Postfix is the second lesson, after First steps.
        terminal.press("\r")
        for number, step in enumerate(lesson.steps, start=1):
            terminal.wait_for(rf"Step {number} of {total}")
            if step.commands:
                terminal.press("r")
                terminal.wait_for(r"✓ Step done", timeout=300)
            elif step.checks:
                terminal.press("c")
                terminal.wait_for(r"✓ Step done", timeout=60)
            if step.id == "send-your-first-mail":
                use_terminal(terminal, host)
                terminal.wait_for(rf"Step {number} of {total}")
            terminal.press("n")
        terminal.wait_for(r"Lesson done")
        terminal.wait_for(rf"all {total} steps are done")
        assert host.user_password not in terminal.raw.decode("utf-8", "replace")
        terminal.press("\r")
        terminal.wait_for(rf"{total}/{total}|✓ done")
        terminal.press("\x11")  # ctrl+q
        terminal.child.expect(pytest.importorskip("pexpect").EOF, timeout=15)
    finally:
        terminal.close()

    progress = (tmp_path / "progress.json").read_text(encoding="utf-8")
    assert host.user_password not in progress
    assert '"install-postfix": "passed"' in progress
