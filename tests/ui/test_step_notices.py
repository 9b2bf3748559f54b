"""Notifications on the step screen: the messages of r and c on a reading step, and how
long notifications stay."""

from __future__ import annotations

from pathlib import Path

from textual.message import Message
from textual.notifications import Notify

from .conftest import AppMaker
from .fakes import FakeSession, write_long_titles_catalog
from .helpers import screen_text, settle
from .test_step_screen import start_at

NOTHING_TO_DO = "This step has nothing to run or check. Read it and press n for the next step."


def notices(messages: list[Message]) -> list[str]:
    """Return the text of each notification once, although the hook receives it at every node."""
    texts: dict[str, str] = {}
    for message in messages:
        if isinstance(message, Notify):
            texts[message.notification.identity] = message.notification.message
    return list(texts.values())


async def test_reading_step_run_and_check(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "read-the-plan")
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert notices(messages)[-1] == NOTHING_TO_DO
        await pilot.press("c")
        await pilot.pause()
        assert notices(messages)[-1] == NOTHING_TO_DO
        assert not [call for call in session.calls if call.startswith(("run_step", "check_step"))]


async def test_last_reading_step_says_finish(
    make_app: AppMaker, session: FakeSession, tmp_path: Path
) -> None:
    session.progress.current_lesson = "postfix-server"
    session.progress.lesson("postfix-server").current_step = "what-you-built"
    messages: list[Message] = []
    app = make_app(lessons=write_long_titles_catalog(tmp_path / "long"))
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert notices(messages)[-1] == (
            "This step has nothing to run or check. Read it and press n to finish the lesson."
        )


async def test_check_only_step_keeps_message(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "say-hello")
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert notices(messages)[-1] == (
            "This step has no commands for the app to run. Do it in a terminal (t), "
            "then press c to check it."
        )


PROGRESS_WARNING = "Your saved progress could not be read, so it starts again."


async def test_step_change_clears_notices(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "read-the-plan")
    session.progress_warning = PROGRESS_WARNING
    app = make_app()
    # run_test draws no notifications unless asked to.
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        assert "nothing to run or check" in screen_text(pilot)
        assert "Saved progress" in screen_text(pilot)

        await pilot.press("n")
        await settle(pilot)
        text = screen_text(pilot)
        assert "nothing to run or check" not in text
        # The notice about the saved progress stays for its 30 seconds.
        assert "Saved progress" in text
        assert "progress could not be read" in text

        await pilot.press("p")
        await settle(pilot)
        assert "Saved progress" in screen_text(pilot)


async def test_lasting_notice_shown_once(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "read-the-plan")
    session.progress_warning = PROGRESS_WARNING
    app = make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(pilot)
        assert screen_text(pilot).count("Saved progress") == 1
        # Steps changed faster than the app handles the notifications in between.
        await pilot.press("n", "p", "n", "p")
        await settle(pilot)
        assert screen_text(pilot).count("Saved progress") == 1
