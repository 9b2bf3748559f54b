"""Logs in again after a lost link, waiting longer after each failed attempt."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker, WorkerState

from workshop_tui.core.errors import (
    AuthenticationFailed,
    HostKeyChanged,
    RemoteError,
    WorkshopError,
)
from workshop_tui.core.session import ConnectReport
from workshop_tui.ui.session_api import AttendeeSession

RECONNECT_DELAYS: tuple[float, ...] = (1, 2, 4, 8, 15)
"""Seconds to wait after failed attempts 1, 2, 3, ...; the last value repeats forever."""


def wait_before_retry(delays: Sequence[float], attempt: int) -> float:
    """Return the seconds to wait after failed attempt number ``attempt`` (1-based)."""
    return delays[min(attempt, len(delays)) - 1]


class Reconnector(Widget):
    """A non-visual widget that retries ``session.connect()`` until it works or is stopped.

    A wrong password or a changed host key ends the retries, because waiting cannot fix
    them; every other remote error is retried.
    """

    DEFAULT_CSS = "Reconnector { display: none; }"

    class AttemptFailed(Message):
        """Attempt ``attempt`` failed; the next one starts after ``wait`` seconds."""

        def __init__(self, attempt: int, wait: float, error: WorkshopError) -> None:
            super().__init__()
            self.attempt = attempt
            self.wait = wait
            self.error = error

    class Reconnected(Message):
        """The session is logged in again."""

        def __init__(self, report: ConnectReport) -> None:
            super().__init__()
            self.report = report

    class GaveUp(Message):
        """Retrying stopped because of ``error``, which waiting cannot fix."""

        def __init__(self, error: BaseException) -> None:
            super().__init__()
            self.error = error

    def __init__(self, delays: Sequence[float] = RECONNECT_DELAYS) -> None:
        super().__init__()
        if not delays:
            raise ValueError("delays must list at least one wait in seconds")
        self.delays = tuple(delays)
        self._stop = threading.Event()

    def start(self, session: AttendeeSession) -> None:
        """Start retrying in a worker; a retry loop already running is stopped first."""
        self._stop.set()
        self._stop = threading.Event()
        self._retry(session, self._stop)

    def stop(self) -> None:
        """Stop retrying; an attempt in progress finishes, but its result is dropped."""
        self._stop.set()

    @work(thread=True, exclusive=True, group="reconnect", exit_on_error=False)
    def _retry(self, session: AttendeeSession, stop: threading.Event) -> None:
        attempt = 0
        while not stop.is_set():
            attempt += 1
            try:
                report = session.connect()
            except (AuthenticationFailed, HostKeyChanged) as error:
                if not stop.is_set():
                    self.post_message(self.GaveUp(error))
                return
            except RemoteError as error:
                wait = wait_before_retry(self.delays, attempt)
                if not stop.is_set():
                    self.post_message(self.AttemptFailed(attempt, wait, error))
                stop.wait(wait)
                continue
            except WorkshopError as error:
                if not stop.is_set():
                    self.post_message(self.GaveUp(error))
                return
            if not stop.is_set():
                self.post_message(self.Reconnected(report))
            return

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.post_message(self.GaveUp(event.worker.error))
