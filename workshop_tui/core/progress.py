"""The attendee's progress through the lessons, saved on their own machine.

Progress is kept per login (``user@host:port``), so one laptop can follow two servers.
Every change is written at once with an atomic replace, so a crash or a closed laptop
lid never leaves a half-written file. A file that cannot be read is moved aside, not
overwritten, and the attendee starts afresh with a warning.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from workshop_tui.core.files import locked, write_atomic

logger = logging.getLogger(__name__)

StepState = Literal["passed", "failed", "ran"]
"""The saved state of a step. ``ran`` means the commands finished and no check ran
since. ``failed`` means the last check failed. ``passed`` means the last check passed,
or the attendee read a step without checks."""

FORMAT_VERSION = 1


@dataclass
class RunRecord:
    """A run of a step's commands on the VPS, enough to find it again after a reconnect."""

    run_id: str
    remote_dir: str
    block: int
    """Index of the step's command block that this run executes."""

    stdout_offset: int = 0
    stderr_offset: int = 0
    exit_status: int | None = None
    stopped: bool = False
    """True when the attendee or the block's timeout stopped the run."""


@dataclass
class LessonProgress:
    """An attendee's position and step states in one lesson."""

    current_step: str | None = None
    steps: dict[str, StepState] = field(default_factory=dict)
    run: dict[str, RunRecord] = field(default_factory=dict)
    """The latest run per step id."""


@dataclass
class ServerProgress:
    """Everything saved for one login."""

    current_lesson: str | None = None
    lessons: dict[str, LessonProgress] = field(default_factory=dict)
    host_key: str | None = None
    """Fingerprint of the server's host key when this progress was made."""

    step_since: float | None = None
    """Epoch seconds when the attendee arrived at the current step."""

    hand_raised_at: float | None = None
    """Epoch seconds when the attendee asked a facilitator for help, or None when lowered."""

    updated_at: float | None = None
    """Epoch seconds of the last change, or None in files written before it was recorded."""

    @property
    def is_empty(self) -> bool:
        """True when no lesson was opened yet, whatever the host key and times."""
        return self.current_lesson is None and not self.lessons

    def lesson(self, lesson_id: str) -> LessonProgress:
        """Return the progress of a lesson, creating an empty record if needed."""
        return self.lessons.setdefault(lesson_id, LessonProgress())

    def step_state(self, lesson_id: str, step_id: str) -> StepState | None:
        """Return the saved state of a step, or None if it was never run or checked."""
        lesson = self.lessons.get(lesson_id)
        return lesson.steps.get(step_id) if lesson else None

    def passed_count(self, lesson_id: str, step_ids: list[str]) -> int:
        """Count the steps among ``step_ids`` that passed."""
        return sum(self.step_state(lesson_id, step_id) == "passed" for step_id in step_ids)


class ProgressStore:
    """A JSON file of :class:`ServerProgress` records, keyed by login target."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.warning: str | None = None
        """Set when an unreadable file was moved aside, for the UI to show once."""

    def load(self, target: str) -> ServerProgress:
        """Return the saved progress for ``target`` (``user@host:port``)."""
        with locked(self.path):
            data = self._read()
        raw = data.get("servers", {}).get(target)
        if not isinstance(raw, dict):
            return ServerProgress()
        try:
            return _server_from_json(raw)
        except (KeyError, TypeError, ValueError) as error:
            logger.warning("ignoring unreadable progress for %s: %s", target, error)
            return ServerProgress()

    def save(self, target: str, progress: ServerProgress) -> None:
        """Replace the saved progress for ``target``, keeping every other login's."""
        with locked(self.path):
            data = self._read()
            data["version"] = FORMAT_VERSION
            data.setdefault("servers", {})[target] = asdict(progress)
            write_atomic(self.path, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("the top level is not an object")
        except ValueError as error:
            aside = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            os.replace(self.path, aside)
            self.warning = (
                f"Saved progress in {self.path} could not be read ({error}); it was moved "
                f"to {aside} and you start from the first step."
            )
            logger.warning("%s", self.warning)
            return {}
        return data


def _server_from_json(raw: dict[str, Any]) -> ServerProgress:
    lessons: dict[str, LessonProgress] = {}
    for lesson_id, lesson in raw.get("lessons", {}).items():
        runs = {step_id: RunRecord(**run) for step_id, run in lesson.get("run", {}).items()}
        steps = {
            step_id: state
            for step_id, state in lesson.get("steps", {}).items()
            if state in ("passed", "failed", "ran")
        }
        lessons[str(lesson_id)] = LessonProgress(
            current_step=lesson.get("current_step"), steps=steps, run=runs
        )
    host_key = raw.get("host_key")
    return ServerProgress(
        current_lesson=raw.get("current_lesson"),
        lessons=lessons,
        host_key=host_key if isinstance(host_key, str) else None,
        step_since=_optional_seconds(raw.get("step_since")),
        hand_raised_at=_optional_seconds(raw.get("hand_raised_at")),
        updated_at=_optional_seconds(raw.get("updated_at")),
    )


def _optional_seconds(value: object) -> float | None:
    """Return a saved time in epoch seconds, or None when it is missing or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
