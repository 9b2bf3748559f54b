"""The cases where a rule must stay silent or change its advice, and the ordering of findings."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator

import pytest

from workshop_tui.core.checks import CheckResult, parse_check
from workshop_tui.core.diagnosis import (
    RULES,
    DiagnosisContext,
    Evidence,
    Finding,
    Rule,
    findings_markdown,
    match_rules,
)
from workshop_tui.core.diagnosis.model import Hit, code

from . import lines
from .lines import CONTEXT, HEALTHY, evidence, replace_setting


def rule_ids(found: list[Finding]) -> list[str]:
    return [finding.rule for finding in found]


def only(rule_id: str, evidence: Evidence, context: DiagnosisContext = CONTEXT) -> list[Finding]:
    rule = next(rule for rule in RULES if rule.id == rule_id)
    return match_rules(evidence, context, rules=[rule])


def test_loop_fixed_since_is_silent() -> None:
    values = replace_setting(
        HEALTHY["postconf-values"], "mydestination", "alpha.lab.test, localhost"
    )
    assert only("mail-loops-back", evidence([lines.LOOPS_BACK], postconf_values=values)) == []


def test_relay_to_own_domain_names_mydestination() -> None:
    own = lines.RELAY_DENIED.replace("someone@elsewhere.test", "learner@alpha.lab.test")
    narrow = replace_setting(HEALTHY["postconf-values"], "mydestination", "localhost")
    [finding] = only("relay-denied", evidence([own], postconf_values=narrow))
    assert "`alpha.lab.test` is your own domain" in finding.hint
    assert "mydestination" in finding.hint


def test_blocked_port_delivered_since_is_silent() -> None:
    empty = "Mail queue is empty\n"
    assert only("outgoing-25-blocked", evidence([lines.CONNECT_TIMED_OUT], queue=empty)) == []


def test_blocked_port_quotes_local_firewall() -> None:
    rule = "nft tcp dport 25 drop"
    found = only(
        "outgoing-25-blocked",
        evidence([lines.CONNECT_TIMED_OUT], queue=lines.QUEUE_TIMED_OUT, firewall=rule + "\n"),
    )
    [finding] = found
    assert rule in finding.evidence
    assert "own firewall" in finding.hint


def test_wrong_password_over_tls_is_not_plaintext() -> None:
    assert only("plaintext-login-refused", evidence([lines.WRONG_PASSWORD_OVER_TLS])) == []


def test_plaintext_from_localhost_is_not_refused() -> None:
    local = lines.PLAINTEXT_REFUSED.replace("rip=10.200.79.12", "rip=127.0.0.1")
    assert only("plaintext-login-refused", evidence([local])) == []


def test_plaintext_switched_on_warns_instead() -> None:
    values = replace_setting(HEALTHY["doveconf-values"], "disable_plaintext_auth", "no")
    found = match_rules(evidence([lines.PLAINTEXT_REFUSED], doveconf_values=values), CONTEXT)
    assert rule_ids(found) == ["plaintext-login-enabled"]


def test_full_address_with_domain_dropped() -> None:
    values = replace_setting(HEALTHY["doveconf-values"], "auth_username_format", "%Ln")
    found = only(
        "login-with-full-address", evidence([lines.FULL_ADDRESS_LOGIN], doveconf_values=values)
    )
    assert found == []


def test_short_installer_question_is_silent() -> None:
    quick = lines.INSTALLER_WAITING.replace("      14 ", "       3 ")
    assert only("installer-waiting", evidence(processes=quick)) == []


def test_dovecot_config_process_is_no_installer() -> None:
    process = "   5030    5027     384 config          dovecot/config\n"
    assert only("installer-waiting", evidence(processes=process)) == []


def test_installer_dialog_in_a_terminal() -> None:
    dialog = lines.INSTALLER_WAITING + (
        "   8560    8546      14 whiptail        whiptail --backtitle Package configuration\n"
    )
    [finding] = only("installer-waiting", evidence(processes=dialog))
    assert "answer it there" in finding.hint
    assert "sudo kill" not in finding.hint


def test_mbox_delivery_with_maildir_reader() -> None:
    values = replace_setting(HEALTHY["doveconf-values"], "mail_location", "maildir:~/Maildir")
    [finding] = only("mailbox-format-mismatch", evidence(doveconf_values=values))
    assert "mbox to `/var/mail/learner`" in finding.hint
    assert "maildir from `~/Maildir`" in finding.hint


def test_maildir_on_both_sides_is_silent() -> None:
    postfix = replace_setting(HEALTHY["postconf-values"], "home_mailbox", "Maildir/")
    dovecot = replace_setting(HEALTHY["doveconf-values"], "mail_location", "maildir:~/Maildir")
    found = only(
        "mailbox-format-mismatch", evidence(postconf_values=postfix, doveconf_values=dovecot)
    )
    assert found == []


def test_delivery_by_dovecot_is_silent() -> None:
    postfix = replace_setting(HEALTHY["postconf-values"], "home_mailbox", "Maildir/")
    postfix = replace_setting(postfix, "mailbox_transport", "lmtp:unix:private/dovecot-lmtp")
    assert only("mailbox-format-mismatch", evidence(postconf_values=postfix)) == []


def test_submission_enabled_but_not_reloaded() -> None:
    services = (
        HEALTHY["postfix-services"]
        + "submission inet  n       -       y       -       -       smtpd "
        "-o smtpd_sasl_auth_enable=yes\n"
    )
    context = dataclasses.replace(CONTEXT, ports=frozenset({587}))
    [finding] = only("submission-not-enabled", evidence(postfix_services=services), context)
    assert "has not read it yet" in finding.hint
    assert "systemctl reload postfix" in finding.hint


def test_submission_listening_on_465_only() -> None:
    context = dataclasses.replace(CONTEXT, ports=frozenset({465}))
    [finding] = only("submission-not-enabled", evidence(), context)
    assert "port 465" in finding.hint
    assert "`submissions`" in finding.hint


def test_sasl_socket_present_now_is_silent() -> None:
    sockets = HEALTHY["postfix-sockets"] + "auth\n"
    found = only(
        "sasl-socket-missing",
        evidence([lines.SASL_CONNECT_FAILED, lines.SASL_FATAL], postfix_sockets=sockets),
    )
    assert found == []


def test_disk_with_space_again_is_silent() -> None:
    assert only("disk-full", evidence([lines.NO_SPACE])) == []


def test_old_postfix_fatal_while_running_is_silent() -> None:
    assert only("postfix-config-error", evidence([lines.POSTFIX_START_FATAL])) == []


def test_certificate_signed_by_unknown_authority() -> None:
    signed = (
        "dovecot /etc/letsencrypt/live/alpha/fullchain.pem subject=/CN=alpha.lab.test\n"
        "dovecot /etc/letsencrypt/live/alpha/fullchain.pem issuer=/C=US/O=Let's Encrypt/CN=R11\n"
    )
    [finding] = only("certificate-rejected", evidence([lines.UNKNOWN_CA], certificates=signed))
    assert "self-signed" not in finding.hint
    assert "ic=3" not in finding.hint
    assert "chain is incomplete" in finding.hint


def test_mail_log_present_is_silent() -> None:
    found = only(
        "mail-log-missing",
        evidence(history="tail -f /var/log/mail.log\n", mail_log="mail.log present\n"),
    )
    assert found == []


def test_findings_ordered_and_limited() -> None:
    faults = evidence(
        [
            lines.RELAY_DENIED,
            lines.UNKNOWN_USER,
            lines.DOMAIN_NOT_FOUND,
            lines.PLAINTEXT_REFUSED,
            lines.FULL_ADDRESS_LOGIN,
            lines.SASL_CONNECT_FAILED,
        ],
        processes=lines.INSTALLER_WAITING,
        history="cat /var/log/mail.log\n",
    )
    found = match_rules(faults, CONTEXT)
    assert len(found) == 5
    assert rule_ids(found)[:2] == ["installer-waiting", "sasl-socket-missing"]
    # Among the client faults, the newest journal line comes first.
    assert rule_ids(found)[2:] == ["unknown-user", "domain-not-found", "login-with-full-address"]


def test_broken_rule_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    def broken(evidence: Evidence, context: DiagnosisContext) -> Iterator[Hit]:
        raise ValueError("unexpected evidence")

    rules = [Rule("broken", "A rule with a bug.", 10, broken), *RULES]
    with caplog.at_level(logging.ERROR):
        found = match_rules(evidence([lines.UNKNOWN_USER]), CONTEXT, rules=rules)
    assert rule_ids(found) == ["unknown-user"]
    assert "diagnosis rule broken failed" in caplog.text


def test_code_span_survives_backticks() -> None:
    assert code("a`b") == "``a`b``"
    assert code("`x`") == "`` `x` ``"
    assert code("two\nlines") == "`two lines`"


def test_markdown_quotes_each_evidence_line() -> None:
    finding = Finding("unknown-user", "Hint.", ("line with ``` inside", "second line"))
    text = findings_markdown([finding])
    assert "> ````line with ``` inside````\n>\n> `second line`" in text
    assert findings_markdown([]) == ""


def test_context_from_failed_checks() -> None:
    smtp = parse_check("smtp", "port: 587\nstarttls: true\n", 10)
    imap = parse_check("imap", "port: 993\n", 20)
    command = parse_check("command", "run: nc -z 127.0.0.1 465\n", 30)
    unit = parse_check("unit", "unit: dovecot\n", 40)
    results = [
        CheckResult(smtp, False, "127.0.0.1:587 did not answer"),
        CheckResult(imap, True, "127.0.0.1:993 answered"),
        CheckResult(command, False, "`nc -z 127.0.0.1 465` exited with status 1"),
        CheckResult(unit, False, "dovecot.service is inactive (dead)"),
    ]
    context = DiagnosisContext.from_results(results, {"domain": "alpha.lab.test"}, "learner")
    assert context.ports == {587, 465}
    assert context.domain == "alpha.lab.test"
    assert context.user == "learner"
    assert context.failed == (
        "127.0.0.1:587 did not answer",
        "`nc -z 127.0.0.1 465` exited with status 1",
        "dovecot.service is inactive (dead)",
    )


def test_relay_to_handled_domain_is_the_usual_advice() -> None:
    own = lines.RELAY_DENIED.replace("someone@elsewhere.test", "learner@alpha.lab.test")
    [finding] = only("relay-denied", evidence([own]))
    assert "your own domain" not in finding.hint
    assert "submission port" in finding.hint


def test_installer_package_from_the_deb_file() -> None:
    without_control = lines.INSTALLER_WAITING.replace("unpacking postfix\n", "")
    [finding] = only("installer-waiting", evidence(processes=without_control))
    assert "`postfix`" in finding.hint


def test_plaintext_refused_after_client_closed() -> None:
    [finding] = only("plaintext-login-refused", evidence([lines.PLAINTEXT_REFUSED_CLOSED]))
    assert lines.PLAINTEXT_REFUSED_CLOSED in finding.evidence
    assert "`10.203.65.12`" in finding.hint


def test_submission_quotes_listener_unchanged() -> None:
    context = dataclasses.replace(
        CONTEXT, ports=frozenset({587}), failed=(lines.SUBMISSION_CHECK_REASON,)
    )
    [finding] = only("submission-not-enabled", evidence(), context)
    listener = next(line for line in HEALTHY["sockets"].splitlines() if "0.0.0.0:25 " in line)
    assert finding.evidence == (lines.SUBMISSION_CHECK_REASON, listener.strip())


DOMAIN_DEFERRED = (
    "2026-12-05T04:36:02+0000 alpha postfix/smtp[6101]: 6C47D2EA00D: "
    "to=<learner@bravo.lab.tset>, relay=none, delay=0.03, delays=0.01/0.01/0/0, dsn=4.4.3, "
    "status=deferred (Host or domain name not found. Name service error for "
    "name=bravo.lab.tset type=MX: Host not found, try again)"
)
QUEUE_WITH_TYPO = (
    "-Queue ID-  --Size-- ----Arrival Time---- -Sender/Recipient-------\n"
    "6C47D2EA00D     412 Sat Dec  5 04:36:02  learner@alpha.lab.test\n"
    "(Host or domain name not found. Name service error for name=bravo.lab.tset type=MX)\n"
    "                                         learner@bravo.lab.tset\n"
    "\n-- 0 Kbytes in 1 Request.\n"
)


def test_deferred_unknown_domain_offers_delete() -> None:
    found = match_rules(evidence([DOMAIN_DEFERRED], queue=QUEUE_WITH_TYPO), CONTEXT)
    assert rule_ids(found) == ["domain-not-found"]
    assert "`sudo postsuper -d 6C47D2EA00D`" in found[0].hint
    assert "`learner@bravo.lab.tset`" in found[0].hint


def test_deferred_unknown_domain_gone_from_queue() -> None:
    empty = "Mail queue is empty\n"
    assert match_rules(evidence([DOMAIN_DEFERRED], queue=empty), CONTEXT) == []
