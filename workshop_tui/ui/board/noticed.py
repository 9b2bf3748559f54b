"""The "What the board noticed" section of the team view: diagnosis findings as rich Text."""

from __future__ import annotations

import re

from rich.text import Text

from workshop_tui.core.board.diagnosis import TeamDiagnosis
from workshop_tui.ui.board.display import format_duration

HEADING = "What the board noticed"
HEADING_STYLE = "bold #ffd75f"
CODE_STYLE = "bold #87d7ff"
EVIDENCE_STYLE = "#b2b2b2"
QUIET_STYLE = "#8a8a8a"

# A Markdown code span: a run of backticks, the code, and a run of the same length.
_CODE_SPAN = re.compile(r"(`+)(.+?)(?<!`)\1(?!`)")


def format_age(seconds: float) -> str:
    """Return ``12 s ago`` under a minute, else ``m:ss ago`` or ``h:mm h ago``."""
    whole = max(0, int(seconds))
    return f"{whole} s ago" if whole < 60 else f"{format_duration(whole)} ago"


def hint_text(markdown: str) -> Text:
    """Return a finding's hint with its code spans coloured and their backticks removed.

    The hints of the diagnosis rules use no Markdown besides code spans.
    """
    text = Text()
    position = 0
    for match in _CODE_SPAN.finditer(markdown):
        text.append(markdown[position : match.start()])
        code = match.group(2)
        if code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        text.append(code, style=CODE_STYLE)
        position = match.end()
    text.append(markdown[position:])
    return text


def noticed_text(diagnosis: TeamDiagnosis | None, now: float) -> Text:
    """Return the section for a team with failing checks.

    Args:
        diagnosis: The team's latest diagnosis; None while the first one is pending.
        now: The current time in epoch seconds, for the age of the diagnosis.
    """
    heading = Text(HEADING, style=HEADING_STYLE)
    if diagnosis is None:
        body = [Text("Looking on the VPS for known faults…", style=QUIET_STYLE)]
        return Text("\n").join([heading, *body])
    heading.append(f"  {format_age(now - diagnosis.at)}", style=QUIET_STYLE)
    lines = [heading]
    if diagnosis.problem is not None:
        lines.append(Text(diagnosis.problem, style="#ffd75f"))
    elif not diagnosis.findings:
        lines.append(Text("Nothing known found.", style=QUIET_STYLE))
    for finding in diagnosis.findings:
        lines.append(Text.assemble(("• ", HEADING_STYLE), hint_text(finding.hint)))
        lines.extend(Text(f"    {line}", style=EVIDENCE_STYLE) for line in finding.evidence)
    return Text("\n").join(lines)
