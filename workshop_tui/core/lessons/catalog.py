"""A set of lessons read from files, in the order their ``requires`` lists give."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from workshop_tui.core.errors import LessonError, LessonProblem
from workshop_tui.core.lessons.model import Lesson
from workshop_tui.core.lessons.parser import parse_lesson


def default_lessons_dir() -> Path:
    """Return the lessons shipped with workshop-tui.

    In a source checkout they live in ``lessons/`` next to the package; an installed
    wheel carries a copy as ``workshop_tui/_lessons``.
    """
    package_dir = Path(__file__).resolve().parents[2]
    checkout = package_dir.parent / "lessons"
    if checkout.is_dir():
        return checkout
    return package_dir / "_lessons"


@dataclass(frozen=True)
class Catalog:
    """Lessons ordered so that each comes after the lessons it requires."""

    lessons: tuple[Lesson, ...]

    def __iter__(self) -> Iterator[Lesson]:
        return iter(self.lessons)

    def __len__(self) -> int:
        return len(self.lessons)

    def get(self, lesson_id: str) -> Lesson | None:
        """Return the lesson with ``lesson_id``, or None."""
        for lesson in self.lessons:
            if lesson.id == lesson_id:
                return lesson
        return None


def lesson_files(paths: Iterable[Path]) -> list[Path]:
    """Expand directories into their ``*.md`` files, sorted by name.

    Raises:
        LessonError: a path does not exist, or a directory contains no lessons.
    """
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(child for child in path.glob("*.md") if child.is_file())
            if not found:
                raise LessonError([LessonProblem(path, 1, "this directory has no *.md lessons")])
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise LessonError([LessonProblem(path, 1, "no such file or directory")])
    return files


def load_catalog(paths: Sequence[Path] | None = None) -> Catalog:
    """Parse every lesson under ``paths`` (default: the shipped lessons) and order them.

    Raises:
        LessonError: any lesson is malformed, two lessons share an id, a lesson
            requires one that does not exist, or the requirements form a cycle.
            All problems of all files are reported together.
    """
    files = lesson_files(paths or [default_lessons_dir()])
    lessons: list[Lesson] = []
    problems: list[LessonProblem] = []
    for path in files:
        try:
            lessons.append(parse_lesson(path))
        except LessonError as error:
            problems.extend(error.problems)
            # A lesson with problems still takes part in the checks across lessons, so
            # one run of `lessons check` reports everything.
            if isinstance(error.partial, Lesson) and error.partial.id:
                lessons.append(error.partial)
    problems.extend(_cross_problems(lessons))
    if problems:
        raise LessonError(problems)
    return Catalog(tuple(_order(lessons)))


def _cross_problems(lessons: list[Lesson]) -> list[LessonProblem]:
    problems: list[LessonProblem] = []
    by_id: dict[str, Lesson] = {}
    for lesson in lessons:
        if lesson.id in by_id:
            problems.append(
                LessonProblem(
                    lesson.path,
                    1,
                    f"the id '{lesson.id}' is already used by {by_id[lesson.id].path}",
                )
            )
        by_id.setdefault(lesson.id, lesson)
    for lesson in lessons:
        for required in lesson.requires:
            if required not in by_id:
                problems.append(
                    LessonProblem(
                        lesson.path,
                        lesson.requires_line,
                        f"requires '{required}', but no lesson has that id; known ids: "
                        f"{', '.join(sorted(by_id))}. If it lives in another folder, "
                        "name that folder too (for example the shipped lessons/)",
                    )
                )
    cycle = _find_cycle(by_id)
    if cycle:
        first = by_id[cycle[0]]
        problems.append(
            LessonProblem(
                first.path, 1, "lessons require each other in a circle: " + " -> ".join(cycle)
            )
        )
    return problems


def _find_cycle(by_id: dict[str, Lesson]) -> list[str]:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(lesson_id: str) -> list[str]:
        if lesson_id in done or lesson_id not in by_id:
            return []
        if lesson_id in visiting:
            return [*visiting[visiting.index(lesson_id) :], lesson_id]
        visiting.append(lesson_id)
        for required in by_id[lesson_id].requires:
            cycle = visit(required)
            if cycle:
                return cycle
        visiting.pop()
        done.add(lesson_id)
        return []

    for lesson_id in by_id:
        cycle = visit(lesson_id)
        if cycle:
            return cycle
    return []


def _order(lessons: list[Lesson]) -> list[Lesson]:
    """Sort lessons so each follows its requirements, otherwise keeping file order."""
    ordered: list[Lesson] = []
    placed: set[str] = set()
    remaining = list(lessons)
    while remaining:
        for lesson in remaining:
            if all(required in placed for required in lesson.requires):
                ordered.append(lesson)
                placed.add(lesson.id)
                remaining.remove(lesson)
                break
        else:  # Unreachable after the cycle check; keep the rest in file order.
            ordered.extend(remaining)
            break
    return ordered
