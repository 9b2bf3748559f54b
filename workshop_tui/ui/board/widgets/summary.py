"""The room summary: the checks that fail for most teams, unreachable teams and raised hands."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

from workshop_tui.core.board.model import FailingCheck
from workshop_tui.core.lessons import Lesson
from workshop_tui.core.roster import Roster
from workshop_tui.ui.board.display import (
    CELL_STYLES,
    HAND_STYLE,
    STATUS_STYLES,
    StatusKind,
    count_label,
    room_title,
)

SHOWN_CHECKS = 3
"""The most common failing check with its reason, and the next two on one line each."""


def failing_line(
    failing: FailingCheck, roster: Roster, shown: Lesson | None, *, with_reason: bool
) -> Text:
    """Return ``✖ 4 of 7 teams  Step 3 · Title`` and, unless on its own line, the reason."""
    total = len(roster.teams)
    number = (failing.lesson.step_index(failing.step.id) or 0) + 1
    where = f"Step {number}"
    if shown is None or failing.lesson.id != shown.id:
        where = f"{failing.lesson.title} · {where}"
    line = Text.assemble(
        ("✖", CELL_STYLES["failing"]),
        " ",
        (f"{len(failing.teams)} of {count_label(total, 'team')}", "bold"),
        "  ",
        f"{where} · ",
        (room_title(failing, roster), "bold"),
    )
    if with_reason:
        line.append(f": {failing.reason}", style="#d0d0d0")
    return line


def room_text(
    summary: Sequence[FailingCheck],
    roster: Roster,
    shown: Lesson | None,
    *,
    unreachable: Sequence[str],
    refused: Sequence[str],
    connecting: Sequence[str],
    hands: Sequence[str],
) -> Text:
    """Return the lines of the room summary.

    Args:
        summary: Failing checks, the most common first, as ``room_summary`` returns them.
        roster: The roster, for the team count and the values in check titles.
        shown: The lesson the grid shows; checks of other lessons name their lesson.
        unreachable: Names of the teams whose VPS the board cannot connect to.
        refused: Names of the teams whose VPS rejected the login or showed another host key.
        connecting: Names of the teams whose VPS the board has not read yet.
        hands: Names of the teams with a raised hand, the longest waiting first.
    """
    lines: list[Text] = []
    if summary:
        top = summary[0]
        lines.append(failing_line(top, roster, shown, with_reason=False))
        lines.append(Text(f"    {top.reason}", style="bold #ff8787"))
        for failing in summary[1:SHOWN_CHECKS]:
            lines.append(failing_line(failing, roster, shown, with_reason=True))
    else:
        lines.append(Text("✔ No check fails across the room.", style=CELL_STYLES["done"]))
    lines.append(
        Text.assemble(_reach_part(unreachable, refused, connecting), "    ", _hands_part(hands))
    )
    return Text("\n").join(lines)


def _reach_part(
    unreachable: Sequence[str], refused: Sequence[str], connecting: Sequence[str]
) -> Text:
    parts: list[Text] = []
    kinds: tuple[tuple[Sequence[str], StatusKind], ...] = (
        (unreachable, "unreachable"),
        (refused, "refused"),
    )
    for names, kind in kinds:
        if names:
            label = f" {count_label(len(names), 'team')} {kind} "
            parts.append(Text.assemble((label, STATUS_STYLES[kind]), f" {', '.join(names)}"))
    if connecting:
        label = f"{count_label(len(connecting), 'team')} connecting"
        parts.append(Text(label, style=STATUS_STYLES["connecting"]))
    if not parts:
        return Text("Every VPS answers", style=STATUS_STYLES["online"])
    return Text("   ").join(parts)


def _hands_part(hands: Sequence[str]) -> Text:
    if not hands:
        return Text("No hands raised", style="#8a8a8a")
    raised = "hand" if len(hands) == 1 else "hands"
    return Text.assemble((f"✋ {len(hands)} {raised} raised", HAND_STYLE), f": {', '.join(hands)}")


class RoomSummary(Static):
    """The panel under the grid; :func:`room_text` gives its contents."""
