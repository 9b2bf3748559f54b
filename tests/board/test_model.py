"""Grid cells and the room summary, from snapshots built by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop_tui.core.board.model import CellState, Reach, TeamSnapshot, room_summary
from workshop_tui.core.checks import CheckResult
from workshop_tui.core.lessons import Catalog, Lesson
from workshop_tui.core.progress import LessonProgress, ServerProgress, StepState

from .fakes import make_team, write_lessons

PLAN, INSTALL, CONFIGURE, ROOT = 0, 1, 2, 3


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return write_lessons(Path(tmp_path_factory.mktemp("lessons")))


@pytest.fixture(scope="module")
def basics(catalog: Catalog) -> Lesson:
    lesson = catalog.get("basics")
    assert lesson is not None
    return lesson


@pytest.fixture(scope="module")
def second(catalog: Catalog) -> Lesson:
    lesson = catalog.get("second")
    assert lesson is not None
    return lesson


def snapshot(
    lesson: Lesson,
    current: int | None,
    saved: dict[int, StepState],
    live: dict[int, bool],
    *,
    name: str = "team-1",
    reach: Reach = "online",
    reason: str = "it broke",
    results_lesson: str | None = None,
) -> TeamSnapshot:
    """Return a snapshot of a team at step ``current`` with saved states and live results.

    ``live`` maps a step index to whether all of that step's checks passed.
    """
    progress = ServerProgress(
        current_lesson=lesson.id,
        lessons={
            lesson.id: LessonProgress(
                current_step=lesson.steps[current].id if current is not None else None,
                steps={lesson.steps[index].id: state for index, state in saved.items()},
            )
        },
    )
    results = {
        lesson.steps[index].id: tuple(
            CheckResult(check, passed, "fine" if passed else reason)
            for check in lesson.steps[index].checks
        )
        for index, passed in live.items()
    }
    return TeamSnapshot(
        team=make_team(name=name),
        reach=reach,
        progress=progress,
        lesson_id=results_lesson or lesson.id,
        results=results,
        polled_at=1000.0,
    )


CELL_CASES: list[tuple[str, int | None, dict[int, StepState], dict[int, bool], int, CellState]] = [
    ("current step not yet attempted", INSTALL, {}, {INSTALL: False}, INSTALL, "current"),
    ("current step ran and fails", INSTALL, {INSTALL: "ran"}, {INSTALL: False}, INSTALL, "failing"),
    ("current step saved failed", INSTALL, {INSTALL: "failed"}, {}, INSTALL, "failing"),
    ("current step passed", INSTALL, {INSTALL: "passed"}, {INSTALL: True}, INSTALL, "current"),
    ("done step regressed", CONFIGURE, {INSTALL: "passed"}, {INSTALL: False}, INSTALL, "failing"),
    ("done step still passes", CONFIGURE, {INSTALL: "passed"}, {INSTALL: True}, INSTALL, "done"),
    ("skipped earlier step passes", CONFIGURE, {}, {INSTALL: True}, INSTALL, "done"),
    ("skipped earlier step fails", CONFIGURE, {}, {INSTALL: False}, INSTALL, "failing"),
    ("earlier step without results", CONFIGURE, {}, {}, PLAN, "not_started"),
    ("later step fails untouched", INSTALL, {}, {CONFIGURE: False}, CONFIGURE, "not_started"),
    ("later step passes untouched", INSTALL, {}, {CONFIGURE: True}, CONFIGURE, "not_started"),
    ("later step saved failed", INSTALL, {CONFIGURE: "failed"}, {}, CONFIGURE, "failing"),
    ("later step saved ran", INSTALL, {CONFIGURE: "ran"}, {}, CONFIGURE, "done"),
    ("no current step, saved passed", None, {INSTALL: "passed"}, {}, INSTALL, "done"),
]


@pytest.mark.parametrize(
    ("current", "saved", "live", "step", "expected"),
    [case[1:] for case in CELL_CASES],
    ids=[case[0] for case in CELL_CASES],
)
def test_cell(
    basics: Lesson,
    current: int | None,
    saved: dict[int, StepState],
    live: dict[int, bool],
    step: int,
    expected: CellState,
) -> None:
    assert snapshot(basics, current, saved, live).cell(basics, basics.steps[step]) == expected


def test_finished_lesson_last_step_done(basics: Lesson) -> None:
    every_step: dict[int, StepState] = dict.fromkeys((PLAN, INSTALL, CONFIGURE, ROOT), "passed")
    team = snapshot(basics, ROOT, every_step, {ROOT: True})
    assert team.lesson_finished(basics)
    assert team.cell(basics, basics.steps[ROOT]) == "done"


def test_unfinished_lesson_last_step_current(basics: Lesson) -> None:
    team = snapshot(basics, ROOT, {PLAN: "passed", ROOT: "passed"}, {ROOT: True})
    assert not team.lesson_finished(basics)
    assert team.cell(basics, basics.steps[ROOT]) == "current"


def test_cell_without_progress(basics: Lesson) -> None:
    empty = TeamSnapshot(team=make_team())
    assert empty.cell(basics, basics.steps[INSTALL]) == "not_started"


def test_cell_ignores_results_of_other_lesson(basics: Lesson) -> None:
    team = snapshot(basics, CONFIGURE, {INSTALL: "passed"}, {INSTALL: False}, results_lesson="x")
    assert team.cell(basics, basics.steps[INSTALL]) == "done"


def test_current_step_of_other_lesson(basics: Lesson, second: Lesson) -> None:
    team = snapshot(basics, INSTALL, {}, {})
    assert team.current_step(second) is None


def test_failing_results_only_failing_cells(basics: Lesson) -> None:
    team = snapshot(basics, CONFIGURE, {INSTALL: "passed"}, {INSTALL: False, ROOT: False})
    steps = [step.id for step, _ in team.failing_results(basics)]
    assert steps == [basics.steps[INSTALL].id, basics.steps[INSTALL].id]


def test_summary_most_common_first(basics: Lesson) -> None:
    teams = [
        snapshot(basics, CONFIGURE, {CONFIGURE: "failed"}, {CONFIGURE: False}, name="a"),
        snapshot(basics, CONFIGURE, {CONFIGURE: "failed"}, {CONFIGURE: False}, name="b"),
        snapshot(basics, CONFIGURE, {INSTALL: "passed"}, {INSTALL: False}, name="c"),
    ]
    summary = room_summary(teams, [basics])
    first = summary[0]
    assert first.step.id == basics.steps[CONFIGURE].id
    assert first.teams == ("a", "b")
    assert [item.step.id for item in summary].count(basics.steps[INSTALL].id) == 2


def test_summary_ties_follow_step_order(basics: Lesson) -> None:
    teams = [
        snapshot(basics, ROOT, {CONFIGURE: "failed"}, {CONFIGURE: False}, name="a"),
        snapshot(basics, ROOT, {INSTALL: "failed"}, {INSTALL: False}, name="b"),
    ]
    summary = room_summary(teams, [basics])
    lines = [item.step.line for item in summary]
    assert lines == sorted(lines)


def test_summary_ties_follow_lesson_order(basics: Lesson, second: Lesson) -> None:
    teams = [
        snapshot(second, 0, {0: "failed"}, {0: False}, name="a"),
        snapshot(basics, ROOT, {ROOT: "failed"}, {ROOT: False}, name="b"),
    ]
    summary = room_summary(teams, [basics, second])
    assert [item.lesson.id for item in summary] == ["basics", "second"]


def test_summary_excludes_unreachable_teams(basics: Lesson) -> None:
    teams = [
        snapshot(basics, INSTALL, {INSTALL: "ran"}, {INSTALL: False}, reach="unreachable"),
        snapshot(basics, INSTALL, {INSTALL: "ran"}, {INSTALL: False}, reach="refused", name="b"),
    ]
    assert room_summary(teams, [basics]) == []


def test_summary_excludes_untouched_steps(basics: Lesson) -> None:
    teams = [snapshot(basics, INSTALL, {}, {INSTALL: False, CONFIGURE: False})]
    assert room_summary(teams, [basics]) == []


def test_summary_shows_most_common_reason(basics: Lesson) -> None:
    teams = [
        snapshot(basics, ROOT, {ROOT: "failed"}, {ROOT: False}, name="a", reason="rare"),
        snapshot(basics, ROOT, {ROOT: "failed"}, {ROOT: False}, name="b", reason="usual"),
        snapshot(basics, ROOT, {ROOT: "failed"}, {ROOT: False}, name="c", reason="usual"),
    ]
    (only,) = room_summary(teams, [basics])
    assert only.reason == "usual"
    assert only.teams == ("a", "b", "c")


def test_summary_skips_lessons_not_shown(basics: Lesson, second: Lesson) -> None:
    teams = [snapshot(second, 0, {0: "failed"}, {0: False})]
    assert room_summary(teams, [basics]) == []


def test_age_and_staleness(basics: Lesson) -> None:
    team = snapshot(basics, INSTALL, {}, {})
    assert team.age(1012.0) == 12.0
    assert team.is_stale(1012.0, 10.0)
    assert not team.is_stale(1005.0, 10.0)
    assert TeamSnapshot(team=make_team()).is_stale(1005.0, 10.0)
