"""The raised hand: the a key on the step screen, its footer label and the header's indicator."""

from __future__ import annotations

import threading

import pytest
from textual.message import Message

from workshop_tui.ui.screens.step import StepScreen
from workshop_tui.ui.widgets.step_header import HeaderText, StepHeader, fit_header

from .conftest import AppMaker
from .fakes import FakeSession, first_fails
from .helpers import open_step_screen, phase_of, screen_text, settle
from .test_step_notices import notices
from .test_step_screen import start_at

HAND = "✋ Help requested"


def header_of(screen: StepScreen) -> str:
    """Return the header's text as fitted to its width, without terminal cell quirks."""
    header = screen.query_one(StepHeader)
    where, link = fit_header(header.text, header.content_size.width)
    return f"{where.plain}  {link.plain}"


def footer_of(text: str) -> str:
    return text.splitlines()[-1]


@pytest.mark.parametrize("width", [80, 100])
async def test_help_key_toggles_hand(make_app: AppMaker, session: FakeSession, width: int) -> None:
    start_at(session, "install-postfix")
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(width, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert HAND not in header_of(screen)

        await pilot.press("a")
        await pilot.pause()
        assert session.calls[-1] == "set_hand_raised:True"
        assert session.progress.hand_raised_at is not None
        assert HAND in header_of(screen)
        assert notices(messages)[-1] == (
            "✋ Help requested: a facilitator can see it on the board. "
            "Press a again to lower your hand."
        )

        await pilot.press("a")
        await pilot.pause()
        assert session.calls[-1] == "set_hand_raised:False"
        assert session.progress.hand_raised_at is None
        assert HAND not in header_of(screen)
        assert (
            notices(messages)[-1]
            == "Hand lowered: the board no longer shows that you asked for help."
        )


async def test_footer_names_key_from_100(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert footer_of(screen_text(pilot)) == (
            "r Run c Check n Next p Prev h Hint s Solution a Ask help t Terminal v Checks "
            "esc Lessons ^q Quit"
        )


async def test_footer_80_without_key(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with open_step_screen(app) as (pilot, _screen):
        assert "a Ask help" not in footer_of(screen_text(pilot))


async def test_raised_hand_shown_on_open(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.progress.hand_raised_at = 1764899500.0
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        assert HAND in header_of(screen)
        assert "Help requested" in screen_text(pilot).splitlines()[0]


async def test_hand_stays_on_next_step(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("a")
        await pilot.press("n")
        await settle(pilot)
        assert screen.step.id == "say-hello"
        assert HAND in header_of(screen)


async def test_passed_check_lowers_hand(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(first_fails)
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        await pilot.press("a")
        await pilot.press("c")
        await settle(pilot)
        # A failed check leaves the hand up.
        assert HAND in header_of(screen)

        await pilot.press("c")
        await settle(pilot)
        assert session.progress.hand_raised_at is None
        assert HAND not in header_of(screen)
        assert notices(messages)[-1] == (
            "The step passed, so your raised hand was lowered. "
            "Press a if you still want a facilitator to come over."
        )


async def test_help_key_while_running(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_gate = threading.Event()
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        assert phase_of(screen) == "running"
        assert session.calls[-1] == "set_hand_raised:True"
        assert HAND in header_of(screen)
        session.run_gate.set()
        await settle(pilot)


async def test_offline_hand_says_when_shown(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        app.link_state = "offline"
        await pilot.press("a")
        await pilot.pause()
        assert notices(messages)[-1] == (
            "✋ Help requested. The board shows it once the app is connected again; "
            "press a again to lower your hand."
        )


async def test_no_hint_names_a(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "say-hello")
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("h")
        await pilot.pause()
        assert notices(messages)[-1] == (
            "This step has no hint. Press a to ask a facilitator if you are stuck."
        )


def test_header_keeps_hand_when_narrow() -> None:
    text = HeaderText(
        "Postfix, your own mail server",
        2,
        6,
        "Answer the installer's questions in advance",
        "root@203.0.113.10",
        "connected",
        hand_raised=True,
    )
    _, wide_link = fit_header(text, 158)
    assert wide_link.plain == "✋ Help requested  root@203.0.113.10 ● connected"
    _, narrow_link = fit_header(text, 60)
    assert narrow_link.plain == "✋ Help requested  ●"
