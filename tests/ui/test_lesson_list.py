"""The lesson list: progress per lesson, requirements, and where a lesson opens."""

from __future__ import annotations

from textual.widgets import ListView

from workshop_tui.ui.screens.lessons import LessonListScreen
from workshop_tui.ui.screens.step import StepScreen

from .conftest import AppMaker
from .fakes import FakeSession
from .helpers import screen_text, settle


async def test_lesson_list_shows_progress(make_app: AppMaker, session: FakeSession) -> None:
    session.progress.lesson("hello-postfix").steps["read-the-plan"] = "passed"
    session.progress.lesson("hello-postfix").steps["install-postfix"] = "failed"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        text = screen_text(pilot)
        assert "1. Hello, Postfix  1/3 steps" in text
        assert "Install Postfix and see it answer on port 25." in text
        assert "→ Continue with step 2: Install Postfix" in text
        assert "2. Send a mail  0/1 steps" in text
        assert "⚠ Best done after “Hello, Postfix”." in text
        assert "→ Start with step 1: Send it" in text
        assert "Open" in text.splitlines()[-1]


async def test_lesson_list_marks_finished(make_app: AppMaker, session: FakeSession) -> None:
    for step_id in ("read-the-plan", "install-postfix", "say-hello"):
        session.progress.lesson("hello-postfix").steps[step_id] = "passed"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = screen_text(pilot)
        assert "1. Hello, Postfix  ✓ done" in text
        assert "Best done after" not in text


async def test_enter_opens_first_open_step(make_app: AppMaker, session: FakeSession) -> None:
    session.progress.lesson("hello-postfix").steps["read-the-plan"] = "passed"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert screen.index == 1
        assert "Step 2 of 3: Install Postfix" in screen_text(pilot)
        assert session.calls[-1] == "set_position:install-postfix"


async def test_enter_opens_saved_step(make_app: AppMaker, session: FakeSession) -> None:
    session.progress.lesson("send-mail").current_step = "send-it"
    session.progress.lesson("hello-postfix").current_step = "say-hello"
    session.progress.current_lesson = "send-mail"
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # The app reopens the lesson it showed last; Escape leads to the list.
        assert isinstance(app.screen, StepScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        await pilot.press("up", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert screen.lesson.id == "hello-postfix"
        assert screen.index == 2


async def test_restart_restores_step(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "n", "n")
        await settle(pilot)
        assert "Step 3 of 3: Say hello" in screen_text(pilot)

    # A new app on the same saved progress opens the same step straight away.
    restarted = make_app()
    async with restarted.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = restarted.screen
        assert isinstance(screen, StepScreen)
        assert screen.step.id == "say-hello"
        await pilot.press("escape")
        await settle(pilot)
        list_view = restarted.screen.query_one(ListView)
        assert list_view.index == 0


async def test_return_highlights_next_lesson(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        list_view = app.screen.query_one(ListView)
        assert list_view.index == 0
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)
        for step_id in ("read-the-plan", "install-postfix", "say-hello"):
            session.progress.lesson("hello-postfix").steps[step_id] = "passed"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert app.screen.query_one(ListView).index == 1


async def test_return_keeps_unfinished_lesson(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert app.screen.query_one(ListView).index == 0
