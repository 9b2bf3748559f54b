"""The IMAP login check and the mailbox check's ``seen`` field, without a network."""

from __future__ import annotations

import pytest

from workshop_tui.core.checks import CheckFieldError, ImapCheck, MailboxCheck, parse_check
from workshop_tui.core.checks.protocol import judge_login
from workshop_tui.core.imap import ImapReport, Inbox, InboxMessage, LoginResult
from workshop_tui.core.probes import ProbeOutput

VALUES = {"user": "learner", "domain": "alpha.lab.test"}


def imap_check(body: str) -> ImapCheck:
    check = parse_check("imap", body, 1)
    assert isinstance(check, ImapCheck)
    return check


def report(login: LoginResult, inbox: Inbox | None = None) -> ImapReport:
    return ImapReport(
        "* OK Dovecot (Debian) ready.", ("IMAP4REV1",), True, login=login, inbox=inbox
    )


def test_login_without_tls_rejected() -> None:
    with pytest.raises(CheckFieldError, match="needs 'starttls: true' or 'tls: true'"):
        parse_check("imap", "login: true", 1)


def test_starttls_and_tls_exclusive() -> None:
    with pytest.raises(CheckFieldError, match="exclude each other"):
        parse_check("imap", "starttls: true\ntls: true", 1)


def test_subject_needs_login() -> None:
    with pytest.raises(CheckFieldError, match="need 'login: true'"):
        parse_check("imap", "starttls: true\nsubject: x", 1)


def test_tls_defaults_to_port_993() -> None:
    check = imap_check("tls: true\nlogin: true")
    assert check.port == 993
    assert check.title == "A mail client can log in as {{ user }} on port 993"


def test_login_accepted_counts_inbox() -> None:
    check = imap_check("starttls: true\nlogin: true")
    result = judge_login(
        check, report(LoginResult("OK", None, "Logged in"), Inbox(3, ())), VALUES, "127.0.0.1:143"
    )
    assert result.passed
    assert result.reason == "logged in as learner over TLS; INBOX has 3 messages"


def test_login_rejected_names_user() -> None:
    check = imap_check("starttls: true\nlogin: true")
    login = LoginResult("NO", "AUTHENTICATIONFAILED", "Authentication failed.")
    result = judge_login(check, report(login), VALUES, "127.0.0.1:143")
    assert not result.passed
    assert result.reason == "127.0.0.1:143 rejected the login of learner: Authentication failed."


def test_root_login_rejected_explains() -> None:
    check = imap_check("starttls: true\nlogin: true")
    login = LoginResult("NO", "AUTHENTICATIONFAILED", "Authentication failed.")
    result = judge_login(check, report(login), {"user": "root"}, "127.0.0.1:143")
    assert "Dovecot does not let root log in" in result.reason


def test_login_subject_found_in_inbox() -> None:
    check = imap_check("starttls: true\nlogin: true\nsubject: ^Fetched over IMAP$")
    inbox = Inbox(
        2, (InboxMessage("My first mail", "a@x"), InboxMessage("Fetched over IMAP", "a@x"))
    )
    result = judge_login(check, report(LoginResult("OK", None, ""), inbox), VALUES, "x")
    assert result.passed
    assert result.reason.endswith("among them: Fetched over IMAP")


def test_login_subject_missing_lists_newest() -> None:
    check = imap_check("starttls: true\nlogin: true\nsubject: ^Fetched over IMAP$")
    inbox = Inbox(1, (InboxMessage("My first mail", "a@x"),))
    result = judge_login(check, report(LoginResult("OK", None, ""), inbox), VALUES, "x")
    assert not result.passed
    assert result.reason == (
        "logged in as learner over TLS; INBOX has 1 message, but none with subject "
        "/^Fetched over IMAP$/"
    )
    assert result.evidence == "Newest subjects in INBOX: My first mail"


def test_login_disabled_even_with_tls() -> None:
    check = imap_check("tls: true\nlogin: true")
    login = LoginResult("NOT SENT", "LOGINDISABLED", "not sent")
    result = judge_login(check, report(login), VALUES, "127.0.0.1:993")
    assert not result.passed
    assert "LOGINDISABLED" in result.reason


MBOX = (
    "== mbox /var/mail/learner\n"
    "-- message\nsubject: Hello from team team-2\nfrom: Team team-2 <learner@bravo.lab.test>\n"
    "status: O\n"
    "== missing /home/learner/Maildir\n"
)


def seen_check() -> MailboxCheck:
    check = parse_check("mailbox", "from: '@bravo\\.lab\\.test'\nseen: true", 1)
    assert isinstance(check, MailboxCheck)
    return check


def test_mailbox_seen_unread_message() -> None:
    result = seen_check().judge(ProbeOutput(0, MBOX, False), VALUES)
    assert not result.passed
    assert "1 matching message(s) for learner" in result.reason
    assert "none opened yet" in result.reason


def test_mailbox_seen_read_message() -> None:
    text = MBOX.replace("status: O", "status: RO")
    result = seen_check().judge(ProbeOutput(0, text, False), VALUES)
    assert result.passed


def test_mailbox_seen_title() -> None:
    assert (
        seen_check().title
        == "A read message with sender /@bravo\\.lab\\.test/ is in {{ user }}'s mailbox"
    )
