"""Judging check results from what the VPS printed, without a network."""

from __future__ import annotations

import pytest

from workshop_tui.core.checks import (
    CommandCheck,
    MailboxCheck,
    PackageCheck,
    UnitCheck,
    parse_check,
)
from workshop_tui.core.checks.base import first_line
from workshop_tui.core.checks.shell import parse_mailbox_listing
from workshop_tui.core.probes import ProbeOutput

VALUES = {"user": "learner", "domain": "alpha.lab.test", "host": "10.0.0.2"}


def output(text: str, status: int = 0) -> ProbeOutput:
    return ProbeOutput(exit_status=status, output=text, truncated=False)


def package_check(*names: str) -> PackageCheck:
    check = parse_check("package", "package: [" + ", ".join(names) + "]", 1)
    assert isinstance(check, PackageCheck)
    return check


def test_package_installed() -> None:
    result = package_check("postfix").judge(output("postfix ii \n"), VALUES)
    assert result.passed
    assert result.reason == "installed: postfix"


def test_package_missing() -> None:
    text = "dpkg-query: no packages found matching postfix\n"
    result = package_check("postfix").judge(output(text, 1), VALUES)
    assert not result.passed
    assert result.reason == "postfix is not installed"
    assert "no packages found" in result.evidence


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ("iF ", "half-configured"),
        ("iU ", "unpacked but not configured"),
        ("rc ", "configuration files are still there"),
        ("it ", "waiting for its triggers"),
    ],
)
def test_package_half_done(state: str, words: str) -> None:
    result = package_check("postfix").judge(output(f"postfix {state}\n"), VALUES)
    assert not result.passed
    assert words in result.reason


def test_package_architecture_suffix() -> None:
    text = "libc6:amd64 ii \npostfix ii \n"
    assert package_check("libc6", "postfix").judge(output(text), VALUES).passed


def test_package_one_of_two_missing() -> None:
    result = package_check("postfix", "mutt").judge(output("postfix ii \n", 1), VALUES)
    assert not result.passed
    assert result.reason == "mutt is not installed"


def unit_check(body: str = "unit: postfix@-") -> UnitCheck:
    check = parse_check("unit", body, 1)
    assert isinstance(check, UnitCheck)
    return check


def test_unit_active() -> None:
    text = "LoadState=loaded\nActiveState=active\nSubState=running\nResult=success\n"
    result = unit_check().judge(output(text), VALUES)
    assert result.passed
    assert result.reason == "postfix@- is active (running)"


def test_unit_failed_shows_result() -> None:
    text = "LoadState=loaded\nActiveState=failed\nSubState=failed\nResult=exit-code\n"
    result = unit_check().judge(output(text), VALUES)
    assert not result.passed
    assert result.reason == "postfix@- is failed (failed), last result: exit-code"


def test_unit_not_found() -> None:
    text = "LoadState=not-found\nActiveState=inactive\nSubState=dead\nResult=success\n"
    result = unit_check().judge(output(text), VALUES)
    assert not result.passed
    assert "there is no unit postfix@-" in result.reason


def test_unit_expected_inactive() -> None:
    text = "LoadState=loaded\nActiveState=inactive\nSubState=dead\nResult=success\n"
    assert unit_check("unit: exim4\nstate: inactive").judge(output(text), VALUES).passed


def test_unit_systemctl_broken() -> None:
    result = unit_check().judge(output("Failed to connect to bus\n", 1), VALUES)
    assert not result.passed
    assert result.reason == "systemctl could not show postfix@-"


def command_check(body: str) -> CommandCheck:
    check = parse_check("command", body, 1)
    assert isinstance(check, CommandCheck)
    return check


def test_command_exit_status() -> None:
    check = command_check("run: grep -q x /etc/mailname")
    assert check.judge(output(""), VALUES).passed
    failed = check.judge(output("", 1), VALUES)
    assert not failed.passed
    assert failed.reason == "`grep -q x /etc/mailname` exited with status 1, expected 0"


