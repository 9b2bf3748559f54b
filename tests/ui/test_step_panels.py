"""The output and checks panels: switching by keyboard, the footer, and kept output."""

from __future__ import annotations

import threading

from textual.widgets import Markdown

from workshop_tui.core.session import OutputChunk
from workshop_tui.ui.screens.step import PanelTabs, StepScreen
from workshop_tui.ui.widgets.checks_panel import ChecksPanel
from workshop_tui.ui.widgets.output_log import MAX_LINES, OutputLog, new_transcript

from .conftest import AppMaker
from .fakes import FakeSession, RunPlan, first_fails
from .helpers import log_text, open_step_screen, screen_text, settle
from .test_step_screen import APT_OUTPUT, start_at


def footer_of(text: str) -> str:
    return text.splitlines()[-1]


def active_panel(screen: StepScreen) -> str:
    """Return the tab in front, through a function so that mypy does not narrow it."""
    return str(screen.query_one(PanelTabs).active)


async def test_footer_fits_80_columns(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        footer = footer_of(screen_text(pilot))
        assert footer == (
            "r Run c Check n Next p Prev h Hint s Solution t Terminal v Checks esc Lessons"
        )
        assert len(footer) <= 80


async def test_footer_shows_quit_when_wide(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    for width in (100, 160):
        app = make_app()
        async with app.run_test(size=(width, 40)) as pilot:
            await settle(pilot)
            footer = footer_of(screen_text(pilot))
            assert footer.endswith("esc Lessons ^q Quit"), footer
            # Both panels are on screen from 120 columns, so v has nothing to switch.
            assert (" v " in footer) == (width < 120), footer


async def test_v_switches_panels(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(chunks=list(APT_OUTPUT))
    session.check_outcomes.append(first_fails)
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        await settle(pilot)
        # After the run, the failed checks are in front, and v leads back to the output.
        assert active_panel(screen) == "checks-tab"
        assert not screen.query_one("#output", OutputLog).display
        assert " v Output " in footer_of(screen_text(pilot))

        await pilot.press("v")
        await pilot.pause()
        assert active_panel(screen) == "output-tab"
        assert screen.query_one("#output", OutputLog).display
        assert not screen.query_one("#checks", ChecksPanel).display
        assert "Setting up postfix" in screen_text(pilot)
        assert " v Checks " in footer_of(screen_text(pilot))

        await pilot.press("v")
        await pilot.pause()
        assert active_panel(screen) == "checks-tab"


async def test_running_footer_fits(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(
        chunks=[OutputChunk("stdout", "Reading package lists...\n")]
    )
    session.run_gate = threading.Event()
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await pilot.pause()
        footer = footer_of(screen_text(pilot))
        assert footer == (
            "r Run n Next p Prev h Hint s Solution t Terminal v Checks x Stop esc Lessons"
        )
        session.run_gate.set()
        await settle(pilot)


async def test_placeholder_uses_panel_width(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # The checks are in front when the next step is shown, so its output panel is
        # hidden while its placeholder is written.
        await pilot.press("v", "n")
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()
        lines = screen_text(pilot).splitlines()
        assert any(
            line.strip() == "This step has no commands for the app to run." for line in lines
        ), "\n".join(lines)


async def test_output_shown_again_on_return(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(chunks=list(APT_OUTPUT))
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        output = screen.query_one("#output", OutputLog)
        await pilot.press("r")
        await settle(pilot)
        ran = log_text(output)
        assert "Setting up postfix (3.7.11-0+deb12u1) ..." in ran

        # A step that has not run shows only the placeholder.
        await pilot.press("n")
        await settle(pilot)
        assert "Setting up postfix" not in log_text(output)

        await pilot.press("p")
        await settle(pilot)
        assert active_panel(screen) == "output-tab"
        assert log_text(output) == ran
        assert "Setting up postfix" in screen_text(pilot)

        # The output stays for the app session, also after leaving the lesson.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        reopened = app.screen
        assert isinstance(reopened, StepScreen)
        assert reopened.index == 1
        assert log_text(reopened.query_one("#output", OutputLog)) == ran


async def test_new_run_replaces_kept_output(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    session.run_plans["install-postfix"] = RunPlan(chunks=[OutputChunk("stdout", "first run\n")])
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("r")
        await settle(pilot)
        session.run_plans["install-postfix"] = RunPlan(
            chunks=[OutputChunk("stdout", "second run\n")]
        )
        await pilot.press("r")
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        output = log_text(screen.query_one("#output", OutputLog))
        assert "second run" in output
        assert "first run" not in output


def test_transcript_is_bounded() -> None:
    transcript = new_transcript()
    assert transcript.maxlen == MAX_LINES


async def test_no_hints_before_checking(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    # A check that failed in an earlier app session shows no hints either.
    session.progress.lesson("hello-postfix").steps["install-postfix"] = "failed"
    session.check_outcomes.append(first_fails)
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        await pilot.press("v")
        await pilot.pause()
        checks = screen.query_one("#checks", ChecksPanel)
        assert not checks.query(".check-hint")
        assert not checks.query_one("#step-hint", Markdown).display
        assert "Unable to locate package" not in screen_text(pilot)

        await pilot.press("r")
        await settle(pilot)
        assert len(checks.query(".check-hint")) == 1
        assert "Unable to locate package" in screen_text(pilot)

        # Back on the step later, the checks are unchecked again and show no hints.
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert not checks.query(".check-hint")
        assert not checks.query_one("#step-hint", Markdown).display
