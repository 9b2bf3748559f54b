"""Logs in again after a lost link, waiting longer after each failed attempt."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import partial

from textual.dom import DOMNode
from textual.message import Message

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


class Reconnector:
    """Retries ``session.connect()`` in a thread worker until it works or is stopped.

    The app owns one, so at most one retry loop runs at a time, whichever screen asked
    for it. The loop posts its messages to ``target``; each message carries the number
    of the loop that sent it, and :meth:`accept` drops those of a loop stopped since.
    A wrong password or a changed host key ends the retries, because waiting cannot fix
    them; every other remote error is retried.

    Call every method from the UI thread.
    """

    class AttemptFailed(Message):
        """Attempt ``attempt`` failed; the next one starts after ``wait`` seconds."""

        def __init__(self, attempt: int, wait: float, error: WorkshopError, *, loop: int) -> None:
            super().__init__()
            self.attempt = attempt
            self.wait = wait
            self.error = error
            self.loop = loop

    class Reconnected(Message):
        """The session is logged in again."""

        def __init__(self, report: ConnectReport, *, loop: int) -> None:
            super().__init__()
            self.report = report
            self.loop = loop

    class GaveUp(Message):
        """Retrying stopped because of ``error``, which waiting cannot fix."""

        def __init__(self, error: BaseException, *, loop: int) -> None:
            super().__init__()
            self.error = error
            self.loop = loop

    def __init__(self, target: DOMNode, delays: Sequence[float] = RECONNECT_DELAYS) -> None:
        if not delays:
            raise ValueError("delays must list at least one wait in seconds")
        self.target = target
        self.delays = tuple(delays)
        self.loop = 0
        """Number of the latest retry loop; 0 before the first."""
        self._running = False
        self._stop = threading.Event()
        self._wake = threading.Event()

    @property
    def running(self) -> bool:
        """True from :meth:`start` until the loop's last message was accepted or it was stopped."""
        return self._running

    def start(self, session: AttendeeSession) -> None:
        """Start retrying in a thread worker of ``target``.

        A loop that is already running keeps its attempt count, but when it waits
        between two attempts, it tries again at once.
        """
        if self._running:
            self._wake.set()
            return
        self.loop += 1
        self._running = True
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.target.run_worker(
            partial(self._retry, session, self.loop, self._stop, self._wake),
            name=f"reconnect {self.loop}",
            group="reconnect",
            thread=True,
            exit_on_error=False,
        )

    def stop(self) -> None:
        """Stop retrying; an attempt in progress finishes, but its result is dropped."""
        self._running = False
        self._stop.set()
        self._wake.set()

    def accept(self, message: AttemptFailed | Reconnected | GaveUp) -> bool:
        """Return whether ``message`` comes from the running loop, and end the loop on its
        last message (``Reconnected`` or ``GaveUp``)."""
        if not self._running or message.loop != self.loop:
            return False
        if not isinstance(message, self.AttemptFailed):
            self._running = False
        return True

    def _retry(
        self, session: AttendeeSession, loop: int, stop: threading.Event, wake: threading.Event
    ) -> None:
        attempt = 0
        while not stop.is_set():
            attempt += 1
            try:
                report = session.connect()
            except (AuthenticationFailed, HostKeyChanged) as error:
                self._post(stop, self.GaveUp(error, loop=loop))
                return
            except RemoteError as error:
                wait = wait_before_retry(self.delays, attempt)
                self._post(stop, self.AttemptFailed(attempt, wait, error, loop=loop))
                wake.wait(wait)
                wake.clear()
                continue
            except WorkshopError as error:
                self._post(stop, self.GaveUp(error, loop=loop))
                return
            except Exception as error:
                # A bug: reported like a failure that waiting cannot fix, so the loop
                # does not end without a message and leave the app reconnecting forever.
                self._post(stop, self.GaveUp(error, loop=loop))
                return
            self._post(stop, self.Reconnected(report, loop=loop))
            return

    def _post(self, stop: threading.Event, message: Message) -> None:
        if not stop.is_set():
            self.target.post_message(message)
