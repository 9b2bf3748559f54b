"""Findings as Markdown, for the checks panel and any other place that shows them."""

from __future__ import annotations

from collections.abc import Sequence

from workshop_tui.core.diagnosis.model import Finding, code


def finding_markdown(finding: Finding) -> str:
    """Return the hint, then each quoted evidence line as a code span in a block quote.

    Code spans wrap at the width of the panel, while a fenced block cuts a long line at
    its edge. The end of a journal line, with ``status=`` and its reason, stays visible.
    """
    parts = [f"{finding.hint} *({finding.rule})*"]
    if finding.evidence:
        parts.append("\n>\n".join(f"> {code(line)}" for line in finding.evidence))
    return "\n\n".join(parts)


def findings_markdown(findings: Sequence[Finding]) -> str:
    """Return every finding under one heading, or "" when there is none."""
    if not findings:
        return ""
    heading = "**What the server's logs and settings suggest**"
    return "\n\n".join([heading, *(finding_markdown(finding) for finding in findings)])
