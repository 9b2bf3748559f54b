"""The step screen's side of a lost link: showing the app's reconnect, then repeating the
run or check that the lost link cut."""

from __future__ import annotations

from workshop_tui.core.errors import WorkshopError
from workshop_tui.core.lessons import Lesson
from workshop_tui.ui.screens.step_jobs import StepJobsScreen
from workshop_tui.ui.screens.step_text import StatusKind
from workshop_tui.ui.session_api import AttendeeSession
from workshop_tui.ui.widgets.output_log import OutputLog
from workshop_tui.ui.widgets.reconnector import Reconnector
from workshop_tui.ui.widgets.step_runner import Job, StepRunner

LINK_LOST_DURING_RUN = "Connection lost — your commands keep running on the server. Reconnecting…"
LINK_LOST_DURING_CHECK = "Connection lost while checking. Reconnecting…"
LINK_LOST_WHILE_IDLE = "Connection lost. Reconnecting…"


class StepLinkScreen(StepJobsScreen):
    """The step screen's side of reconnecting, while the app makes the attempts.

    The app calls :meth:`link_lost` when it finds the connection broken while nothing
    runs. It reports its attempts to :meth:`reconnect_attempt_failed`,
    :meth:`reconnected` and :meth:`reconnect_gave_up`.
    """

    def __init__(self, lesson: Lesson, index: int, session: AttendeeSession) -> None:
        super().__init__(lesson, index, session)
        self._status_before_loss: tuple[str, StatusKind] | None = None
        """The status line to show again after a reconnect with nothing to resume."""

    def on_step_runner_link_lost(self, message: StepRunner.LinkLost) -> None:
        self.query_one("#output", OutputLog).flush(final=True)
        self._reconnect(message.job)

    def link_lost(self) -> None:
        """Reconnect because the app found the connection broken while nothing ran."""
        if self.phase == "idle":
            self._reconnect(None)

    def _reconnect(self, job: Job | None) -> None:
        """Reconnect through the app, then repeat ``job`` (a run resumes the same commands)."""
        if self.phase == "idle":
            self._status_before_loss = self._status
        self._resume_job = job
        self.phase = "reconnecting"
        self.show_reconnecting()
        if job == "run":
            self.query_one("#output", OutputLog).write_note("— connection lost; reconnecting —")
        self.workshop.reconnect()

    def show_reconnecting(self) -> None:
        """Show in the status line that the app is reconnecting, and why."""
        self.set_status(f"{self._link_lost_text()} Press x to stop trying.", "warning")

    def _link_lost_text(self) -> str:
        if self._resume_job == "run":
            return LINK_LOST_DURING_RUN
        if self._resume_job == "check":
            return LINK_LOST_DURING_CHECK
        return LINK_LOST_WHILE_IDLE

    def reconnect_attempt_failed(self, message: Reconnector.AttemptFailed) -> None:
        """Show that a reconnect attempt failed and when the next one starts."""
        if self.phase != "reconnecting":
            return
        self.set_status(
            f"{self._link_lost_text()} Attempt {message.attempt} failed: {message.error} "
            f"Next try in {message.wait:g} s; press x to stop trying.",
            "warning",
        )

    def reconnected(self) -> None:
        """Repeat the run or check that the lost link cut, now that the app is connected."""
        if self.phase != "reconnecting":
            return
        job, self._resume_job = self._resume_job, None
        self.phase = "idle"
        if job == "run":
            output = self.query_one("#output", OutputLog)
            output.write_note("— connected again; following the run —")
            self._start_run(resume=True)
        elif job == "check":
            self._start_checks()
        else:
            self._show_status_before_loss()
            # A step shown while reconnecting could not read its last output yet.
            transcript = self.workshop.step_transcripts.get((self.lesson.id, self.step.id))
            if self.step.commands and transcript is None and self._replay is None:
                self.replay_last_run()

    def reconnect_gave_up(self, error: BaseException) -> None:
        """Show why the app stopped reconnecting; the app shows a dialog where one is needed."""
        if self.phase != "reconnecting":
            return
        self._resume_job = None
        self.phase = "idle"
        self._status_before_loss = None
        if isinstance(error, WorkshopError):
            self.set_status(f"✖ Reconnecting stopped: {error}", "failed")
        else:
            self.set_status("✖ Reconnecting failed. Press r or c to try again.", "failed")

    def _show_status_before_loss(self) -> None:
        if self._status_before_loss is not None:
            self.set_status(*self._status_before_loss)
            self._status_before_loss = None

    def _stop_reconnecting(self) -> None:
        self.workshop.stop_reconnecting()
        job, self._resume_job = self._resume_job, None
        self.phase = "idle"
        self._status_before_loss = None
        if job == "run":
            text = (
                "Offline. Your commands may still be running; press r to reconnect and follow them."
            )
        else:
            text = "Offline. Press r or c to reconnect."
        self.set_status(text, "warning")

    def _leave_reconnect_to_app(self) -> None:
        """Drop the job to resume, but let the app go on reconnecting, as the screen closes."""
        self._resume_job = None
        self._status_before_loss = None
        self.phase = "idle"
