"""Runs a step's commands and checks, and replays earlier output, in thread workers that
report back with messages."""

from __future__ import annotations

import logging
import threading
from typing import Literal

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from workshop_tui.core.checks import CheckResult
from workshop_tui.core.diagnosis import Finding
from workshop_tui.core.errors import ConnectionLost, WorkshopError
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.progress import RunRecord
from workshop_tui.core.session import RunReport
from workshop_tui.core.variables import MissingVariable
from workshop_tui.ui.session_api import AttendeeSession
from workshop_tui.ui.widgets.output_log import ClosableFeed, OutputBuffer

logger = logging.getLogger(__name__)

Job = Literal["run", "check"]


def missing_variable_message(error: MissingVariable) -> str:
    """Explain a lesson variable without a value in the attendee's words."""
    return (
        f"This step needs the variable {{{{ {error.name} }}}}, which has no value. "
        f"Ask a facilitator to start the app with --var {error.name}=VALUE."
    )


def _diagnose(
    session: AttendeeSession, lesson: Lesson, results: list[CheckResult]
) -> list[Finding]:
    """Return the known faults behind failed ``results``; none when all passed.

    A diagnosis that cannot run (sudo refused, link lost) adds nothing: the checks
    already explain those problems, and the results stay valid.
    """
    if all(result.passed for result in results):
        return []
    try:
        return session.diagnose(lesson, results)
    except WorkshopError as error:
        logger.info("no diagnosis of the failed checks: %s", error)
        return []


class StepRunner(Widget):
    """A non-visual widget that owns the run, check and replay workers of the step screen.

    At most one run or check runs at a time. Output goes to ``buffer``; results, a lost
    link and failures arrive at the screen as the messages below. A replay of an earlier
    run's output goes to ``buffer`` through a :class:`ClosableFeed`, which the screen
    closes when a run starts or the step changes.
    """

    DEFAULT_CSS = "StepRunner { display: none; }"

    class RunFinished(Message):
        """The step's commands ended (successfully, with an error, or stopped)."""

        def __init__(self, report: RunReport) -> None:
            super().__init__()
            self.report = report

    class ChecksFinished(Message):
        """The step's checks were evaluated; ``findings`` explain failed ones, if known."""

        def __init__(self, results: list[CheckResult], findings: list[Finding]) -> None:
            super().__init__()
            self.results = results
            self.findings = findings

    class LinkLost(Message):
        """The connection broke during ``job``; reconnecting and repeating it resumes."""

        def __init__(self, job: Job, error: ConnectionLost) -> None:
            super().__init__()
            self.job = job
            self.error = error

    class ReplayFinished(Message):
        """The output of ``record``, the step's last run, was sent to ``feed``.

        ``record`` is None when the step had no finished run to replay.
        """

        def __init__(self, feed: ClosableFeed, record: RunRecord | None) -> None:
            super().__init__()
            self.feed = feed
            self.record = record

    class ReplayFailed(Message):
        """Reading the last run's output for ``feed`` failed with the error message ``text``."""

        def __init__(
            self, feed: ClosableFeed, text: str, unexpected: BaseException | None = None
        ) -> None:
            super().__init__()
            self.feed = feed
            self.text = text
            self.unexpected = unexpected

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
        self._replay_feeds: dict[Worker[None], ClosableFeed] = {}

    def run_commands(self, session: AttendeeSession, lesson: Lesson, step: Step) -> None:
        """Run ``step``'s commands, or follow a run of them that is still going."""
        self._stop = threading.Event()
        self._run_worker(session, lesson, step, self._stop)

    def run_checks(
        self, session: AttendeeSession, lesson: Lesson, step: Step, *, allow_wait: bool
    ) -> None:
        """Evaluate ``step``'s checks; ``allow_wait`` lets checks with ``wait`` retry."""
        self._check_worker(session, lesson, step, allow_wait)

    def replay_output(self, session: AttendeeSession, lesson: Lesson, step: Step) -> ClosableFeed:
        """Send the output of ``step``'s finished last run again, read from the server.

        Returns the feed that the output goes through; closing it drops the rest.
        """
        feed = ClosableFeed(self.buffer)
        self._replay_feeds[self._replay_worker(session, lesson, step, feed)] = feed
        return feed

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
    def _check_worker(
        self, session: AttendeeSession, lesson: Lesson, step: Step, allow_wait: bool
    ) -> None:
        try:
            results = session.check_step(lesson, step, allow_wait=allow_wait)
        except ConnectionLost as error:
            self.post_message(self.LinkLost("check", error))
        except WorkshopError as error:
            self.post_message(self.JobFailed("check", str(error)))
        except MissingVariable as error:
            self.post_message(self.JobFailed("check", missing_variable_message(error)))
        else:
            findings = _diagnose(session, lesson, results)
            self.post_message(self.ChecksFinished(results, findings))

    @work(thread=True, group="step-replay", exit_on_error=False)
    def _replay_worker(
        self, session: AttendeeSession, lesson: Lesson, step: Step, feed: ClosableFeed
    ) -> None:
        try:
            record = session.replay_output(lesson, step, on_output=feed.add)
        except WorkshopError as error:
            self.post_message(self.ReplayFailed(feed, str(error)))
        else:
            self.post_message(self.ReplayFinished(feed, record))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "step-replay":
            feed = self._replay_feeds.get(worker)
            error = worker.error
            if event.state == WorkerState.ERROR and feed is not None and error is not None:
                self.post_message(self.ReplayFailed(feed, str(error), unexpected=error))
            if worker.is_finished:
                self._replay_feeds.pop(worker, None)
            return
        error = worker.error
        if event.state == WorkerState.ERROR and error is not None:
            job: Job = "run" if worker.group == "step-run" else "check"
            self.post_message(self.JobFailed(job, str(error), unexpected=error))
