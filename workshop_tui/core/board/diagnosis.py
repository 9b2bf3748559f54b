"""Diagnosis for the board: known faults behind a team's failing checks.

The board reads each VPS with one exec per refresh. While the facilitator has a team
open and that team has failing checks, the board also runs the attendee app's
diagnosis (:mod:`workshop_tui.core.diagnosis`) on that VPS, in one more exec as root.
:func:`diagnosis_due` keeps two diagnoses of one team :data:`DIAGNOSIS_SPACING` seconds
apart. Nothing here changes the VPS.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from workshop_tui.core import diagnosis
from workshop_tui.core.board.model import TeamSnapshot
from workshop_tui.core.checks import CheckResult
from workshop_tui.core.errors import RemoteError, WorkshopError
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.login import redact
from workshop_tui.core.remote import Connection

DIAGNOSIS_SPACING = 30.0
"""Minimum seconds between two diagnoses of one team. A diagnosis reads the journal and
the mail settings as root, which costs the VPS far more than a refresh, and the faults
it finds rarely change within half a minute."""


@dataclass(frozen=True)
class TeamDiagnosis:
    """The outcome of one diagnosis of a team's VPS.

    Attributes:
        findings: The known faults found, the most relevant first; empty when the
            diagnosis ran and recognised nothing, or when it could not run.
        problem: Why the diagnosis could not run, as one line starting with
            "no diagnosis:"; None when it ran.
        at: When the diagnosis ended, in epoch seconds.
        round_trips: SSH exec requests the diagnosis sent.
    """

    findings: tuple[diagnosis.Finding, ...] = ()
    problem: str | None = None
    at: float = 0.0
    round_trips: int = 0


def failing_checks(snapshot: TeamSnapshot, lessons: Iterable[Lesson]) -> list[CheckResult]:
    """Return the failed checks that the board shows for ``snapshot``'s lesson, in step order."""
    for lesson in lessons:
        if lesson.id == snapshot.lesson_id:
            return [result for _, result in snapshot.failing_results(lesson)]
    return []


def diagnosis_due(
    snapshot: TeamSnapshot,
    lessons: Iterable[Lesson],
    last: float | None,
    now: float,
) -> bool:
    """Return whether a team open on the board should be diagnosed now.

    Args:
        snapshot: The team's latest snapshot.
        lessons: The lessons of the board.
        last: When the latest diagnosis of this team started, in epoch seconds; None
            if it was never diagnosed.
        now: The current time in epoch seconds.
    """
    if snapshot.reach != "online" or not failing_checks(snapshot, lessons):
        return False
    # A clock that went back counts as spacing enough rather than blocking for good.
    return last is None or not 0.0 <= now - last < DIAGNOSIS_SPACING


def diagnose_team(
    connection: Connection,
    snapshot: TeamSnapshot,
    lesson: Lesson | None,
    values: Mapping[str, str],
    *,
    sudo_problem: str = "",
) -> TeamDiagnosis | None:
    """Diagnose the failing checks of ``snapshot`` on the VPS of ``connection``.

    Returns None when no check of ``lesson`` fails. Network, login and sudo problems
    raise nothing: the result then has a ``problem``.

    Args:
        connection: The team's open SSH connection; used for one exec as root.
        snapshot: The team's latest snapshot, whose failing checks are explained.
        lesson: The lesson whose checks are in ``snapshot``.
        values: The lesson variables of the team, for the mail domain.
        sudo_problem: The message of sudo when it rejected the password recently. The
            diagnosis then does not try sudo, because every rejected try adds a failed
            sudo attempt to the VPS's log.
    """
    failed = failing_checks(snapshot, [lesson] if lesson else [])
    if not failed:
        return None
    password = connection.login.password or ""
    if sudo_problem:
        return _unable(f"no diagnosis: {sudo_problem}", password, 0)
    context = diagnosis.DiagnosisContext.from_results(failed, values, connection.login.user)
    before = connection.exec_count
    try:
        findings = diagnosis.diagnose(connection, context)
    except WorkshopError as error:
        # SudoFailed and ConnectionLost are RemoteErrors. Any other WorkshopError is
        # unexpected from a read, but still no reason to fail the board.
        reason = str(error)
        if not isinstance(error, RemoteError):
            reason = f"{type(error).__name__}: {reason}"
        return _unable(f"no diagnosis: {reason}", password, connection.exec_count - before)
    return TeamDiagnosis(
        findings=tuple(findings), at=time.time(), round_trips=connection.exec_count - before
    )


def _unable(problem: str, password: str, round_trips: int) -> TeamDiagnosis:
    line = " ".join(redact(problem, password).split())
    return TeamDiagnosis(problem=line, at=time.time(), round_trips=round_trips)
