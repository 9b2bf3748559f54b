"""Summaries of saved progress for the lesson list and the step screen."""

from __future__ import annotations

from dataclasses import dataclass

from workshop_tui.core.lessons import Catalog, Lesson
from workshop_tui.core.progress import ServerProgress


@dataclass(frozen=True)
class LessonStatus:
    """How far an attendee is in one lesson."""

    passed: int
    """Steps whose checks passed, or reading steps that were read."""

    total: int
    resume_index: int
    """The step to open: the saved current step, else the first step not passed."""

    missing_requirements: tuple[str, ...]
    """Titles of the lessons in ``requires`` that are not finished yet."""

    @property
    def finished(self) -> bool:
        """True when every step passed."""
        return self.passed == self.total


def lesson_finished(lesson: Lesson, progress: ServerProgress) -> bool:
    """Return whether every step of ``lesson`` passed."""
    step_ids = [step.id for step in lesson.steps]
    return progress.passed_count(lesson.id, step_ids) == len(step_ids)


def resume_index(lesson: Lesson, progress: ServerProgress) -> int:
    """Return the index of the step to open: the saved one, else the first not passed."""
    saved = progress.lessons.get(lesson.id)
    if saved is not None and saved.current_step is not None:
        index = lesson.step_index(saved.current_step)
        if index is not None:
            return index
    for index, step in enumerate(lesson.steps):
        if progress.step_state(lesson.id, step.id) != "passed":
            return index
    return 0


def lesson_status(lesson: Lesson, catalog: Catalog, progress: ServerProgress) -> LessonStatus:
    """Summarise ``lesson`` for the lesson list."""
    missing: list[str] = []
    for required_id in lesson.requires:
        required = catalog.get(required_id)
        if required is not None and not lesson_finished(required, progress):
            missing.append(required.title)
    return LessonStatus(
        passed=progress.passed_count(lesson.id, [step.id for step in lesson.steps]),
        total=len(lesson.steps),
        resume_index=resume_index(lesson, progress),
        missing_requirements=tuple(missing),
    )
