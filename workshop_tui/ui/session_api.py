"""The part of :class:`workshop_tui.core.session.Session` that the UI uses.

The screens depend on this protocol rather than on ``Session`` itself, so tests can drive
the whole UI with a scripted stand-in that needs no network.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from workshop_tui.core.checks import CheckResult
from workshop_tui.core.diagnosis import Finding
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.login import Login
from workshop_tui.core.progress import RunRecord, ServerProgress, StepState
from workshop_tui.core.remote import NewKeyConfirmation
from workshop_tui.core.session import ConnectReport, OutputChunk, RunReport


class AttendeeSession(Protocol):
    """An attendee's connection to their VPS, with their lesson progress."""

    login: Login
    progress: ServerProgress

    @property
    def progress_warning(self) -> str | None: ...

    @property
    def link_open(self) -> bool: ...

    def connect(self, confirm_new_key: NewKeyConfirmation | None = None) -> ConnectReport: ...

    def close(self) -> None: ...

    def values(self, lesson: Lesson | None = None) -> dict[str, str]: ...

    def run_step(
        self,
        lesson: Lesson,
        step: Step,
        *,
        on_output: Callable[[OutputChunk], None],
        cancel: threading.Event | None = None,
    ) -> RunReport: ...

    def last_run(self, lesson: Lesson, step: Step) -> RunRecord | None: ...

    def replay_output(
        self, lesson: Lesson, step: Step, *, on_output: Callable[[OutputChunk], None]
    ) -> RunRecord | None: ...

    def unfinished_run(self, lesson: Lesson, step: Step) -> bool: ...

    def check_step(
        self, lesson: Lesson, step: Step, *, allow_wait: bool = True
    ) -> list[CheckResult]: ...

    def diagnose(self, lesson: Lesson, results: Sequence[CheckResult]) -> list[Finding]: ...

    def set_position(self, lesson: Lesson, step: Step) -> None: ...

    def set_step_state(self, lesson: Lesson, step: Step, state: StepState) -> None: ...

    def set_hand_raised(self, raised: bool) -> None: ...


SessionFactory = Callable[[Login], AttendeeSession]
"""Creates the session for a login; called in a worker thread, so it may read files."""
