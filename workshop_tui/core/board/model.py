"""What the board has read about each team, and how it turns that into grid cells and a summary.

A :class:`TeamSnapshot` is what one refresh read from a team's VPS: the progress file that
the attendee app keeps there and the results of the current lesson's checks. The board
never changes anything on a VPS, so everything here is derived from those two sources.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from workshop_tui.core.checks import CheckResult
from workshop_tui.core.lessons import Lesson, Step
from workshop_tui.core.progress import ServerProgress
from workshop_tui.core.roster import Team

Reach = Literal["connecting", "online", "unreachable", "refused"]
"""Whether the board can read a team's VPS. ``refused`` means the VPS responded but the
login failed or its host key changed, which waiting does not fix."""

CellState = Literal["done", "current", "failing", "not_started"]
"""The state of one step of one team, as the grid shows it."""


@dataclass(frozen=True)
class TeamSnapshot:
    """The latest facts the board has about one team.

    When a refresh fails, the board keeps the data of the last good refresh and sets
    ``reach`` and ``problem``, so the grid can show where the team was.
    """

    team: Team
    reach: Reach = "connecting"
    problem: str | None = None
    """The reason the VPS cannot be read, in one line; None while it can."""

    progress: ServerProgress | None = None
    """The progress file the attendee app wrote on the VPS; None before the first read
    or when the team has not started the app yet."""

    written_at: float | None = None
    """When the attendee app wrote the progress file, in epoch seconds (its own clock)."""

    lesson_id: str | None = None
    """The lesson whose checks are in ``results``."""

    results: Mapping[str, tuple[CheckResult, ...]] = field(default_factory=dict)
    """Check results of the lesson ``lesson_id``, by step id."""

    last_output: str = ""
    """The end of the output of the latest run of the current step."""

    polled_at: float | None = None
    """When the data was read, in epoch seconds (the board's clock); None before the
    first complete refresh."""

    round_trips: int = 0
    """SSH exec requests that the latest refresh sent to this VPS."""

    tunnels: int = 0
    """SSH tunnels that the latest refresh opened for protocol checks."""

    @property
    def current_lesson(self) -> str | None:
        """The id of the lesson the attendee has open, or None."""
        return self.progress.current_lesson if self.progress else None

    def current_step(self, lesson: Lesson) -> Step | None:
        """Return the step the attendee has open in ``lesson``, or None."""
        if self.progress is None or self.progress.current_lesson != lesson.id:
            return None
        saved = self.progress.lessons.get(lesson.id)
        if saved is None or saved.current_step is None:
            return None
        index = lesson.step_index(saved.current_step)
        return lesson.steps[index] if index is not None else None

    @property
    def hand_raised(self) -> bool:
        """Whether the attendee asked for help and has not lowered the hand."""
        return self.progress is not None and self.progress.hand_raised_at is not None

    def lesson_finished(self, lesson: Lesson) -> bool:
        """Return whether every step of ``lesson`` passed, as the attendee app records it."""
        if self.progress is None:
            return False
        step_ids = [step.id for step in lesson.steps]
        return self.progress.passed_count(lesson.id, step_ids) == len(step_ids)

    def time_on_step(self, now: float) -> float | None:
        """Return the seconds since the attendee arrived at the current step, or None."""
        if self.progress is None or self.progress.step_since is None:
            return None
        return max(0.0, now - self.progress.step_since)

    def age(self, now: float) -> float | None:
        """Return the seconds since the data was read, or None if it never was."""
        return None if self.polled_at is None else max(0.0, now - self.polled_at)

    def is_stale(self, now: float, max_age: float) -> bool:
        """Return whether the data is older than ``max_age`` seconds, or missing."""
        age = self.age(now)
        return age is None or age > max_age

    def live_results(self, lesson: Lesson, step: Step) -> tuple[CheckResult, ...] | None:
        """Return the latest check results of ``step``, or None if none were read."""
        if self.lesson_id != lesson.id:
            return None
        return self.results.get(step.id)

    def cell(self, lesson: Lesson, step: Step) -> CellState:
        """Return the state of ``step`` for the grid.

        Live check results, which the board reads for the current step and for steps
        that have not passed, win over the saved step state. The current step shows as
        failing only after the attendee ran or checked it: a step that was just opened
        has not failed yet. In a finished lesson every step is done.
        """
        saved = self.progress.step_state(lesson.id, step.id) if self.progress else None
        live = self.live_results(lesson, step)
        live_passed = all(r.passed for r in live) if live else None
        current = self.current_step(lesson)
        if current is not None and current.id == step.id:
            if live_passed is not False and self.lesson_finished(lesson):
                return "done"
            attempted = saved is not None
            if attempted and (live_passed is False or (live_passed is None and saved == "failed")):
                return "failing"
            return "current"
        if live_passed is False and (saved is not None or _is_before(lesson, step, current)):
            return "failing"
        if live_passed is True and (saved is not None or _is_before(lesson, step, current)):
            return "done"
        if saved == "failed":
            return "failing"
        if saved in ("passed", "ran"):
            return "done"
        return "not_started"

    def failing_results(self, lesson: Lesson) -> list[tuple[Step, CheckResult]]:
        """Return the failed checks of the steps that the grid shows as failing."""
        failing: list[tuple[Step, CheckResult]] = []
        for step in lesson.steps:
            if self.cell(lesson, step) != "failing":
                continue
            for result in self.live_results(lesson, step) or ():
                if not result.passed:
                    failing.append((step, result))
        return failing


def _is_before(lesson: Lesson, step: Step, current: Step | None) -> bool:
    if current is None:
        return False
    position = lesson.step_index(step.id)
    current_position = lesson.step_index(current.id)
    return position is not None and current_position is not None and position < current_position


@dataclass(frozen=True)
class FailingCheck:
    """A check that fails for one or more teams, for the room summary."""

    lesson: Lesson
    step: Step
    title: str
    reason: str
    """The reason that most of these teams see."""

    teams: tuple[str, ...]


def room_summary(
    snapshots: Iterable[TeamSnapshot], lessons: Sequence[Lesson]
) -> list[FailingCheck]:
    """Return the failing checks across the room, the most common first.

    Only teams the board can read count, and only checks of steps that the grid shows
    as failing, so a step that no team has reached yet does not fill the summary.
    Ties are broken by lesson order, then step order.
    """
    by_id: Mapping[str, Lesson] = {lesson.id: lesson for lesson in lessons}
    teams: dict[tuple[int, int, int], list[str]] = {}
    reasons: dict[tuple[int, int, int], Counter[str]] = {}
    found: dict[tuple[int, int, int], tuple[Lesson, Step, str]] = {}
    for snapshot in snapshots:
        lesson = by_id.get(snapshot.lesson_id or "")
        if snapshot.reach != "online" or lesson is None:
            continue
        seen: set[tuple[int, int, int]] = set()
        for step, result in snapshot.failing_results(lesson):
            key = (
                lessons.index(lesson),
                lesson.step_index(step.id) or 0,
                result.check.line,
            )
            if key in seen:
                continue
            seen.add(key)
            teams.setdefault(key, []).append(snapshot.team.name)
            reasons.setdefault(key, Counter())[result.reason] += 1
            found[key] = (lesson, step, result.check.title)
    ordered = sorted(teams, key=lambda key: (-len(teams[key]), key))
    summary = []
    for key in ordered:
        lesson, step, title = found[key]
        reason = reasons[key].most_common(1)[0][0]
        summary.append(FailingCheck(lesson, step, title, reason, tuple(teams[key])))
    return summary
