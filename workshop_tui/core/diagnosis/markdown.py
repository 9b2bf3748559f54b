"""Findings as Markdown, for the checks panel and any other place that shows them."""

from __future__ import annotations

import re
from collections.abc import Sequence

from workshop_tui.core.diagnosis.model import Finding


def _fence(lines: Sequence[str]) -> str:
    longest = max((len(run) for line in lines for run in re.findall(r"`{3,}", line)), default=0)
    return "`" * max(3, longest + 1)


def finding_markdown(finding: Finding) -> str:
    """Return the hint, then the quoted evidence lines in a code block."""
    parts = [f"{finding.hint} *({finding.rule})*"]
    if finding.evidence:
        fence = _fence(finding.evidence)
        parts.append(f"{fence}text\n" + "\n".join(finding.evidence) + f"\n{fence}")
    return "\n\n".join(parts)


def findings_markdown(findings: Sequence[Finding]) -> str:
    """Return every finding under one heading, or "" when there is none."""
    if not findings:
        return ""
    heading = "**What the server's logs and settings suggest**"
    return "\n\n".join([heading, *(finding_markdown(finding) for finding in findings)])
