"""The connect screen: form checks, connecting in a worker, and login errors."""

from __future__ import annotations

import asyncio

from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Button, Input, Static

from workshop_tui.core.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HostKeyChanged,
    HostUnreachable,
)
from workshop_tui.ui.dialogs.host_key_changed import HostKeyChangedDialog
from workshop_tui.ui.dialogs.new_host_key import NewHostKeyDialog
from workshop_tui.ui.screens.connect import ConnectScreen
from workshop_tui.ui.screens.lessons import LessonListScreen

from .conftest import AppMaker
from .fakes import FINGERPRINT, PASSWORD, FakeSession, make_login
from .helpers import screen_text, settle, static_text, wait_for_screen


async def test_connect_form_validates_in_place(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app(use_login=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        screen.query_one("#port", Input).value = ""
        await pilot.click("#port")
        await pilot.press("2", "x")
        await pilot.click("#user")
        await pilot.press("r", "o", "o", "t")
        await pilot.press("enter")
        await settle(pilot)

        host_error = static_text(screen.query_one("#host-error", Static))
        port_error = static_text(screen.query_one("#port-error", Static))
        password_error = static_text(screen.query_one("#password-error", Static))
        assert "Enter the host" in host_error
        assert "must be a number" in port_error
        assert "Enter the password" in password_error
        assert screen.query_one("#port", Input).value == "2x"
        assert screen.query_one("#user", Input).value == "root"
        assert app.focused is screen.query_one("#host", Input)
        assert session.calls == []
        text = screen_text(pilot)
        assert "The port must be a number" in text


async def test_connect_host_with_user_is_explained(make_app: AppMaker) -> None:
    app = make_app(use_login=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        screen.query_one("#host", Input).value = "root@203.0.113.10"
        screen.query_one("#user", Input).value = "root"
        screen.query_one("#password", Input).value = PASSWORD
        await pilot.click("#connect")
        await settle(pilot)
        assert "goes into User" in static_text(screen.query_one("#host-error", Static))


async def test_connect_error_keeps_form(make_app: AppMaker, session: FakeSession) -> None:
    session.connect_outcomes.append(
        AuthenticationFailed("The server 203.0.113.10 rejected the password for root.")
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        error = static_text(screen.query_one("#error", Static))
        assert "rejected the password for root" in error
        assert screen.query_one("#host", Input).value == "203.0.113.10"
        assert screen.query_one("#user", Input).value == "root"
        assert screen.query_one("#port", Input).value == "22"
        assert screen.query_one("#password", Input).value == PASSWORD
        assert app.focused is screen.query_one("#password", Input)
        text = screen_text(pilot)
        assert "rejected the password" in text
        assert PASSWORD not in text

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert session.calls == ["connect", "connect"]


async def test_connect_unreachable_host_shown(make_app: AppMaker, session: FakeSession) -> None:
    session.connect_outcomes.append(
        HostUnreachable("Could not reach 203.0.113.10 on port 22: connection timed out.")
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert "Could not reach 203.0.113.10" in static_text(screen.query_one("#error", Static))
        assert app.focused is screen.query_one("#host", Input)


async def test_connect_without_password_waits(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app(make_login(password=None))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        assert session.calls == []
        assert app.focused is screen.query_one("#password", Input)
        await pilot.press(*PASSWORD)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert session.login.password == PASSWORD


async def test_auto_connect_without_password(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app(make_login(password=None), auto_connect=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        assert "Enter the password" in static_text(screen.query_one("#password-error", Static))


async def test_new_host_key_asked_first(make_app: AppMaker, session: FakeSession) -> None:
    session.first_use = True
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        dialog = await wait_for_screen(pilot, NewHostKeyDialog)
        # The login waits until the dialog is closed.
        assert session.calls == ["connect"]
        assert session.key_answers == []
        explanation = static_text(dialog.query_one("#explanation", Static))
        assert explanation == (
            "This is the first time this computer connects to 203.0.113.10. Servers prove "
            "who they are with a key. If your slip shows a fingerprint, check that it matches."
        )
        text = screen_text(pilot)
        assert "New server: check its key" in text
        assert "This is the first time this computer connects to 203.0.113.10." in text
        assert "Server: 203.0.113.10, port 22" in text
        assert "Key type: ssh-ed25519" in text
        assert f"Fingerprint: {FINGERPRINT}" in text
        assert "Trust and connect" in text
        assert "Cancel" in text
        assert app.focused is dialog.query_one("#trust", Button)

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert session.key_answers == [True]
        # The dialog showed the key, so no notification repeats it.
        assert not [m for m in messages if isinstance(m, Notify)]
        # The message hook receives a bubbling message once per node that handles it.
        connected = {id(m) for m in messages if isinstance(m, ConnectScreen.Connected)}
        assert len(connected) == 1


async def test_new_host_key_cancel_keeps_form(make_app: AppMaker, session: FakeSession) -> None:
    session.first_use = True
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, NewHostKeyDialog)
        await pilot.click("#cancel")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        assert session.key_answers == [False]
        error = static_text(screen.query_one("#error", Static))
        assert error.startswith("✖ Could not connect. You did not trust the key of 203.0.113.10")
        assert screen.query_one("#host", Input).value == "203.0.113.10"
        assert screen.query_one("#user", Input).value == "root"
        assert screen.query_one("#password", Input).value == PASSWORD
        assert app.focused is screen.query_one("#host", Input)

        # Connecting again shows the question again, because the key was not stored.
        await pilot.press("enter")
        await wait_for_screen(pilot, NewHostKeyDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConnectScreen)
        assert session.key_answers == [False, False]


async def test_new_host_key_failed_login(make_app: AppMaker, session: FakeSession) -> None:
    session.first_use = True
    session.connect_outcomes.append(
        AuthenticationFailed("The server 203.0.113.10 rejected the password for root.")
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, NewHostKeyDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert "rejected the password" in static_text(app.screen.query_one("#error", Static))
        # A failed login stores no key, so the next attempt shows the question again.
        await pilot.press("enter")
        await wait_for_screen(pilot, NewHostKeyDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert session.key_answers == [True, True]


async def test_slow_answer_logs_in_again(make_app: AppMaker, session: FakeSession) -> None:
    session.first_use = True
    # The SSH server closed the connection while the question was open.
    session.connect_outcomes.append(
        ConnectionLost("The connection to root@203.0.113.10 broke during login.")
    )
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await wait_for_screen(pilot, NewHostKeyDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert session.calls == ["connect", "connect"]
        # The second login trusted the same key without a second question.
        questions = {id(m) for m in messages if isinstance(m, ConnectScreen.NewHostKey)}
        assert len(questions) == 1
        assert session.key_answers == [True, True]


async def test_lost_login_known_key_shown(make_app: AppMaker, session: FakeSession) -> None:
    session.connect_outcomes.append(
        ConnectionLost("The connection to root@203.0.113.10 broke during login.")
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ConnectScreen)
        assert session.calls == ["connect"]
        assert "broke during login" in static_text(screen.query_one("#error", Static))


async def test_quit_while_key_question_open(make_app: AppMaker, session: FakeSession) -> None:
    session.first_use = True
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_screen(pilot, NewHostKeyDialog)
        await pilot.press("ctrl+q")
        await pilot.pause()
    # The connect worker was cancelled and stopped waiting for the dialog.
    for _ in range(200):
        if session.key_answers:
            break
        await asyncio.sleep(0.01)
    assert session.key_answers == [False]
    assert session.calls == ["connect"]


async def test_known_host_key_no_dialog(make_app: AppMaker, session: FakeSession) -> None:
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert session.key_answers == []
        assert not [m for m in messages if isinstance(m, Notify)]


async def test_host_key_changed_dialog(make_app: AppMaker, session: FakeSession) -> None:
    explanation = (
        "The SSH host key of 203.0.113.10 (port 22) does not match the key stored the first "
        "time you connected. Ask a facilitator before you continue."
    )
    session.connect_outcomes.append(HostKeyChanged(explanation))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, HostKeyChangedDialog)
        assert static_text(dialog.query_one("#explanation", Static)) == explanation
        assert "Ask a facilitator" in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ConnectScreen)
        assert "does not match" in static_text(app.screen.query_one("#error", Static))
