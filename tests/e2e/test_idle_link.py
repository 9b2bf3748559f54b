"""A Wi-Fi drop while the attendee reads a step: the real app reconnects by itself."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from tests.lab.support import lab_skip_reason
from workshop_tui.core.login import TCP_USER_TIMEOUT_MS
from workshop_tui.core.remote import SSH_KEEPALIVE_SECONDS
from workshop_tui.lab import Lab, LabHost

from .terminal import PtyScreen
from .test_cli_postfix import WORKSHOP_TUI, app_environment

pytestmark = pytest.mark.lab

CUT_SECONDS = 45.0
"""Seconds that the link stays down. That is longer than the keepalive limit: TCP gives up
25 s (TCP_USER_TIMEOUT) after an SSH keepalive message, which is sent after 10 s without
traffic. So the connection is certain to break."""

NOTICE_TIMEOUT = 90.0
"""Maximum seconds for the app to show the broken link, with room for a slow machine."""

RECONNECT_TIMEOUT = 120.0
"""Maximum seconds after the link is back for the app to be connected: the longest wait
between two attempts (15 s) plus one attempt that times out (10 s), with room to spare."""


@pytest.fixture(scope="module")
def lab_and_host() -> Iterator[tuple[Lab, LabHost]]:
    """A lab of one fresh host, removed at the end also when a test fails."""
    reason = lab_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    lab = Lab(f"idle-{secrets.token_hex(3)}")
    try:
        yield lab, lab.up(1)[0]
    finally:
        lab.down()


def test_idle_app_reconnects_after_drop(lab_and_host: tuple[Lab, LabHost], tmp_path: Path) -> None:
    assert CUT_SECONDS > SSH_KEEPALIVE_SECONDS + TCP_USER_TIMEOUT_MS / 1000
    lab, host = lab_and_host
    terminal = PtyScreen(
        [WORKSHOP_TUI, "connect", f"{host.user}@{host.address}"],
        app_environment(tmp_path),
        columns=100,
        rows=30,
    )
    try:
        terminal.wait_for("Type the login from your slip")
        terminal.press(host.user_password + "\r")
        terminal.confirm_new_host_key(host.host_keys)
        terminal.wait_for(r"Postfix, your own mail server")
        terminal.press("\x1b[B")  # Postfix is the second lesson, after First steps.
        terminal.press("\r")
        terminal.wait_for(r"Step 1 of")
        # Step 2 has commands and checks: preseeding the installer's answers.
        terminal.press("n")
        terminal.wait_for(r"Step 2 of")
        terminal.wait_for(r"● connected")

        lab.set_link(host.name, False)
        cut_at = time.monotonic()
        terminal.wait_for(r"◌ reconnecting", timeout=NOTICE_TIMEOUT)
        noticed_after = time.monotonic() - cut_at
        assert "● connected" not in terminal.text()
        assert re.search(r"Connection lost\. Reconnecting…", terminal.text())
        terminal.pump(max(0.0, CUT_SECONDS - (time.monotonic() - cut_at)))
        lab.set_link(host.name, True)

        terminal.wait_for(r"● connected", timeout=RECONNECT_TIMEOUT)
        terminal.press("c")
        terminal.wait_for(r"checks failed", timeout=60)
        assert "connect first" not in terminal.text()
        terminal.press("r")
        terminal.wait_for(r"✓ Step done", timeout=120)

        assert host.user_password not in terminal.raw.decode("utf-8", "replace")
        terminal.press("\x11")  # ctrl+q
        terminal.child.expect(pexpect.EOF, timeout=15)
        print(f"broken link shown {noticed_after:.1f} s after the cut")
    finally:
        # Bringing up a link that is up changes nothing, so this is safe after any failure.
        lab.set_link(host.name, True)
        terminal.close()
