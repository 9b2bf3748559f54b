"""Stopping a step's commands: the confirmation, and the status once they stop."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.app import App
from textual.screen import Screen
from textual.widgets import Static

from workshop_tui.core.errors import ConnectionLost
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.session import OutputChunk, RunReport
from workshop_tui.ui.dialogs.confirm import ConfirmDialog
from workshop_tui.ui.screens.step import StepScreen
from workshop_tui.ui.widgets.output_log import OutputLog

from .conftest import AppMaker
from .fakes import FakeSession, RunPlan
from .helpers import log_text, open_step_screen, phase_of, screen_text, settle, static_text
from .test_step_screen import start_at


def status_of(screen: object) -> str:
    """Return the status line, from any object like ``phase_of``, so mypy does not narrow."""
    assert isinstance(screen, StepScreen)
    return static_text(screen.query_one("#status", Static))


def top_screen(app: App[None]) -> Screen[object]:
    """Return the screen in front, through a function so that mypy does not narrow it."""
    return app.screen


async def test_stop_asks_before_stopping(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_gate = threading.Event()
    session.stop_gate = threading.Event()
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        await pilot.pause()

        # Escape keeps the commands running.
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        text = screen_text(pilot)
        assert "Stop the commands?" in text
        assert "half-installed" in text
        question = static_text(app.screen.query_one("#question", Static))
        assert question.endswith(
            "open the terminal (t) and run: sudo DEBIAN_FRONTEND=noninteractive dpkg --configure -a"
        )
        assert "sudo DEBIAN_FRONTEND=noninteractive dpkg --configure -a" in text
        assert "Keep running" in text
        await pilot.press("escape")
        await pilot.pause()
        assert top_screen(app) is screen
        assert phase_of(screen) == "running"

        # Enter presses the focused button, which is Keep running.
        await pilot.press("x")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert top_screen(app) is screen
        assert phase_of(screen) == "running"
        assert status_of(screen) == "Running the commands… Press x to stop them."

        # Stop: until the worker reports the end, the status only reads "Stopping".
        await pilot.press("x")
        await pilot.pause()
        await pilot.click("#confirm")
        await pilot.pause(0.1)
        assert top_screen(app) is screen
        assert phase_of(screen) == "running"
        assert status_of(screen) == "Stopping the commands…"
        assert "stopped" not in log_text(screen.query_one("#output", OutputLog))

        session.stop_gate.set()
        await settle(pilot)
        assert phase_of(screen) == "idle"
        assert status_of(screen) == "■ The commands were stopped. Press r to run them again."
        output = log_text(screen.query_one("#output", OutputLog))
        assert output.splitlines()[-1] == "■ The commands were stopped."
        assert not [call for call in session.calls if call.startswith("check_step")]


async def test_stop_after_run_ended(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_gate = threading.Event()
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)

        # The commands finish while the question is open, and the checks run.
        session.run_gate.set()
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        assert top_screen(app) is screen
        assert status_of(screen) == "✓ Step done. Press n for the next step."
        assert "stopped" not in log_text(screen.query_one("#output", OutputLog))


async def test_time_limit_stop_explained(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(
        chunks=[OutputChunk("stdout", "Unpacking postfix ...\n")],
        report=RunReport(exit_status=None, failed_block=0, stopped=True),
    )
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        await settle(pilot)
        assert status_of(screen).startswith("✖ The commands took too long and were stopped.")
        output = log_text(screen.query_one("#output", OutputLog))
        assert "■ The commands took longer than their time limit and were stopped." in output
        assert "The commands were stopped." not in output


def lose_link_while_waiting(
    session: FakeSession, release: threading.Event
) -> Callable[..., RunReport]:
    """Return a run_step whose first call drops the link once ``release`` is set.

    The second call follows the run that kept going and ends when it is cancelled.
    """
    run_step = session.run_step

    def run(
        lesson: Lesson,
        step: Step,
        *,
        on_output: Callable[[OutputChunk], None],
        cancel: threading.Event | None = None,
    ) -> RunReport:
        if session.calls.count(f"run_step:{step.id}") == 0:
            session.calls.append(f"run_step:{step.id}")
            release.wait(5)
            raise ConnectionLost("the connection to 203.0.113.10 dropped")
        session.run_gate = threading.Event()
        return run_step(lesson, step, on_output=on_output, cancel=cancel)

    return run


async def test_stop_confirmed_while_reconnecting(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    release = threading.Event()
    session.run_step = lose_link_while_waiting(session, release)  # type: ignore[method-assign]
    reconnect = threading.Event()
    session.reconnect_gate = reconnect
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)

        # The link drops while the question is open.
        release.set()
        for _ in range(100):
            await pilot.pause(0.01)
            if phase_of(screen) == "reconnecting":
                break
        assert phase_of(screen) == "reconnecting"
        await pilot.click("#confirm")
        await pilot.pause()
        assert status_of(screen).startswith(
            "Reconnecting… The commands are stopped as soon as the connection is back."
        )

        # Once the link is back, the run is followed again and stopped at once.
        reconnect.set()
        await settle(pilot)
        assert session.calls.count("run_step:install-postfix") == 2
        assert phase_of(screen) == "idle"
        assert status_of(screen) == "■ The commands were stopped. Press r to run them again."
