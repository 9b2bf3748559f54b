"""A link that broke while nothing ran: noticed by the app, shown, and reconnected by itself."""

from __future__ import annotations

import threading

from textual.message import Message
from textual.notifications import Notify
from textual.pilot import Pilot
from textual.widgets import Static

from workshop_tui.core.errors import AuthenticationFailed, HostUnreachable
from workshop_tui.ui.app import WorkshopApp
from workshop_tui.ui.screens.lessons import LessonListScreen
from workshop_tui.ui.screens.step import StepScreen
from workshop_tui.ui.widgets.reconnector import Reconnector
from workshop_tui.ui.widgets.step_header import StepHeader

from .conftest import AppMaker
from .fakes import FakeSession, first_fails
from .helpers import open_step_screen, phase_of, screen_text, settle, static_text
from .test_step_screen import start_at

WATCH_SECONDS = 0.02
"""Seconds between two checks of the link in these tests."""

NEVER = 3600.0
"""A check interval so long that the app never checks the link during a test."""


def link_state(app: WorkshopApp) -> str:
    """Return the app's connection state; a function, so mypy does not narrow the value."""
    return app.link_state


async def wait_for_link_state(pilot: Pilot[None], app: WorkshopApp, state: str) -> None:
    """Let the app run until its link state is ``state``, for at most about five seconds."""
    for _ in range(500):
        if link_state(app) == state:
            return
        await pilot.pause(0.01)


def status_of(screen: StepScreen) -> str:
    return static_text(screen.query_one("#status", Static))


def header_link(screen: StepScreen) -> str:
    return static_text(screen.query_one(StepHeader).query_one("#link", Static))


