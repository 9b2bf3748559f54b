"""Quitting with ctrl+q: at once, or after a question while a step's commands run."""

from __future__ import annotations

import threading

import pytest
from textual.app import App
from textual.widgets import Static

from workshop_tui.core.errors import HostUnreachable
from workshop_tui.core.session import OutputChunk
from workshop_tui.ui.app import QUIT_QUESTION
from workshop_tui.ui.dialogs.confirm import ConfirmDialog
from workshop_tui.ui.screens.connect import ConnectScreen
from workshop_tui.ui.screens.lessons import LessonListScreen

from .conftest import AppMaker
from .fakes import FakeSession, RunPlan, connect_report
from .helpers import open_step_screen, phase_of, screen_text, settle, static_text
from .test_step_screen import start_at
from .test_step_stop import top_screen


def return_code(app: App[None]) -> int | None:
    """Return the app's exit code, None while it runs; a function, so mypy does not narrow."""
    return app.return_code


# At 80 columns the footer has no room for Quit, so the app's own ctrl+q binding acts;
# at 100 columns the step screen's binding does.
@pytest.mark.parametrize("width", [80, 100])
async def test_quit_asks_while_running(
    make_app: AppMaker, session: FakeSession, width: int
) -> None:
    start_at(session, "install-postfix")
    session.run_gate = threading.Event()
    app = make_app()
    async with open_step_screen(app, size=(width, 24)) as (pilot, screen):
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        dialog = top_screen(app)
        assert isinstance(dialog, ConfirmDialog)
        assert static_text(dialog.query_one("#question", Static)) == QUIT_QUESTION
        text = screen_text(pilot)
        assert "Quit?" in text
        assert "The commands keep running on the server" in text
        assert "Stay" in text

        # Enter presses the focused button, which is Stay.
        await pilot.press("enter")
        await pilot.pause()
        assert top_screen(app) is screen
        assert phase_of(screen) == "running"
        assert return_code(app) is None

        # A second ctrl+q while the question is open does not stack a second question.
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert sum(isinstance(s, ConfirmDialog) for s in app.screen_stack) == 1
        await pilot.click("#confirm")
        await pilot.pause()
        assert return_code(app) == 0
        session.run_gate.set()


async def test_quit_asks_while_reconnecting(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(
        chunks=[OutputChunk("stdout", "line 1\n"), OutputChunk("stdout", "line 2\n")],
        lose_link_after=1,
    )
    session.connect_outcomes.extend(
        [connect_report()] + [HostUnreachable("No route to 203.0.113.10.")] * 1000
    )
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        for _ in range(50):
            await pilot.pause(0.02)
            if phase_of(screen) == "reconnecting":
                break
        assert phase_of(screen) == "reconnecting"
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert isinstance(top_screen(app), ConfirmDialog)
        assert return_code(app) is None
        await pilot.press("escape", "x")
        await settle(pilot)


async def test_quit_at_once_when_idle(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with open_step_screen(app) as (pilot, _screen):
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert return_code(app) == 0


async def test_quit_at_once_after_run(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with open_step_screen(app, size=(100, 24)) as (pilot, _screen):
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert return_code(app) == 0


async def test_quit_from_lessons_and_login(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert return_code(app) == 0

    app = make_app(use_login=False)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, ConnectScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert return_code(app) == 0
