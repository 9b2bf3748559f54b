"""Every rule of the table against real lines of its fault, and against a healthy server."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from workshop_tui.core.diagnosis import RULES, DiagnosisContext, Evidence, Finding, match_rules

from . import lines
from .lines import CONTEXT, HEALTHY, evidence, replace_setting, without_lines


@dataclass(frozen=True)
class Case:
    """A recreated fault: its evidence, the line the finding must quote, words its hint
    must contain, and the other rules that may fire with it."""

    evidence: Evidence
    quoted: str
    words: tuple[str, ...]
    context: DiagnosisContext = CONTEXT
    also: tuple[str, ...] = ()


def _postfix_stopped() -> Evidence:
    return evidence(
        units=lines.POSTFIX_STOPPED_UNITS,
        sockets=without_lines(HEALTHY["sockets"], [":25 "]),
    )


def _loops_back() -> Evidence:
    return evidence(
        [lines.LOOPS_BACK],
        postconf=replace_setting(HEALTHY["postconf"], "mydestination", "localhost"),
        postconf_values=replace_setting(HEALTHY["postconf-values"], "mydestination", "localhost"),
    )


CASES: dict[str, Case] = {
    "installer-waiting": Case(
        evidence(processes=lines.INSTALLER_WAITING),
        "/var/lib/dpkg/tmp.ci/config configure",
        ("`postfix`", "sudo kill 8546", "DEBIAN_FRONTEND=noninteractive", "14 s"),
    ),
    "postfix-config-error": Case(
        evidence(
            [lines.POSTFIX_START_FATAL],
            postconf=lines.POSTCONF_FATAL + "\n",
            postconf_values=lines.POSTCONF_FATAL + "\n",
            units=lines.POSTFIX_STOPPED_UNITS.replace("ActiveState=inactive", "ActiveState=failed"),
            sockets=without_lines(HEALTHY["sockets"], [":25 "]),
        ),
        lines.POSTCONF_FATAL,
        ("`/etc/postfix/main.cf`, line 48", "sudo nano +48 /etc/postfix/main.cf", "postfix check"),
        also=("postfix-not-running",),
    ),
    "dovecot-config-error": Case(
        evidence(
            [lines.DOVECOT_START_FATAL],
            doveconf=lines.DOVECONF_FATAL + "\n",
            doveconf_values=lines.DOVECONF_FATAL + "\n",
        ),
        lines.DOVECONF_FATAL,
        ("`/etc/dovecot/conf.d/10-mail.conf`, line 422", "Unknown setting: mail_locaton"),
    ),
    "disk-full": Case(
        evidence([lines.NO_SPACE], disk=lines.DISK_FULL),
        lines.NO_SPACE,
        ("`/var/mail` (100% used)", "postqueue -f"),
    ),
    "postfix-not-running": Case(
        _postfix_stopped(),
        "postfix@-.service: inactive (dead), result success",
        ("postfix@-", "sudo systemctl restart postfix@-", "port 25"),
    ),
    "mail-loops-back": Case(
        _loops_back(),
        lines.LOOPS_BACK,
        ("`alpha.lab.test`", "sudo postconf -e 'mydestination = localhost, alpha.lab.test'"),
    ),
    "mailbox-format-mismatch": Case(
        evidence(
            [lines.DELIVERED_TO_MAILDIR],
            postconf_values=replace_setting(HEALTHY["postconf-values"], "home_mailbox", "Maildir/"),
            mailbox="mbox /var/mail/learner 4593\nmaildir /home/learner/Maildir 1\n",
        ),
        "home_mailbox = Maildir/",
        ("maildir to `~/Maildir`", "mbox from `/var/mail/learner`", "mail_location"),
    ),
    "submission-not-enabled": Case(
        evidence(),
        lines.SUBMISSION_CHECK_REASON,
        ("port 587", "commented out", "master.cf"),
        context=dataclasses.replace(
            CONTEXT, ports=frozenset({587}), failed=(lines.SUBMISSION_CHECK_REASON,)
        ),
    ),
    "sasl-socket-missing": Case(
        evidence([lines.SASL_CONNECT_FAILED, lines.SASL_FATAL]),
        lines.SASL_CONNECT_FAILED,
        ("`private/auth`", "unix_listener /var/spool/postfix/private/auth"),
    ),
    "plaintext-login-refused": Case(
        evidence([lines.PLAINTEXT_REFUSED]),
        lines.PLAINTEXT_REFUSED,
        ("`10.200.79.12`", "`learner`", "993"),
    ),
    "login-with-full-address": Case(
        evidence([lines.FULL_ADDRESS_PAM, lines.FULL_ADDRESS_LOGIN]),
        lines.FULL_ADDRESS_LOGIN,
        ("`learner@alpha.lab.test`", "Enter `learner`", "auth_username_format = %Ln"),
    ),
    "certificate-rejected": Case(
        evidence([lines.UNKNOWN_CA], certificates=lines.SELF_SIGNED),
        lines.UNKNOWN_CA,
        ("`10.200.79.12`", "self-signed", "`tlsv1 alert unknown ca`", "ic=3"),
    ),
    "relay-denied": Case(
        evidence([lines.RELAY_DENIED]),
        lines.RELAY_DENIED,
        ("`someone@elsewhere.test`", "`bravo.lab.test`", "587", "mynetworks"),
    ),
    "outgoing-25-blocked": Case(
        evidence([lines.CONNECT_TIMED_OUT], queue=lines.QUEUE_TIMED_OUT),
        lines.CONNECT_TIMED_OUT,
        ("`bravo.lab.test`", "Connection timed out", "1 message wait", "provider"),
    ),
    "remote-25-refused": Case(
        evidence([lines.CONNECT_REFUSED], queue=lines.QUEUE_REFUSED),
        lines.CONNECT_REFUSED,
        ("`bravo.lab.test`", "refused", "postfix@-"),
    ),
    "unknown-user": Case(
        evidence([lines.UNKNOWN_USER]),
        lines.UNKNOWN_USER,
        ("`nosuchuser@alpha.lab.test`", "sudo adduser nosuchuser", "`nosuchuser: learner`"),
    ),
    "domain-not-found": Case(
        evidence([lines.DOMAIN_NOT_FOUND]),
        lines.DOMAIN_NOT_FOUND,
        ("`someone@nowhere.lab.test`", "`nowhere.lab.test`", "spelling"),
    ),
    "plaintext-login-enabled": Case(
        evidence(
            doveconf_values=replace_setting(
                HEALTHY["doveconf-values"], "disable_plaintext_auth", "no"
            )
        ),
        "disable_plaintext_auth = no",
        ("disable_plaintext_auth = yes", "993"),
    ),
    "mail-log-missing": Case(
        evidence(history="cat /var/log/mail.log\n"),
        "cat /var/log/mail.log",
        ("journalctl -u postfix@- -u dovecot",),
    ),
}


def test_every_rule_has_a_case() -> None:
    assert sorted(CASES) == sorted(rule.id for rule in RULES)


def test_rule_ids_are_unique() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids))


def findings_of(case: Case) -> list[Finding]:
    return match_rules(case.evidence, case.context, limit=50)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_recognises_its_fault(rule_id: str) -> None:
    case = CASES[rule_id]
    findings = findings_of(case)
    assert sorted(finding.rule for finding in findings) == sorted([rule_id, *case.also])
    finding = next(finding for finding in findings if finding.rule == rule_id)
    assert any(case.quoted in line for line in finding.evidence), finding.evidence
    for word in case.words:
        assert word in finding.hint


def test_healthy_server_has_no_findings() -> None:
    context = dataclasses.replace(CONTEXT, ports=frozenset({25, 143, 993}))
    assert match_rules(evidence(), context) == []


def test_healthy_server_with_submission() -> None:
    listening = (
        HEALTHY["sockets"]
        + 'LISTEN 0      100    0.0.0.0:587 0.0.0.0:* users:(("master",pid=8066,fd=17))\n'
    )
    context = dataclasses.replace(CONTEXT, ports=frozenset({587}))
    assert match_rules(evidence(sockets=listening), context) == []
