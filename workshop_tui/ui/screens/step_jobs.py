"""Running a step's commands and checks from the step screen.

:class:`StepJobsScreen` contains the state of the step on screen and reacts to the messages
of the :class:`StepRunner` widget. :class:`StepLinkScreen` adds what happens when the link
breaks, and :class:`StepScreen` adds the layout, navigation and the other actions.
"""

from __future__ import annotations

from typing import Literal

from textual.reactive import reactive
from textual.widgets import Static, Tab, Tabs

from workshop_tui.core.checks import CheckResult
from workshop_tui.core.diagnosis import findings_markdown
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.ui.screens.base import WorkshopScreen
from workshop_tui.ui.screens.step_text import StatusKind, block_text, replay_heading
from workshop_tui.ui.session_api import AttendeeSession
from workshop_tui.ui.widgets.checks_panel import ChecksPanel, fill_in, summarise
from workshop_tui.ui.widgets.output_log import (
    PLACEHOLDER_STYLE,
    ClosableFeed,
    OutputBuffer,
    OutputLog,
)
from workshop_tui.ui.widgets.step_header import StepHeader
from workshop_tui.ui.widgets.step_runner import Job, StepRunner

Phase = Literal["idle", "running", "checking", "reconnecting"]


class StepJobsScreen(WorkshopScreen):
    """The state of one step on screen, and its run, check and reconnect jobs."""

    phase: reactive[Phase] = reactive("idle")
    """What the screen is doing; every phase but idle blocks new runs and checks."""

    def __init__(self, lesson: Lesson, index: int, session: AttendeeSession) -> None:
        super().__init__()
        self.lesson = lesson
        self.index = index
        self.session = session
        self.results: list[CheckResult] = []
        """The latest check results of the step on screen; empty until checked."""
        self.output_buffer = OutputBuffer()
        self._resume_job: Job | None = None
        """The run or check to repeat once reconnected, or None when the link broke while
        nothing ran."""
        self._status: tuple[str, StatusKind] = ("", "info")
        """The text and kind of the status line."""
        self._stop_requested = False
        """True once the attendee confirmed Stop for the current run."""
        self._replay: ClosableFeed | None = None
        """The feed of the replay of the last run's output in progress, if any."""

    @property
    def step(self) -> Step:
        """The step on screen."""
        return self.lesson.steps[self.index]

    @property
    def commands_in_progress(self) -> bool:
        """True while the step's commands run, also while reconnecting to follow them."""
        return self.phase == "running" or (
            self.phase == "reconnecting" and self._resume_job == "run"
        )

    def watch_phase(self) -> None:
        self.refresh_bindings()

    def set_status(self, text: str, kind: StatusKind) -> None:
        """Show ``text`` in the status line, coloured by ``kind``."""
        self._status = (text, kind)
        status = self.query_one("#status", Static)
        status.update(self.workshop.redact(text))
        status.set_classes(f"-{kind}")

    def show_panel(self, panel: Literal["output", "checks"]) -> None:
        """Bring the output or the checks to the front (only matters on narrow terminals)."""
        self.query_one(Tabs).active = f"{panel}-tab"

    def set_checks_label(self, label: str) -> None:
        """Set the text of the tab that leads to the checks."""
        self.query_one("#checks-tab", Tab).label = label

    def show_hand(self) -> bool:
        """Show in the header whether the hand is raised, and return whether it was lowered."""
        header = self.query_one(StepHeader)
        was_raised = header.text.hand_raised
        raised = self.session.progress.hand_raised_at is not None
        header.show_hand(raised)
        return was_raised and not raised

    def after_done(self) -> str:
        """Return what to do after the step on screen is done."""
        if self.index + 1 < len(self.lesson.steps):
            return "Press n for the next step."
        return "This is the last step: press n to finish the lesson."

    # Running commands and checks -------------------------------------------------------------

    def _start_run(self, *, resume: bool) -> None:
        output = self.query_one("#output", OutputLog)
        self.cancel_replay()
        if not resume:
            self._stop_requested = False
            output.restart()
            # The app keeps the transcript, so this step's output is shown again when
            # the attendee comes back to the step.
            self.workshop.step_transcripts[self.lesson.id, self.step.id] = output.transcript
            output.write_note(f"$ Running the commands of “{self.step.title}”…")
        self.phase = "running"
        self.show_panel("output")
        runner = self.query_one(StepRunner)
        runner.run_commands(self.session, self.lesson, self.step)
        if self._stop_requested:
            # Stop was confirmed, but the link dropped before the commands ended.
            runner.stop()
            self.set_status("Stopping the commands…", "warning")
        else:
            self.set_status("Running the commands… Press x to stop them.", "running")

    def stop_run(self) -> None:
        """Stop the running commands. The status reports the stop only once the run has ended.

        During a reconnect the commands are stopped as soon as the run is followed again.
        """
        self._stop_requested = True
        if self.phase == "running":
            self.query_one(StepRunner).stop()
            self.set_status("Stopping the commands…", "warning")
        elif self.phase == "reconnecting" and self._resume_job == "run":
            self.set_status(
                "Reconnecting… The commands are stopped as soon as the connection is back. "
                "Press x to stop trying.",
                "warning",
            )

    def never_ran(self) -> bool:
        """Return whether the step on screen has commands that were never run."""
        return bool(self.step.commands) and self.session.last_run(self.lesson, self.step) is None

    def _start_checks(self) -> None:
        self.phase = "checking"
        self.query_one("#checks", ChecksPanel).show_checks(
            self.step.checks, self.session.values(self.lesson), "running"
        )
        self.show_panel("checks")
        self.set_status("Checking…", "running")
        # Before the commands ran, a check that waits for their effect would only wait
        # and then fail, so it reports its first result at once.
        self.query_one(StepRunner).run_checks(
            self.session, self.lesson, self.step, allow_wait=not self.never_ran()
        )

    def on_step_runner_run_finished(self, message: StepRunner.RunFinished) -> None:
        output = self.query_one("#output", OutputLog)
        output.flush(final=True)
        report = message.report
        self.phase = "idle"
        if report.stopped and self._stop_requested:
            output.write_note("■ The commands were stopped.")
            self.set_status("■ The commands were stopped. Press r to run them again.", "warning")
        elif report.stopped:
            output.write_note("■ The commands took longer than their time limit and were stopped.")
            self.set_status(
                "✖ The commands took too long and were stopped. Read the output, then press r "
                "to try again or h for a hint.",
                "failed",
            )
        elif report.succeeded:
            output.write_note("✓ The commands finished.")
            if self.step.checks:
                self._start_checks()
            else:
                self.set_status("✓ The commands finished.", "done")
        else:
            where = ""
            if report.failed_block is not None:
                where = block_text(self.step, report.failed_block)
            output.write_note(f"✖ A command failed{where} with exit status {report.exit_status}.")
            self.set_status(
                f"✖ A command failed{where} (exit status {report.exit_status}). Read the "
                "output, then press r to try again or h for a hint.",
                "failed",
            )

    def on_step_runner_checks_finished(self, message: StepRunner.ChecksFinished) -> None:
        self.phase = "idle"
        self.results = message.results
        values = self.session.values(self.lesson)
        checks = self.query_one("#checks", ChecksPanel)
        checks.show_results(message.results, values)
        checks.show_findings(self.workshop.redact(findings_markdown(message.findings)))
        self.set_checks_label(summarise(message.results).plain)
        self.show_panel("checks")
        failed = sum(not result.passed for result in message.results)
        if failed == 0:
            self.set_status(f"✓ Step done. {self.after_done()}", "done")
            # The session lowers a raised hand when the current step's checks pass.
            if self.show_hand():
                self.notify(
                    "The step passed, so your raised hand was lowered. "
                    "Press a if you still want a facilitator to come over."
                )
            return
        if self.never_ran():
            advice = "This step's commands have not run yet, so press r to run them first."
        else:
            advice = "Read why below, fix it and press c to check again."
        self.set_status(f"✖ {failed} of {len(message.results)} checks failed. {advice}", "failed")
        if self.step.hint is not None:
            checks.show_step_hint(fill_in(self.step.hint, values))

    def on_step_runner_job_failed(self, message: StepRunner.JobFailed) -> None:
        self.query_one("#output", OutputLog).flush(final=True)
        self.phase = "idle"
        if message.job == "check":
            self.query_one("#checks", ChecksPanel).show_checks(
                self.step.checks, self.session.values(self.lesson), "pending"
            )
        if message.unexpected is not None:
            action = "Running the commands" if message.job == "run" else "Checking"
            self.set_status(
                f"✖ {action} failed unexpectedly. Press {message.job[0]} to try again.", "failed"
            )
            self.workshop.show_unexpected_error(message.unexpected)
        else:
            self.set_status(f"✖ {message.text}", "failed")

    # Replaying the output of an earlier run ---------------------------------------------------

    def replay_last_run(self) -> None:
        """Show the output of the step's finished last run, read again from the server.

        The output panel is cleared first. Once the replay is complete, the app keeps it
        as the step's transcript, so it is read from the server only once per app session.
        """
        record = self.session.last_run(self.lesson, self.step)
        if record is None or record.exit_status is None:
            return
        output = self.query_one("#output", OutputLog)
        self.cancel_replay()
        output.restart()
        output.write_note(replay_heading(self.step, record))
        self._replay = self.query_one(StepRunner).replay_output(
            self.session, self.lesson, self.step
        )

    def cancel_replay(self) -> None:
        """Stop showing a replay in progress; the output it has not sent yet is dropped."""
        if self._replay is not None:
            self._replay.close()
            self._replay = None

    def on_step_runner_replay_finished(self, message: StepRunner.ReplayFinished) -> None:
        if message.feed is not self._replay:
            return
        self._replay = None
        output = self.query_one("#output", OutputLog)
        output.flush(final=True)
        record = message.record
        if len(output.transcript) == 1:  # Only the heading that replay_last_run wrote.
            output.write_note(
                "(The commands printed nothing, or the server no longer has their output.)",
                PLACEHOLDER_STYLE,
            )
        if record is not None and record.exit_status == 0:
            output.write_note("✓ The commands finished.")
        elif record is not None and record.stopped:
            output.write_note("■ The commands were stopped.")
        elif record is not None:
            where = block_text(self.step, record.block)
            output.write_note(f"✖ A command failed{where} with exit status {record.exit_status}.")
        self.workshop.step_transcripts[self.lesson.id, self.step.id] = output.transcript

    def on_step_runner_replay_failed(self, message: StepRunner.ReplayFailed) -> None:
        if message.feed is not self._replay:
            return
        self._replay = None
        output = self.query_one("#output", OutputLog)
        output.flush(final=True)
        output.write_note(
            f"The output of the last run could not be read from the server: {message.text}",
            PLACEHOLDER_STYLE,
        )
        if message.unexpected is not None:
            self.workshop.show_unexpected_error(message.unexpected)
