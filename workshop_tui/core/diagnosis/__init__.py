"""Diagnosis of known beginner faults after a failed check.

:func:`gather` reads the journal, the Postfix and Dovecot settings, the queue, sockets,
units and a few files from the VPS in one SSH exec, as root. :func:`diagnose` matches
that evidence against the table in :mod:`workshop_tui.core.diagnosis.rules` and returns
findings with a hint and the quoted lines that prove them. docs/diagnosis.md lists what
is read and every rule.
"""

from __future__ import annotations

import dataclasses
import logging

from workshop_tui.core.diagnosis.evidence import Evidence, evidence_probes
from workshop_tui.core.diagnosis.markdown import findings_markdown
from workshop_tui.core.diagnosis.model import DiagnosisContext, Finding
from workshop_tui.core.diagnosis.rules import MAX_FINDINGS, RULES, Rule, match_rules
from workshop_tui.core.login import redact
from workshop_tui.core.probes import run_probes
from workshop_tui.core.remote import Connection

logger = logging.getLogger(__name__)

GATHER_TIMEOUT = 15.0
"""Seconds allowed for the whole exec; sections that have not finished by then count as
missing. The attendee waits this long at most before the check results appear."""

__all__ = [
    "MAX_FINDINGS",
    "RULES",
    "DiagnosisContext",
    "Evidence",
    "Finding",
    "Rule",
    "diagnose",
    "findings_markdown",
    "gather",
    "match_rules",
]


def gather(connection: Connection, context: DiagnosisContext) -> Evidence:
    """Read the evidence from the VPS with one exec, as root.

    Raises:
        ConnectionLost: the link broke.
        SudoFailed: the login user is not root and sudo refused.
    """
    outputs = run_probes(
        connection, evidence_probes(context.user, context.domain), timeout=GATHER_TIMEOUT
    )
    return Evidence.from_outputs(outputs)


def diagnose(
    connection: Connection, context: DiagnosisContext, limit: int = MAX_FINDINGS
) -> list[Finding]:
    """Gather the evidence and return the findings, the most relevant first.

    The login password never appears in a finding, even when a quoted line contains it.

    Raises:
        ConnectionLost: the link broke.
        SudoFailed: the login user is not root and sudo refused.
    """
    evidence = gather(connection, context)
    findings = match_rules(evidence, context, limit=limit)
    logger.info(
        "diagnosis on %s found: %s",
        connection.login.target,
        ", ".join(finding.rule for finding in findings) or "nothing known",
    )
    password = connection.login.password
    if not password:
        return findings
    return [_redact(finding, password) for finding in findings]


def _redact(finding: Finding, password: str) -> Finding:
    return dataclasses.replace(
        finding,
        hint=redact(finding.hint, password),
        evidence=tuple(redact(line, password) for line in finding.evidence),
    )
