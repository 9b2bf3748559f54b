"""A lost link during a run or a check: reconnecting with growing waits, then resuming."""

from __future__ import annotations

import threading

from textual.message import Message
from textual.widgets import Static

from workshop_tui.core.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HostKeyChanged,
    HostUnreachable,
)
from workshop_tui.core.session import OutputChunk
from workshop_tui.ui.app import WorkshopApp
from workshop_tui.ui.dialogs.host_key_changed import HostKeyChangedDialog
from workshop_tui.ui.screens.step import StepScreen
from workshop_tui.ui.widgets.output_log import OutputLog
from workshop_tui.ui.widgets.reconnector import Reconnector, wait_before_retry
from workshop_tui.ui.widgets.step_runner import StepRunner

from .conftest import AppMaker
from .fakes import FakeSession, RunPlan, connect_report
from .helpers import log_text, open_step_screen, phase_of, screen_text, settle, static_text
from .test_step_screen import start_at

LINES = [f"line {number}\n" for number in range(1, 7)]


def link_state(app: WorkshopApp) -> str:
    """Return the app's connection state; a function, so mypy does not narrow the value."""
    return app.link_state


def unique(messages: list[Message], kind: type[Message]) -> list[Message]:
    """Return each message of ``kind`` once, although the message hook receives it at every node."""
    return list(dict.fromkeys(m for m in messages if isinstance(m, kind)))


async def test_lost_run_resumes_once(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(
        chunks=[OutputChunk("stdout", line) for line in LINES], lose_link_after=3
    )
    session.connect_outcomes.extend(
        [connect_report(), HostUnreachable("No route to 203.0.113.10."), connect_report()]
    )
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        await pilot.press("r")
        await settle(pilot)

        output = log_text(screen.query_one("#output", OutputLog))
        for line in LINES:
            assert output.count(line.strip()) == 1, output
        assert output.index("line 3") < output.index("connection lost") < output.index("line 4")
        assert session.calls.count("run_step:install-postfix") == 2
        assert session.calls.count("connect") == 3
        assert session.calls[-2:] == [
            "check_step:install-postfix",
            "set_step_state:install-postfix:passed",
        ]
        assert link_state(app) == "connected"
        assert "● connected" in screen_text(pilot)
        assert len(unique(messages, StepRunner.LinkLost)) == 1
        failed_attempts = unique(messages, Reconnector.AttemptFailed)
        assert [m.attempt for m in failed_attempts if isinstance(m, Reconnector.AttemptFailed)] == [
            1
        ]
        assert len(unique(messages, Reconnector.Reconnected)) == 1


async def test_lost_link_shows_reconnecting(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(
        chunks=[OutputChunk("stdout", line) for line in LINES], lose_link_after=1
    )
    # Every reconnect attempt fails until the attendee stops the retries.
    session.connect_outcomes.extend(
        [connect_report()] + [HostUnreachable("No route to 203.0.113.10.")] * 1000
    )
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        for _ in range(50):
            await pilot.pause(0.02)
            if session.calls.count("connect") >= 3:
                break
        assert phase_of(screen) == "reconnecting"
        assert link_state(app) == "reconnecting"
        status = static_text(screen.query_one("#status", Static))
        assert status.startswith(
            "Connection lost — your commands keep running on the server. Reconnecting…"
        )
        assert "◌ reconnecting" in screen_text(pilot)

        await pilot.press("x")
        await settle(pilot)
        assert phase_of(screen) == "idle"
        assert link_state(app) == "offline"
        assert "○ offline" in screen_text(pilot)
        attempts = session.calls.count("connect")
        await pilot.pause(0.1)
        assert session.calls.count("connect") == attempts

        # Run while offline reconnects first, then follows the same run.
        session.connect_outcomes.clear()
        await pilot.press("r")
        await settle(pilot)
        assert link_state(app) == "connected"
        output = log_text(screen.query_one("#output", OutputLog))
        assert all(output.count(line.strip()) == 1 for line in LINES)


async def test_lost_check_is_repeated(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(ConnectionLost("the connection dropped"))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert session.calls[-4:] == [
            "check_step:install-postfix",
            "connect",
            "check_step:install-postfix",
            "set_step_state:install-postfix:passed",
        ]
        assert "✓ Step done." in screen_text(pilot)


async def test_wrong_password_stops_retrying(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(ConnectionLost("the connection dropped"))
    session.connect_outcomes.extend(
        [connect_report(), AuthenticationFailed("The server rejected the password for root.")]
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("c")
        await settle(pilot)
        assert session.calls.count("connect") == 2
        assert link_state(app) == "offline"
        status = static_text(screen.query_one("#status", Static))
        assert status == "✖ Reconnecting stopped: The server rejected the password for root."


async def test_changed_key_on_reconnect(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(ConnectionLost("the connection dropped"))
    session.connect_outcomes.extend(
        [connect_report(), HostKeyChanged("The SSH host key of 203.0.113.10 changed.")]
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, HostKeyChangedDialog)
        assert session.calls.count("connect") == 2


async def test_step_change_ends_reconnect(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(
        chunks=[OutputChunk("stdout", line) for line in LINES], lose_link_after=3
    )
    reconnect = threading.Event()
    session.reconnect_gate = reconnect
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        for _ in range(100):
            await pilot.pause(0.01)
            if phase_of(screen) == "reconnecting":
                break
        assert phase_of(screen) == "reconnecting"

        # Moving on stops reconnecting, so the lost run is not resumed on another step.
        await pilot.press("n")
        reconnect.set()
        await settle(pilot)
        assert screen.index == 2
        assert phase_of(screen) == "idle"
        assert link_state(app) == "offline"
        assert [call for call in session.calls if call.startswith("run_step")] == [
            "run_step:install-postfix"
        ]
        assert not [call for call in session.calls if call.startswith("check_step")]


def test_retry_waits_grow_then_repeat() -> None:
    delays = (1, 2, 4, 8, 15)
    assert [wait_before_retry(delays, attempt) for attempt in range(1, 8)] == [
        1, 2, 4, 8, 15, 15, 15,
    ]  # fmt: skip


async def test_reconnect_asks_no_key_question(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(
        chunks=[OutputChunk("stdout", line) for line in LINES], lose_link_after=3
    )
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        # The key counts as new again, as if its entry had been removed since the login.
        # Nobody may be at the keyboard after a lost link, so the reconnect does not ask.
        session.first_use = True
        await pilot.press("r")
        await settle(pilot)
        assert session.calls.count("connect") == 2
        assert session.key_answers == []
        assert app.screen is screen
        assert link_state(app) == "connected"
        assert "line 6" in log_text(screen.query_one(OutputLog))