def test_command_output_pattern_uses_values() -> None:
    check = command_check("run: cat /etc/mailname\noutput: ^{{ domain }}$")
    assert check.judge(output("alpha.lab.test\n"), VALUES).passed
    # The value is escaped: a dot in the domain matches only a dot.
    assert not check.judge(output("alphaXlab.test\n"), VALUES).passed


def test_command_output_mismatch_reason() -> None:
    check = command_check("run: cat /etc/mailname\noutput: ^{{ domain }}$")
    result = check.judge(output("other.example\n"), VALUES)
    assert not result.passed
    assert result.reason == "the output of `cat /etc/mailname` is not what this check expects"
    assert result.evidence == "other.example"


def test_command_probe_quotes_values() -> None:
    check = command_check("run: test -f /var/mail/{{ user }}\nroot: true")
    probe = check.probe({**VALUES, "user": "x'; rm -rf ~ #"})
    assert probe.script == "test -f /var/mail/'x'\"'\"'; rm -rf ~ #'"
    assert probe.as_root


MAILBOX_LISTING = """\
== mbox /var/mail/learner
-- message
Subject: Cron job
From: root@alpha.lab.test
-- message
Subject: My first mail
From: learner@alpha.lab.test (learner)
To: learner@alpha.lab.test
== missing /home/learner/Maildir
"""


def test_mailbox_listing_parsed() -> None:
    messages, found, missing = parse_mailbox_listing(MAILBOX_LISTING)
    assert found == ["/var/mail/learner"]
    assert missing == ["/home/learner/Maildir"]
    assert [message.headers["subject"] for message in messages] == ["Cron job", "My first mail"]
    assert messages[1].headers["from"] == "learner@alpha.lab.test (learner)"


def mailbox_check(body: str) -> MailboxCheck:
    check = parse_check("mailbox", body, 1)
    assert isinstance(check, MailboxCheck)
    return check


def test_mailbox_match() -> None:
    result = mailbox_check("subject: ^My first mail$").judge(output(MAILBOX_LISTING), VALUES)
    assert result.passed
    assert result.reason == "found in /var/mail/learner: My first mail"


def test_mailbox_no_match_lists_places() -> None:
    check = mailbox_check("subject: ^Hello$\nfrom: bravo")
    result = check.judge(output(MAILBOX_LISTING), VALUES)
    assert not result.passed
    assert result.reason == (
        "no matching message for learner in /var/mail/learner (2 messages), "
        "/home/learner/Maildir (missing)"
    )
    assert result.evidence == "Latest subjects: Cron job; My first mail"


def test_mailbox_maildir() -> None:
    listing = (
        "== missing /var/mail/learner\n== maildir /home/learner/Maildir\n"
        "-- message\nsubject: From bravo\nfrom: bob@bravo.lab.test\n"
    )
    check = mailbox_check("from: '@bravo\\.lab\\.test$'")
    result = check.judge(output(listing), VALUES)
    assert result.passed
    assert result.reason == "found in /home/learner/Maildir: From bravo"


def test_mailbox_other_user_needs_root() -> None:
    assert not mailbox_check("subject: x").probe(VALUES).as_root
    assert mailbox_check("subject: x\nuser: bob").probe(VALUES).as_root


def test_wait_field() -> None:
    check = parse_check("mailbox", "subject: x\nwait: 10", 1)
    assert check.wait == 10
    assert parse_check("mailbox", "subject: x", 1).wait == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postconf -n", "postconf -n"),
        ("journalctl -o cat \\\n  | grep x", "journalctl -o cat …"),
        ("whoami\nhostname", "whoami …"),
    ],
)
def test_first_line_marks_continuation(text: str, expected: str) -> None:
    assert first_line(text) == expected


def test_mailbox_one_message_singular() -> None:
    listing = "== mbox /var/mail/learner\n-- message\nsubject: Only one\n"
    result = mailbox_check("subject: ^Other$").judge(output(listing), VALUES)
    assert result.reason == "no matching message for learner in /var/mail/learner (1 message)"
