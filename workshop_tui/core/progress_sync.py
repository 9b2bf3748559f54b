"""Keeping the progress file on the VPS current, and reading it back when a session connects.

:class:`SharedProgressWriter` writes the newest progress in a background thread, so saving
never waits for the network. :func:`merge_shared_progress` decides on connect whether the
file on the VPS or the progress on this computer is newer.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from workshop_tui.core.errors import ConnectionLost, RemoteError
from workshop_tui.core.progress import ServerProgress
from workshop_tui.core.shared_progress import (
    READ_SHARED_PROGRESS_SCRIPT,
    SHARED_PROGRESS_FILE,
    SharedProgress,
    decode_shared_progress,
    encode_shared_progress,
)

logger = logging.getLogger(__name__)

COALESCE_SECONDS = 0.2
"""Seconds that the writer waits after a change before it writes, so that a burst of
changes (a run records its start, its output offsets and its end) becomes one or two
writes."""

CLOSE_FLUSH_SECONDS = 5.0
"""Maximum seconds that closing a session waits for the last write to the VPS."""

Upload = Callable[[bytes], None]
"""Replaces the file on the VPS with the given bytes. Raises ``ConnectionLost`` when
there is no open connection, and ``RemoteError`` when the write failed."""


class SharedProgressWriter:
    """Writes the newest scheduled progress to the VPS in a daemon thread.

    ``schedule`` only stores a copy and wakes the thread, so it never blocks its caller.
    A state scheduled while another is pending replaces it. Writing starts only after
    ``resume``, which the session calls once it is connected and has read the file, so
    the app never overwrites a file that it has not read. After a lost connection the
    pending state waits for the next ``resume``; after another failure, for the next
    change or ``resume``.
    """

    def __init__(
        self, target: str, upload: Upload, *, coalesce_seconds: float = COALESCE_SECONDS
    ) -> None:
        self.target = target
        self.coalesce_seconds = coalesce_seconds
        self.writes = 0
        """Number of successful writes."""

        self._upload = upload
        self._condition = threading.Condition()
        self._pending: tuple[ServerProgress, str | None] | None = None
        self._writing = False
        self._connected = False
        self._blocked = False
        """True after a failed write other than a lost connection, until the next change."""
        self._closing = False
        self._generation = 0
        """Counts ``resume`` calls, so that a write that started on an old connection and
        failed does not mark the new connection as lost."""
        self._thread: threading.Thread | None = None
        self._last_failure: str | None = None

    def schedule(self, progress: ServerProgress, *, team: str | None) -> None:
        """Schedule a copy of ``progress`` for writing, so the caller may change it afterwards."""
        snapshot = copy.deepcopy(progress)
        with self._condition:
            self._pending = (snapshot, team)
            self._blocked = False
            self._start_thread()
            self._condition.notify_all()

    def resume(self) -> None:
        """Allow writing again, because the session has just connected."""
        with self._condition:
            self._generation += 1
            self._connected = True
            self._blocked = False
            self._closing = False
            self._start_thread()
            self._condition.notify_all()

    def close(self, timeout: float = CLOSE_FLUSH_SECONDS) -> None:
        """Write the pending state if the connection allows it, then stop the thread.

        Waits at most ``timeout`` seconds. The thread is a daemon, so a write that takes
        longer does not keep the process alive.
        """
        with self._condition:
            self._closing = True
            self._condition.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until nothing is being written or waiting to be written.

        Returns False when ``timeout`` seconds passed first.

        A state that cannot be written yet (no connection, or the last write failed)
        counts as idle.
        """
        deadline = time.monotonic() + timeout
        with self._condition:
            while self._writing or self._can_write():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._condition.wait(remaining)
        return True

    @property
    def pending(self) -> bool:
        """True when a scheduled state has not been written yet."""
        with self._condition:
            return self._pending is not None

    def _can_write(self) -> bool:
        return self._pending is not None and self._connected and not self._blocked

    def _start_thread(self) -> None:
        # Called with the condition held.
        if self._thread is None and not self._closing:
            self._thread = threading.Thread(
                target=self._run, name=f"progress-writer {self.target}", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._can_write() and not self._closing:
                    self._condition.wait()
                if not self._can_write():
                    self._thread = None
                    self._condition.notify_all()
                    return
                # Let a burst of changes settle: a newer state replaces the pending one.
                deadline = time.monotonic() + self.coalesce_seconds
                while not self._closing and (remaining := deadline - time.monotonic()) > 0:
                    self._condition.wait(remaining)
                if self._pending is None:
                    continue
                (progress, team), self._pending = self._pending, None
                self._writing = True
                generation = self._generation
            try:
                self._write(progress, team, generation)
            finally:
                with self._condition:
                    self._writing = False
                    self._condition.notify_all()

    def _write(self, progress: ServerProgress, team: str | None, generation: int) -> None:
        data = encode_shared_progress(progress, team=team, written_at=time.time())
        try:
            self._upload(data)
        except RemoteError as error:
            self._failed(progress, team, generation, error)
            return
        except Exception as error:  # A bug must not end the thread and stop all writes.
            # The stack is logged without the message, which could contain a password.
            stack = "".join(traceback.format_tb(error.__traceback__))
            logger.error(
                "unexpected %s while writing progress to %s:\n%s",
                type(error).__name__,
                self.target,
                stack,
            )
            self._failed(progress, team, generation, error)
            return
        self.writes += 1
        if self._last_failure is not None:
            logger.info("progress written to %s again", self.target)
            self._last_failure = None

    def _failed(
        self, progress: ServerProgress, team: str | None, generation: int, error: Exception
    ) -> None:
        with self._condition:
            if self._pending is None:
                self._pending = (progress, team)
            if isinstance(error, ConnectionLost):
                if generation == self._generation:
                    self._connected = False
            else:
                self._blocked = True
        message = str(error) if isinstance(error, RemoteError) else type(error).__name__
        # A flaky link fails every write the same way, so each message is logged once
        # until a write succeeds again.
        if message != self._last_failure:
            logger.warning(
                "writing ~/%s on %s failed, so the progress is kept for a retry: %s",
                SHARED_PROGRESS_FILE,
                self.target,
                message,
            )
            self._last_failure = message


# Reading the file on connect ----------------------------------------------------------------


def facts_and_progress_command(facts_command: str, boundary: str) -> str:
    """Return one command that prints the host facts, a line ``boundary``, then the file.

    The boundary line starts with a newline of its own, so it stays a line of its own
    also after facts that do not end with one.
    """
    return f"{facts_command}; printf '\\n%s\\n' {boundary}; {READ_SHARED_PROGRESS_SCRIPT}"


def split_facts_output(output: str, boundary: str) -> tuple[str, str | None]:
    """Split the output of :func:`facts_and_progress_command` into facts and file.

    The file part is None when the boundary line is missing, because the command
    stopped before it.
    """
    facts, found, shared = ("\n" + output).partition(f"\n{boundary}\n")
    if not found:
        return output, None
    return facts.removeprefix("\n"), shared


@dataclass(frozen=True)
class MergeResult:
    """The progress that a session keeps after reading the progress file on connect."""

    progress: ServerProgress
    adopted: bool
    """True when ``progress`` comes from the file on the VPS, False when it is the local one."""

    team: str | None
    warning: str | None = None
    """A message for the attendee when the file could not be read."""


def merge_shared_progress(
    local: ServerProgress, text: str | None, *, target: str, team: str | None
) -> MergeResult:
    """Choose between the local progress and the file's contents ``text``.

    The file wins when the local progress is empty, or when the file's last change is
    newer than the local one (its ``updated_at``, or ``written_at`` for a file without
    it). That happens when the team switched laptops or uses a second one. A file that
    cannot be read leaves the local progress with a warning, and the session then
    replaces the file. ``team`` is the session's team; without one, the file's team is
    kept.
    """
    if text is None:
        logger.warning("%s did not print its progress file; keeping the local progress", target)
        return MergeResult(local, adopted=False, team=team)
    try:
        shared = decode_shared_progress(text)
    except ValueError as error:
        logger.warning(
            "progress file ~/%s on %s is invalid: %s", SHARED_PROGRESS_FILE, target, error
        )
        warning = (
            f"The progress file ~/{SHARED_PROGRESS_FILE} on {target} could not be read "
            f"({error}). Your progress on this computer is kept, and the file on the "
            "server will be replaced with it."
        )
        return MergeResult(local, adopted=False, team=team, warning=warning)
    if shared is None:
        return MergeResult(local, adopted=False, team=team)
    team = team or shared.team
    if not _shared_is_newer(local, shared):
        return MergeResult(local, adopted=False, team=team)
    logger.info(
        "progress taken from ~/%s on %s (written at %s by workshop-tui %s)",
        SHARED_PROGRESS_FILE,
        target,
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(shared.written_at)),
        shared.app_version or "(unknown)",
    )
    return MergeResult(shared.progress, adopted=True, team=team)


def _shared_is_newer(local: ServerProgress, shared: SharedProgress) -> bool:
    if shared.progress.is_empty:
        return False
    if local.is_empty:
        return True
    shared_changed = shared.progress.updated_at
    if shared_changed is None:
        shared_changed = shared.written_at
    return shared_changed > (local.updated_at or 0.0)
