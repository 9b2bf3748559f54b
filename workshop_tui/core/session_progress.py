"""Keeping a session's progress: on this computer, and in the progress file on the VPS.

:class:`ProgressKeeping` is the part of :class:`workshop_tui.core.session.Session` that
records changes. Every change sets ``updated_at``, is saved to the local
:class:`ProgressStore` at once and is scheduled for the progress file on the VPS, which
a background :class:`SharedProgressWriter` writes.
"""

from __future__ import annotations

import logging
import threading
import time

from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.login import Login
from workshop_tui.core.progress import ProgressStore, ServerProgress, StepState
from workshop_tui.core.progress_sync import SharedProgressWriter, merge_shared_progress

logger = logging.getLogger(__name__)


class ProgressKeeping:
    """The part of ``Session`` that records progress. ``Session`` sets the attributes below."""

    login: Login
    progress_store: ProgressStore
    progress: ServerProgress
    team: str | None
    """The team name that the progress file on the VPS records."""

    shared_writer: SharedProgressWriter
    _save_lock: threading.RLock
    _progress_notice: str | None
    _shared_notice: str | None

    @property
    def progress_warning(self) -> str | None:
        """A message about saved progress that was reset or could not be read, or None."""
        notices = [self._progress_notice, self._shared_notice, self.progress_store.warning]
        return " ".join(notice for notice in notices if notice) or None

    def _bind_progress_to(self, fingerprint: str) -> None:
        """Start afresh when the saved progress belongs to another machine at this address.

        A reinstalled VPS or a re-created lab host keeps its address but has a new host
        key and none of the work. The old progress is kept under the old key's name.
        """
        recorded = self.progress.host_key
        if recorded == fingerprint:
            return
        if recorded is not None and self.progress.lessons:
            self.progress_store.save(f"{self.login.target} {recorded}", self.progress)
            self.progress = ServerProgress()
            self._progress_notice = (
                f"{self.login.target} is a new machine (its host key changed), so your "
                "progress starts again from the first step."
            )
            logger.info("progress for %s reset: host key changed", self.login.target)
        self.progress.host_key = fingerprint
        self._store_progress()

    def _merge_shared_progress(self, text: str | None) -> None:
        """Adopt the progress file on the VPS if it is newer, else replace it with ours.

        The file lives on the machine whose host key :meth:`_bind_progress_to` has just
        recorded, so adopted progress belongs to that key.
        """
        result = merge_shared_progress(
            self.progress, text, target=self.login.target, team=self.team
        )
        self.team = result.team
        self._shared_notice = result.warning
        with self._save_lock:
            if result.adopted:
                result.progress.host_key = self.progress.host_key
                self.progress = result.progress
            # Storing also replaces a write that is still pending from before the merge,
            # which would otherwise overwrite adopted progress with the older local one.
            self._store_progress()

    def save_progress(self) -> None:
        """Record a change: set ``updated_at``, write the progress to disk now, and
        schedule the write of the progress file on the VPS.

        The UI thread and a worker thread may both save. The lock allows one write of
        this session at a time, so the file never goes back to an older state.
        """
        with self._save_lock:
            self.progress.updated_at = time.time()
            self._store_progress()

    def _store_progress(self) -> None:
        """Write the progress as it is, without marking a change."""
        with self._save_lock:
            self.progress_store.save(self.login.target, self.progress)
            self.shared_writer.schedule(self.progress, team=self.team)

    def set_position(self, lesson: Lesson, step: Step) -> None:
        """Remember that the attendee is looking at ``step`` of ``lesson``.

        Arriving at another step sets ``step_since``. Showing the same step again
        changes nothing.
        """
        with self._save_lock:
            lesson_progress = self.progress.lessons.get(lesson.id)
            if (
                self.progress.current_lesson == lesson.id
                and lesson_progress is not None
                and lesson_progress.current_step == step.id
            ):
                return
            self.progress.current_lesson = lesson.id
            self.progress.lesson(lesson.id).current_step = step.id
            self.progress.step_since = time.time()
            self.save_progress()

    def set_step_state(self, lesson: Lesson, step: Step, state: StepState) -> None:
        """Record the outcome of running or checking a step."""
        with self._save_lock:
            self.progress.lesson(lesson.id).steps[step.id] = state
            self.save_progress()

    def set_hand_raised(self, raised: bool) -> None:
        """Raise or lower the attendee's hand, which the board shows to the facilitators."""
        with self._save_lock:
            if raised == (self.progress.hand_raised_at is not None):
                return
            self.progress.hand_raised_at = time.time() if raised else None
            self.save_progress()

    def _is_position(self, lesson: Lesson, step: Step) -> bool:
        """Return whether ``step`` of ``lesson`` is the attendee's current step."""
        lesson_progress = self.progress.lessons.get(lesson.id)
        return (
            self.progress.current_lesson == lesson.id
            and lesson_progress is not None
            and lesson_progress.current_step == step.id
        )

    def _record_check(self, lesson: Lesson, step: Step, *, passed: bool) -> None:
        """Save whether the checks of ``step`` all passed.

        A pass of the current step lowers a raised hand, because the attendee has solved
        what they most likely asked help for.
        """
        with self._save_lock:
            self.progress.lesson(lesson.id).steps[step.id] = "passed" if passed else "failed"
            if passed and self._is_position(lesson, step):
                self.progress.hand_raised_at = None
            self.save_progress()
