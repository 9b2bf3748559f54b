"""The step screen: running commands, checks, hints, solutions and moving between steps."""

from __future__ import annotations

import threading

from textual.message import Message
from textual.notifications import Notify
from textual.widgets import Collapsible, Markdown, Static

from workshop_tui.core.session import OutputChunk, RunReport
from workshop_tui.ui.dialogs.confirm import ConfirmDialog
from workshop_tui.ui.dialogs.lesson_done import LessonDoneDialog
from workshop_tui.ui.dialogs.markdown_dialog import MarkdownDialog
from workshop_tui.ui.screens.lessons import LessonListScreen
from workshop_tui.ui.screens.step import StepScreen
from workshop_tui.ui.widgets.checks_panel import CheckRow, ChecksPanel
from workshop_tui.ui.widgets.output_log import OutputLog
from workshop_tui.ui.widgets.step_runner import StepRunner

from .conftest import AppMaker
from .fakes import FakeSession, RunPlan, first_fails
from .helpers import log_text, open_step_screen, phase_of, screen_text, settle, static_text

APT_OUTPUT = [
    OutputChunk("stdout", "Reading package lists...\nBuilding dependency "),
    OutputChunk("stdout", "tree...\n"),
    OutputChunk("stderr", "debconf: delaying package configuration\n"),
    OutputChunk("stdout", "\x1b[32mSetting up postfix (3.7.11-0+deb12u1) ...\x1b[0m\n"),
]


def start_at(session: FakeSession, step_id: str) -> None:
    """Save a position so that the app opens the hello-postfix lesson at ``step_id``."""
    session.progress.current_lesson = "hello-postfix"
    session.progress.lesson("hello-postfix").current_step = step_id


def row_texts(screen: StepScreen) -> list[str]:
    """Return the symbol and title of each check row."""
    rows = screen.query_one("#checks", ChecksPanel).query(CheckRow)
    return [
        f"{static_text(row.query_one('.symbol', Static))} "
        f"{static_text(row.query_one('.title', Static))}"
        for row in rows
    ]


