"""A step whose commands ran in an earlier app session: its output and its status line."""

from __future__ import annotations

import threading
from collections.abc import Callable

from workshop_tui.core.errors import RemoteError
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.progress import RunRecord
from workshop_tui.core.session import OutputChunk
from workshop_tui.ui.dialogs.unexpected_error import UnexpectedErrorDialog
from workshop_tui.ui.screens.step import StepScreen
from workshop_tui.ui.widgets.output_log import OutputLog

from .conftest import AppMaker
from .fakes import FakeSession, RunPlan
from .helpers import open_step_screen, phase_of, screen_text, settle
from .test_step_screen import start_at
from .test_step_stop import status_of

EARLIER_OUTPUT = [
    OutputChunk("stdout", "Reading package lists...\n"),
    OutputChunk("stderr", "E: Unable to locate package postfix\n"),
]


def ran_earlier(session: FakeSession, exit_status: int | None) -> None:
    """Record a run of install-postfix from an earlier app session, as the core saves it."""
    start_at(session, "install-postfix")
    lesson = session.progress.lesson("hello-postfix")
    lesson.steps["install-postfix"] = "ran"
    lesson.run["install-postfix"] = RunRecord(
        run_id="20250101T090000Z-1a2b3c4d",
        remote_dir="/root/.workshop-tui/runs/20250101T090000Z-1a2b3c4d",
        block=0,
        exit_status=exit_status,
    )
    session.replays["install-postfix"] = list(EARLIER_OUTPUT)


def replay_calls(session: FakeSession) -> list[str]:
    return [call for call in session.calls if call.startswith("replay_output")]


def output_of(screen: StepScreen) -> str:
    """Return the output panel's lines as written, before the panel wraps them."""
    return "\n".join(line.plain for line in screen.query_one("#output", OutputLog).transcript)


async def test_failed_run_replayed_on_open(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=100)
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        assert replay_calls(session) == ["replay_output:install-postfix"]
        assert output_of(screen).splitlines() == [
            "Output of the last run:",
            "Reading package lists...",
            "▌E: Unable to locate package postfix",
            "✖ A command failed with exit status 100.",
        ]
        assert "Unable to locate package postfix" in screen_text(pilot)
        assert status_of(screen) == (
            "✖ The commands failed last time (exit status 100). Read their output, then "
            "press r to run them again or h for a hint."
        )


async def test_successful_run_replayed(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=0)
    session.replays["install-postfix"] = [OutputChunk("stdout", "Setting up postfix ...\n")]
    app = make_app()
    async with open_step_screen(app) as (_pilot, screen):
        assert output_of(screen).splitlines() == [
            "Output of the last run:",
            "Setting up postfix ...",
            "✓ The commands finished.",
        ]
        assert status_of(screen) == "The commands ran. Press c to check the result."


async def test_replay_without_output_says_so(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=0)
    session.replays["install-postfix"] = []
    app = make_app()
    async with open_step_screen(app) as (_pilot, screen):
        assert output_of(screen).splitlines() == [
            "Output of the last run:",
            "(The commands printed nothing, or the server no longer has their output.)",
            "✓ The commands finished.",
        ]


async def test_failed_run_beats_failed_check(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=100)
    session.progress.lesson("hello-postfix").steps["install-postfix"] = "failed"
    app = make_app()
    async with open_step_screen(app) as (_pilot, screen):
        assert status_of(screen).startswith("✖ The commands failed last time (exit status 100).")


async def test_replayed_once_per_app_session(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=100)
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        replayed = output_of(screen)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert output_of(screen) == replayed
        assert replay_calls(session) == ["replay_output:install-postfix"]


async def test_unfinished_run_not_replayed(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=None)
    app = make_app()
    async with open_step_screen(app) as (_pilot, screen):
        assert replay_calls(session) == []
        assert output_of(screen) == "The output of this step's commands appears here."
        assert status_of(screen) == (
            "Commands of this step started earlier may still be running on your server. "
            "Press r to follow their output."
        )


async def test_never_run_step_not_replayed(make_app: AppMaker, session: FakeSession) -> None:
    start_at(session, "install-postfix")
    app = make_app()
    async with open_step_screen(app) as (_pilot, screen):
        assert replay_calls(session) == []
        assert status_of(screen) == "Read the step, then press r to run its commands."


async def test_run_during_replay_drops_it(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=100)
    gate = threading.Event()
    session.replay_gate = gate
    session.run_plans["install-postfix"] = RunPlan(chunks=[OutputChunk("stdout", "fresh run\n")])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        for _ in range(200):
            await pilot.pause(0.01)
            if isinstance(screen, StepScreen) and "Reading package lists" in output_of(screen):
                break
            screen = app.screen
        assert isinstance(screen, StepScreen)
        assert "Reading package lists" in output_of(screen)

        await pilot.press("r")
        gate.set()
        await settle(pilot)
        output = output_of(screen)
        assert "fresh run" in output
        assert "Reading package lists" not in output
        assert "Unable to locate package" not in output
        assert "exit status 100" not in output


def failing_replay(session: FakeSession, error: BaseException) -> Callable[..., RunRecord | None]:
    """Return a replay_output that raises ``error``."""

    def replay(
        lesson: Lesson, step: Step, *, on_output: Callable[[OutputChunk], None]
    ) -> RunRecord | None:
        session.calls.append(f"replay_output:{step.id}")
        raise error

    return replay


async def test_replay_failure_is_noted(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=100)
    session.replay_output = failing_replay(  # type: ignore[method-assign]
        session,
        RemoteError("Could not read the run's output on root@203.0.113.10: Permission denied"),
    )
    app = make_app()
    async with open_step_screen(app) as (pilot, screen):
        assert output_of(screen).splitlines()[-1] == (
            "The output of the last run could not be read from the server: Could not read "
            "the run's output on root@203.0.113.10: Permission denied"
        )
        assert status_of(screen).startswith("✖ The commands failed last time (exit status 100).")
        # Not kept, so that the next visit to the step tries again.
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("p")
        await settle(pilot)
        assert replay_calls(session) == ["replay_output:install-postfix"] * 2


async def test_replay_bug_shows_dialog(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=100)
    session.replay_output = failing_replay(  # type: ignore[method-assign]
        session, KeyError("stdout_offset")
    )
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, UnexpectedErrorDialog)
        assert "KeyError: 'stdout_offset'" in screen_text(pilot)
        await pilot.press("escape")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, StepScreen)
        assert output_of(screen).splitlines()[-1] == (
            "The output of the last run could not be read from the server: 'stdout_offset'"
        )
        assert phase_of(screen) == "idle"


async def test_stopped_run_not_called_failed(make_app: AppMaker, session: FakeSession) -> None:
    ran_earlier(session, exit_status=143)
    record = session.progress.lesson("hello-postfix").run["install-postfix"]
    record.stopped = True
    app = make_app()
    async with open_step_screen(app) as (_pilot, screen):
        assert (
            status_of(screen) == "■ The commands were stopped last time. Press r to run them again."
        )