async def test_check_on_dead_link_reconnects(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app(link_check_seconds=NEVER)
    async with open_step_screen(app) as (pilot, screen):
        # The app still shows the link as connected, so the check finds it broken.
        session.link_open = False
        await pilot.press("c")
        await settle(pilot)
        assert session.calls[-4:] == [
            "check_step:install-postfix",
            "connect",
            "check_step:install-postfix",
            "set_step_state:install-postfix:passed",
        ]
        assert link_state(app) == "connected"
        assert status_of(screen).startswith("✓ Step done.")
        assert "not connected" not in screen_text(pilot)


async def test_run_on_dead_link_reconnects(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app(link_check_seconds=NEVER)
    async with open_step_screen(app) as (pilot, screen):
        session.link_open = False
        await pilot.press("r")
        await settle(pilot)
        assert session.calls.count("run_step:install-postfix") == 2
        assert session.calls.count("connect") == 2
        assert session.calls[-2:] == [
            "check_step:install-postfix",
            "set_step_state:install-postfix:passed",
        ]
        assert link_state(app) == "connected"
        assert status_of(screen).startswith("✓ Step done.")


async def test_idle_watcher_reconnects(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(first_fails)
    app = make_app(link_check_seconds=WATCH_SECONDS)
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        failed_status = status_of(screen)
        assert failed_status.startswith("✖ 1 of 2 checks failed.")

        # The next login waits for the gate, so the test can observe the reconnecting state.
        gate = threading.Event()
        session.reconnect_gate = gate
        session.link_open = False
        await wait_for_link_state(pilot, app, "reconnecting")
        await pilot.pause()
        assert link_state(app) == "reconnecting"
        assert phase_of(screen) == "reconnecting"
        assert header_link(screen).endswith("◌ reconnecting")
        assert status_of(screen).startswith("Connection lost. Reconnecting…")
        assert "x Stop" in screen_text(pilot).splitlines()[-1]

        gate.set()
        await settle(pilot)
        assert link_state(app) == "connected"
        assert phase_of(screen) == "idle"
        assert header_link(screen).endswith("● connected")
        assert status_of(screen) == failed_status
        assert session.calls.count("connect") == 2

        await pilot.press("c")
        await settle(pilot)
        assert session.calls[-2:] == [
            "check_step:install-postfix",
            "set_step_state:install-postfix:passed",
        ]
        assert status_of(screen).startswith("✓ Step done.")


async def test_idle_watcher_retries(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    messages: list[Message] = []
    app = make_app(link_check_seconds=WATCH_SECONDS)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        unreachable = HostUnreachable("No route to 203.0.113.10.")
        session.connect_outcomes.extend([unreachable, unreachable])
        session.link_open = False
        await wait_for_link_state(pilot, app, "reconnecting")
        await settle(pilot)
        assert link_state(app) == "connected"
        assert session.calls.count("connect") == 4
        failures = [m for m in messages if isinstance(m, Reconnector.AttemptFailed)]
        assert {message.attempt for message in failures} == {1, 2}
        assert phase_of(screen) == "idle"
        assert status_of(screen).startswith("Read the step")


async def test_stopped_idle_reconnect_stays_offline(
    make_app: AppMaker, session: FakeSession
) -> None:
    start_at(session, "install-postfix")
    gate = threading.Event()
    app = make_app(link_check_seconds=WATCH_SECONDS)
    async with open_step_screen(app) as (pilot, screen):
        session.reconnect_gate = gate
        session.link_open = False
        await wait_for_link_state(pilot, app, "reconnecting")
        await pilot.press("x")
        gate.set()
        await settle(pilot)
        assert link_state(app) == "offline"
        assert status_of(screen) == "Offline. Press r or c to reconnect."
        # The watcher leaves a link that the attendee took offline alone.
        attempts = session.calls.count("connect")
        await pilot.pause(10 * WATCH_SECONDS)
        assert session.calls.count("connect") == attempts
        assert link_state(app) == "offline"

        await pilot.press("c")
        await settle(pilot)
        assert link_state(app) == "connected"
        assert status_of(screen).startswith("✓ Step done.")


async def test_lesson_list_shows_reconnect(make_app: AppMaker, session: FakeSession) -> None:
    gate = threading.Event()
    app = make_app(link_check_seconds=WATCH_SECONDS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert "● connected" in screen_text(pilot).splitlines()[0]

        session.reconnect_gate = gate
        session.link_open = False
        await wait_for_link_state(pilot, app, "reconnecting")
        assert link_state(app) == "reconnecting"
        await pilot.pause()
        assert "◌ reconnecting" in screen_text(pilot).splitlines()[0]

        gate.set()
        await settle(pilot)
        assert link_state(app) == "connected"
        assert "● connected" in screen_text(pilot).splitlines()[0]
        assert session.calls.count("connect") == 2


async def test_lesson_opened_while_reconnecting(make_app: AppMaker, session: FakeSession) -> None:
    gate = threading.Event()
    app = make_app(link_check_seconds=WATCH_SECONDS)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        session.reconnect_gate = gate
        session.link_open = False
        await wait_for_link_state(pilot, app, "reconnecting")
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert phase_of(screen) == "reconnecting"
        assert status_of(screen).startswith("Connection lost. Reconnecting…")

        gate.set()
        await settle(pilot)
        assert link_state(app) == "connected"
        assert phase_of(screen) == "idle"
        assert status_of(screen).startswith("Read this step")


async def test_leaving_step_keeps_reconnecting(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    gate = threading.Event()
    app = make_app(link_check_seconds=WATCH_SECONDS)
    async with open_step_screen(app) as (pilot, screen):
        session.reconnect_gate = gate
        session.link_open = False
        await wait_for_link_state(pilot, app, "reconnecting")
        assert phase_of(screen) == "reconnecting"

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonListScreen)
        assert link_state(app) == "reconnecting"

        gate.set()
        await settle(pilot)
        assert link_state(app) == "connected"
        assert session.calls.count("connect") == 2
        assert "● connected" in screen_text(pilot).splitlines()[0]


async def test_lesson_list_reports_rejected_login(make_app: AppMaker, session: FakeSession) -> None:
    messages: list[Message] = []
    app = make_app(link_check_seconds=WATCH_SECONDS)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        session.connect_outcomes.append(AuthenticationFailed("The server rejected the password."))
        session.link_open = False
        await wait_for_link_state(pilot, app, "offline")
        await settle(pilot)
        assert link_state(app) == "offline"
        assert "○ offline" in screen_text(pilot).splitlines()[0]
        notices = [m.notification.message for m in messages if isinstance(m, Notify)]
        assert notices[-1] == "Reconnecting stopped: The server rejected the password."
        # A rejected login is not retried, also not by the next checks of the link.
        await pilot.pause(10 * WATCH_SECONDS)
        assert session.calls.count("connect") == 2
