"""Unexpected failures become a dialog, the app keeps working, and no password is shown."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Static

from workshop_tui.core.login import Login
from workshop_tui.core.session import OutputChunk
from workshop_tui.ui.dialogs.unexpected_error import UnexpectedErrorDialog
from workshop_tui.ui.screens.step import StepScreen
from workshop_tui.ui.widgets.output_log import OutputLog

from .conftest import AppMaker
from .fakes import PASSWORD, FakeSession, RunPlan, first_fails
from .helpers import log_text, open_step_screen, phase_of, screen_text, settle, static_text
from .test_step_screen import start_at


async def test_unexpected_error_keeps_app(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(RuntimeError("the check engine tripped"))
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, UnexpectedErrorDialog)
        assert static_text(dialog.query_one("#error", Static)) == (
            "RuntimeError: the check engine tripped"
        )
        assert "show this message to a facilitator" in screen_text(pilot)

        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert phase_of(screen) == "idle"
        await pilot.press("c")
        await settle(pilot)
        assert "✓ Step done." in static_text(screen.query_one("#status", Static))


async def test_unexpected_run_error_recovers(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")

    session.run_plans["install-postfix"] = RunPlan(chunks=[OutputChunk("stdout", "ok\n")])
    original = session.run_step
    failures = [KeyError("run_id")]

    def run_step_once_broken(*args: object, **kwargs: object) -> object:
        if failures:
            raise failures.pop()
        return original(*args, **kwargs)  # type: ignore[arg-type]

    session.run_step = run_step_once_broken  # type: ignore[method-assign, assignment]
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, UnexpectedErrorDialog)
        assert "KeyError: 'run_id'" in screen_text(pilot)
        await pilot.press("escape", "r")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert "ok" in log_text(screen.query_one(OutputLog))


async def test_password_never_on_screen(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(
        chunks=[OutputChunk("stdout", "Setting up postfix ...\n")]
    )
    session.check_outcomes.extend([first_fails, RuntimeError(f"login with {PASSWORD} failed")])
    messages: list[Message] = []
    app = make_app()
    seen: list[str] = []
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        seen.append(screen_text(pilot))
        for keys in (("r",), ("h",), ("s",), ("escape",), ("c",)):
            await pilot.press(*keys)
            await settle(pilot)
            seen.append(screen_text(pilot))
        assert isinstance(app.screen, UnexpectedErrorDialog)
        assert "login with •••••• failed" in seen[-1]
        await pilot.press("escape")
        await settle(pilot)
        seen.append(screen_text(pilot))
        seen.append(log_text(app.screen.query_one(OutputLog)))
        assert "Setting up postfix" in seen[-1]
    notices = [m.notification.message for m in messages if isinstance(m, Notify)]
    for text in seen + notices:
        assert PASSWORD not in text


async def test_password_hidden_on_connect(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app(Login(host="203.0.113.10", user="root", password=PASSWORD), auto_connect=False)
    session.connect_outcomes.append(RuntimeError(f"unexpected reply to {PASSWORD}"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(pilot)
        assert isinstance(app.screen, UnexpectedErrorDialog)
        assert "••••••" in text
        assert PASSWORD not in text
        await pilot.press("escape")
        await settle(pilot)
        assert PASSWORD not in screen_text(pilot)


async def test_terminal_without_suspend(make_app: AppMaker, tmp_path: Path) -> None:
    opened: list[Login] = []

    def fake_shell(login: Login, known_hosts: Path) -> int:
        opened.append(login)
        return 0

    messages: list[Message] = []
    app = make_app(shell_opener=fake_shell)
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
    notices = [m.notification.message for m in messages if isinstance(m, Notify)]
    assert notices[-1] == (
        "This terminal cannot hand over to a shell. Open one yourself with: "
        "ssh -p 22 root@203.0.113.10"
    )
    assert opened == []