async def test_run_streams_then_checks(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(chunks=list(APT_OUTPUT))
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert row_texts(screen) == [
            "· Package is installed: postfix",
            "· The Postfix mail system is running",
        ]
        await pilot.press("r")
        await settle(pilot)

        output = log_text(screen.query_one("#output", OutputLog))
        assert "Reading package lists...\nBuilding dependency tree..." in output
        assert "▌debconf: delaying package configuration" in output
        assert "Setting up postfix (3.7.11-0+deb12u1) ..." in output
        assert "\x1b" not in output
        assert "✓ The commands finished." in output
        assert session.calls[-4:] == [
            "run_step:install-postfix",
            "set_step_state:install-postfix:ran",
            "check_step:install-postfix",
            "set_step_state:install-postfix:passed",
        ]
        assert row_texts(screen) == [
            "✓ Package is installed: postfix",
            "✓ The Postfix mail system is running",
        ]
        status = static_text(screen.query_one("#status", Static))
        assert status == "✓ Step done. Press n for the next step."
        assert "Checks 2/2" in screen_text(pilot)
        finished = [
            m for m in messages if isinstance(m, StepRunner.RunFinished | StepRunner.ChecksFinished)
        ]
        # The message hook receives a bubbling message once per node that handles it.
        order = [type(m) for m in dict.fromkeys(finished)]
        assert order == [StepRunner.RunFinished, StepRunner.ChecksFinished]


async def test_failing_check_shows_hints(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.check_outcomes.append(first_fails)
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("c")
        await settle(pilot)

        assert row_texts(screen) == [
            "✖ Package is installed: postfix",
            "✓ The Postfix mail system is running",
        ]
        failed = screen.query(CheckRow).first()
        assert static_text(failed.query_one(".reason", Static)) == (
            "postfix is not installed (dpkg state: un)"
        )
        check_hint = failed.query_one(".check-hint", Markdown)
        assert "run `apt-get update` first" in check_hint.source
        evidence = failed.query_one(Collapsible)
        assert evidence.collapsed
        assert "dpkg-query: no packages found" in static_text(failed.query_one(".evidence", Static))
        step_hint = screen.query_one("#step-hint", Markdown)
        assert step_hint.display
        assert "journalctl -u postfix@-" in step_hint.source
        status = static_text(screen.query_one("#status", Static))
        assert status.startswith("✖ 1 of 2 checks failed.")
        text = screen_text(pilot)
        assert "✖ Package is installed: postfix" in text
        assert "postfix is not installed (dpkg state: un)" in text
        assert "Unable to locate package" in text

        # Checking again after a fix shows the step as done.
        await pilot.press("c")
        await settle(pilot)
        assert row_texts(screen)[0] == "✓ Package is installed: postfix"


async def test_hint_on_request(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert not screen.query_one("#step-hint", Markdown).display
        await pilot.press("h")
        await settle(pilot)
        assert screen.query_one("#step-hint", Markdown).display
        assert "journalctl" in screen_text(pilot)


async def test_solution_needs_confirmation(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmDialog)
        assert "sudo apt-get install postfix" not in screen_text(pilot)
        await pilot.press("enter")  # The focused button is "Not yet".
        await settle(pilot)
        assert isinstance(app.screen, StepScreen)

        await pilot.press("s")
        await settle(pilot)
        await pilot.click("#confirm")
        await settle(pilot)
        assert isinstance(app.screen, MarkdownDialog)
        assert "sudo apt-get install postfix" in screen_text(pilot)


async def test_next_and_previous(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert "This lesson installs Postfix on vps1." in screen_text(pilot)

        await pilot.press("n")
        await settle(pilot)
        assert screen.index == 1
        # A step without checks counts as passed once read.
        assert session.progress.step_state("hello-postfix", "read-the-plan") == "passed"
        assert "Step 2 of 3: Install Postfix" in screen_text(pilot)
        assert "apt-get install -y postfix" in screen_text(pilot)

        await pilot.press("right")
        await settle(pilot)
        assert screen.index == 2
        await pilot.press("p")
        await settle(pilot)
        assert screen.index == 1
        await pilot.press("left")
        await settle(pilot)
        assert screen.index == 0
        await pilot.press("p")
        await settle(pilot)
        assert screen.index == 0
        positions = [call for call in session.calls if call.startswith("set_position")]
        assert positions == [
            "set_position:read-the-plan",
            "set_position:install-postfix",
            "set_position:say-hello",
            "set_position:install-postfix",
            "set_position:read-the-plan",
        ]


async def test_run_without_commands_explains(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "say-hello")
    messages: list[Message] = []
    app = make_app()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert not [call for call in session.calls if call.startswith("run_step")]
        notices = [m.notification.message for m in messages if isinstance(m, Notify)]
        assert notices[-1].startswith("This step has no commands for the app to run.")


async def test_stop_running_commands(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_gate = threading.Event()
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        await pilot.pause()
        assert phase_of(screen) == "running"
        footer = screen_text(pilot).splitlines()[-1]
        assert "x Stop" in footer
        assert "c Check" not in footer
        # Run is refused while running.
        await pilot.press("r", "n", "escape")
        await pilot.pause()
        assert screen.index == 1
        assert app.screen is screen

        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#confirm")
        await settle(pilot)
        assert phase_of(screen) == "idle"
        assert [call for call in session.calls if call.startswith("run_step")] == [
            "run_step:install-postfix"
        ]
        assert "The commands were stopped." in static_text(screen.query_one("#status", Static))
        assert not [call for call in session.calls if call.startswith("check_step")]


async def test_failed_command_reports_status(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(
        chunks=[OutputChunk("stderr", "E: Unable to locate package postfix\n")],
        report=RunReport(exit_status=100, failed_block=0),
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("r")
        await settle(pilot)
        status = static_text(screen.query_one("#status", Static))
        assert status.startswith("✖ A command failed (exit status 100).")
        assert not [call for call in session.calls if call.startswith("check_step")]
        assert "▌E: Unable to locate package postfix" in log_text(screen.query_one(OutputLog))


async def test_lesson_done_returns_to_list(make_app: AppMaker, session: FakeSession) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("enter", "n", "c")
        await settle(pilot)
        await pilot.press("n", "c")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert static_text(screen.query_one("#status", Static)) == (
            "✓ Step done. This is the last step: press n to finish the lesson."
        )
        await pilot.press("n")
        await settle(pilot)
        assert isinstance(app.screen, LessonDoneDialog)
        text = screen_text(pilot)
        assert "Lesson done" in text
        assert "all 3 steps are done" in text
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, LessonListScreen)
        assert "1. Hello, Postfix  ✓ done" in screen_text(pilot)


async def test_wide_layout_shows_both_panels(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(chunks=list(APT_OUTPUT))
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert screen.has_class("-wide")
        await pilot.press("r")
        await settle(pilot)
        text = screen_text(pilot)
        assert "Setting up postfix" in text
        assert "✓ Package is installed: postfix" in text
        assert "Step 2 of 3: Install Postfix" in text
        assert "root@203.0.113.10 ● connected" in text
