"""The table of known faults: each rule names a fault and recognises it in the evidence.

To teach the diagnosis a new fault, write a match function (in the module of its kind)
and add one :class:`Rule` to :data:`RULES`, plus one test with real lines from a server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from workshop_tui.core.diagnosis import delivery_rules, login_rules, service_rules
from workshop_tui.core.diagnosis.evidence import Evidence
from workshop_tui.core.diagnosis.model import DiagnosisContext, Finding, Hit

logger = logging.getLogger(__name__)

MatchFunction = Callable[[Evidence, DiagnosisContext], Iterable[Hit]]

# Priorities: what stops everything comes first, then broken configuration, then what
# a client did, then advice about a setting that works but is unsafe or confusing.
BLOCKING = 10
CONFIGURATION = 20
CLIENT = 30
ADVICE = 40


@dataclass(frozen=True)
class Rule:
    """One known fault.

    Attributes:
        id: A stable name, shown with each finding and listed in docs/diagnosis.md.
        fault: The fault in a facilitator's words.
        priority: Lower is shown first.
        match: Returns one hit per occurrence of the fault in the evidence.
    """

    id: str
    fault: str
    priority: int
    match: MatchFunction


RULES: tuple[Rule, ...] = (
    Rule(
        "installer-waiting",
        "An installation waits for a debconf question that no terminal shows.",
        BLOCKING,
        service_rules.installer_waiting,
    ),
    Rule(
        "postfix-config-error",
        "Postfix stops at an error in main.cf or master.cf, at the file and line it names.",
        BLOCKING,
        service_rules.postfix_config_error,
    ),
    Rule(
        "dovecot-config-error",
        "Dovecot does not start because of an error at a file and line it names.",
        BLOCKING,
        service_rules.dovecot_config_error,
    ),
    Rule(
        "disk-full",
        "The disk is full, so mail cannot be written.",
        BLOCKING,
        delivery_rules.disk_full,
    ),
    Rule(
        "postfix-not-running",
        "postfix.service reports active, but the real daemon postfix@- is not running.",
        CONFIGURATION,
        service_rules.postfix_not_running,
    ),
    Rule(
        "mail-loops-back",
        "Mail for a domain of this server bounces because mydestination lacks the domain.",
        CONFIGURATION,
        delivery_rules.mail_loops_back,
    ),
    Rule(
        "mailbox-format-mismatch",
        "Postfix writes Maildir while Dovecot reads mbox, or the reverse: the inbox looks empty.",
        CONFIGURATION,
        login_rules.mailbox_format_mismatch,
    ),
    Rule(
        "submission-not-enabled",
        "A client tries port 587 or 465, but master.cf still has submission commented out.",
        CONFIGURATION,
        service_rules.submission_not_enabled,
    ),
    Rule(
        "sasl-socket-missing",
        "Postfix checks logins through Dovecot's auth socket, which Dovecot does not provide.",
        CONFIGURATION,
        service_rules.sasl_socket_missing,
    ),
    Rule(
        "plaintext-login-refused",
        "A client sends its password without TLS from another machine, and Dovecot refuses.",
        CLIENT,
        login_rules.plaintext_login_refused,
    ),
    Rule(
        "login-with-full-address",
        "A client logs in as user@domain, but PAM knows only the user name.",
        CLIENT,
        login_rules.login_with_full_address,
    ),
    Rule(
        "certificate-rejected",
        "A client aborts the TLS handshake because it does not trust the certificate.",
        CLIENT,
        login_rules.certificate_rejected,
    ),
    Rule(
        "relay-denied",
        "A client without a login sends to another domain, and Postfix refuses to relay.",
        CLIENT,
        delivery_rules.relay_denied,
    ),
    Rule(
        "outgoing-25-blocked",
        "Connections to other servers' port 25 time out: the provider (or a firewall) blocks them.",
        CLIENT,
        delivery_rules.outgoing_25_blocked,
    ),
    Rule(
        "remote-25-refused",
        "The receiving server refuses port 25: its mail server is not running.",
        CLIENT,
        delivery_rules.remote_25_refused,
    ),
    Rule(
        "unknown-user",
        "Mail for a local address bounces because no such user or alias exists.",
        CLIENT,
        delivery_rules.unknown_user,
    ),
    Rule(
        "domain-not-found",
        "Mail bounces because the recipient's domain has no DNS record.",
        CLIENT,
        delivery_rules.domain_not_found,
    ),
    Rule(
        "plaintext-login-enabled",
        "Dovecot was switched to accept passwords without TLS.",
        ADVICE,
        login_rules.plaintext_login_enabled,
    ),
    Rule(
        "mail-log-missing",
        "Someone looks for /var/log/mail.log, which Debian 12 does not write.",
        ADVICE,
        service_rules.mail_log_missing,
    ),
)

MAX_FINDINGS = 5


def match_rules(
    evidence: Evidence,
    context: DiagnosisContext,
    rules: Sequence[Rule] = RULES,
    limit: int = MAX_FINDINGS,
) -> list[Finding]:
    """Return the findings of every rule, the most relevant first, at most ``limit``.

    Findings are ordered by rule priority, then by the newest journal line they quote. A
    rule that fails on unexpected evidence is logged and skipped, so one bad rule cannot
    hide the others.
    """
    findings: list[Finding] = []
    for rule in rules:
        try:
            hits = list(rule.match(evidence, context))
        except Exception:  # A rule bug must not break the check it explains.
            logger.exception("diagnosis rule %s failed", rule.id)
            continue
        findings.extend(
            Finding(rule.id, hit.hint, hit.evidence, rule.priority, hit.when) for hit in hits
        )
    # An empty `when` means the current state, which sorts as the newest.
    findings.sort(key=lambda finding: finding.when or "~", reverse=True)
    findings.sort(key=lambda finding: finding.priority)
    return findings[:limit]
