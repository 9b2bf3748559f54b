"""Runs a step's commands and checks in thread workers and reports back with messages."""

from __future__ import annotations

import threading
from typing import Literal

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from workshop_tui.core.checks import CheckResult
from workshop_tui.core.errors import ConnectionLost, WorkshopError
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.session import RunReport
from workshop_tui.core.variables import MissingVariable
from workshop_tui.ui.session_api import AttendeeSession
from workshop_tui.ui.widgets.output_log import OutputBuffer

Job = Literal["run", "check"]


def missing_variable_message(error: MissingVariable) -> str:
    """Explain a lesson variable without a value in the attendee's words."""
    return (
        f"This step needs the variable {{{{ {error.name} }}}}, which has no value. "
        f"Ask a facilitator to start the app with --var {error.name}=VALUE."
    )


class StepRunner(Widget):
    """A non-visual widget that owns the run and check workers of the step screen.

    At most one job runs at a time. Output goes to ``buffer``; results, a lost link and
    failures arrive at the screen as the messages below.
    """

    DEFAULT_CSS = "StepRunner { display: none; }"

    class RunFinished(Message):
        """The step's commands ended (successfully, with an error, or stopped)."""

        def __init__(self, report: RunReport) -> None:
            super().__init__()
            self.report = report

    class ChecksFinished(Message):
        """The step's checks were evaluated."""

        def __init__(self, results: list[CheckResult]) -> None:
            super().__init__()
            self.results = results

    class LinkLost(Message):
        """The connection broke during ``job``; reconnecting and repeating it resumes."""

        def __init__(self, job: Job, error: ConnectionLost) -> None:
            super().__init__()
            self.job = job
            self.error = error

    class JobFailed(Message):
        """``job`` failed; ``text`` is for the attendee, ``unexpected`` is set for a bug."""

        def __init__(self, job: Job, text: str, unexpected: BaseException | None = None) -> None:
            super().__init__()
            self.job = job
            self.text = text
            self.unexpected = unexpected

    def __init__(self, buffer: OutputBuffer) -> None:
        super().__init__()
        self.buffer = buffer
        self._stop = threading.Event()

    def run_commands(self, session: AttendeeSession, lesson: Lesson, step: Step) -> None:
        """Run ``step``'s commands, or follow a run of them that is still going."""
        self._stop = threading.Event()
        self._run_worker(session, lesson, step, self._stop)

    def run_checks(self, session: AttendeeSession, lesson: Lesson, step: Step) -> None:
        """Evaluate ``step``'s checks."""
        self._check_worker(session, lesson, step)

    def stop(self) -> None:
        """Ask the running commands to stop; the run then ends with ``stopped`` set."""
        self._stop.set()

    @work(thread=True, exclusive=True, group="step-run", exit_on_error=False)
    def _run_worker(
        self, session: AttendeeSession, lesson: Lesson, step: Step, stop: threading.Event
    ) -> None:
        try:
            report = session.run_step(lesson, step, on_output=self.buffer.add, cancel=stop)
        except ConnectionLost as error:
            self.post_message(self.LinkLost("run", error))
        except WorkshopError as error:
            self.post_message(self.JobFailed("run", str(error)))
        except MissingVariable as error:
            self.post_message(self.JobFailed("run", missing_variable_message(error)))
        else:
            self.post_message(self.RunFinished(report))

    @work(thread=True, exclusive=True, group="step-check", exit_on_error=False)
    def _check_worker(self, session: AttendeeSession, lesson: Lesson, step: Step) -> None:
        try:
            results = session.check_step(lesson, step)
        except ConnectionLost as error:
            self.post_message(self.LinkLost("check", error))
        except WorkshopError as error:
            self.post_message(self.JobFailed("check", str(error)))
        except MissingVariable as error:
            self.post_message(self.JobFailed("check", missing_variable_message(error)))
        else:
            self.post_message(self.ChecksFinished(results))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        error = event.worker.error
        if event.state == WorkerState.ERROR and error is not None:
            job: Job = "run" if event.worker.group == "step-run" else "check"
            self.post_message(self.JobFailed(job, str(error), unexpected=error))
