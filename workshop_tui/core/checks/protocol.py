"""Checks that speak SMTP or IMAP to a port of the VPS, as a mail client would.

The conversation runs from the attendee's machine through an SSH direct-tcpip
channel, so it proves that the server speaks the protocol, not only that a tool on
the VPS reports it as running.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from workshop_tui.core.checks.base import Check, CheckFieldError, CheckResult, Fields
from workshop_tui.core.errors import ConnectionLost, RemoteError, RemoteTimeout
from workshop_tui.core.protocols import (
    ByteStream,
    ImapReport,
    ProtocolError,
    probe_imap,
    probe_smtp,
)
from workshop_tui.core.remote import Connection, TunnelFailed
from workshop_tui.core.variables import render_pattern, render_text

PROTOCOL_TIMEOUT = 15.0
"""Seconds a protocol check waits for the server; Dovecot delays failed logins by 2 s."""

EHLO_NAME = "workshop-tui.invalid"


def _parse_address(fields: Fields) -> str:
    address = fields.string("address", "127.0.0.1")
    if "{{" not in address and not re.match(r"^[A-Za-z0-9.:_-]+$", address):
        raise CheckFieldError(f"'{address}' is not a host name or IP address")
    return address


@dataclass(frozen=True, kw_only=True)
class ProtocolCheck(Check):
    """A check that opens a tunnel to ``address:port`` as seen from the VPS."""

    address: str = "127.0.0.1"
    port: int = 0

    def placeholder_fields(self) -> Mapping[str, str]:
        return {"address": self.address}

    def run(self, connection: Connection, values: Mapping[str, str]) -> CheckResult:
        """Open the tunnel, hold the conversation and judge it.

        Raises:
            ConnectionLost: the SSH link broke, so the check has no result.
        """
        address = render_text(self.address, values)
        where = f"{address}:{self.port}"
        try:
            channel = connection.open_tunnel(address, self.port, timeout=PROTOCOL_TIMEOUT)
        except ConnectionLost:
            raise
        except RemoteTimeout:
            return CheckResult(self, False, f"no answer from {where} within the time limit")
        except TunnelFailed as error:
            if error.forwarding_denied:
                return CheckResult(self, False, str(error))
            return CheckResult(
                self, False, f"nothing listens on {where}: the connection was refused", str(error)
            )
        except RemoteError as error:
            return CheckResult(self, False, f"{where} could not be reached: {error}")
        try:
            return self.converse(channel, values, where, connection.login.password)
        except ProtocolError as error:
            return CheckResult(self, False, f"{where}: {error}")
        finally:
            channel.close()

    def converse(
        self, channel: ByteStream, values: Mapping[str, str], where: str, password: str | None
    ) -> CheckResult:
        """Speak the protocol over an open channel and judge the replies.

        ``password`` is the attendee's login password, or None for a key login.
        """
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class SmtpCheck(ProtocolCheck):
    """Passes when a port greets with an SMTP banner and accepts EHLO."""

    kind: ClassVar[str] = "smtp"
    fields: ClassVar[tuple[str, ...]] = ("port", "address", "banner", "starttls")
    banner: str = r"^220[ -]"
    starttls: bool = False

    @classmethod
    def parse(cls, fields: Fields, title: str | None, hint: str | None, line: int) -> SmtpCheck:
        port = fields.integer("port", 25, 1, 65535)
        return cls(
            title=title or f"Port {port} answers SMTP",
            hint=hint,
            line=line,
            address=_parse_address(fields),
            port=port,
            banner=fields.pattern("banner", r"^220[ -]") or r"^220[ -]",
            starttls=fields.boolean("starttls", False),
        )

    def placeholder_fields(self) -> Mapping[str, str]:
        return {"address": self.address, "banner": self.banner}

    def converse(
        self, channel: ByteStream, values: Mapping[str, str], where: str, password: str | None
    ) -> CheckResult:
        report = probe_smtp(
            channel, ehlo_name=EHLO_NAME, starttls=self.starttls, timeout=PROTOCOL_TIMEOUT
        )
        banner = render_pattern(self.banner, values)
        if not re.search(banner, report.banner, re.MULTILINE):
            return CheckResult(
                self, False, f"the banner on {where} does not match /{banner}/", report.banner
            )
        summary = f"{where} answered: {report.banner.splitlines()[0]}"
        return CheckResult(self, True, summary, report.transcript())


INBOX_MESSAGES = 50
"""How many of the newest INBOX messages a login check reads the headers of."""


@dataclass(frozen=True, kw_only=True)
class ImapCheck(ProtocolCheck):
    """Passes when a port greets with ``* OK``, and optionally a mail client can log in.

    With ``login`` the check starts TLS and logs in with the attendee's own password,
    as a mail client on another machine must. Dovecot lets plaintext passwords through
    on a connection from the server itself, and the tunnel ends on the server, so a
    login without TLS could pass here and still fail on the attendee's phone.
    """

    kind: ClassVar[str] = "imap"
    fields: ClassVar[tuple[str, ...]] = (
        "port", "address", "greeting", "starttls", "tls", "login", "user", "subject", "from",
    )  # fmt: skip
    greeting: str = r"^\* OK"
    starttls: bool = False
    tls: bool = False
    login: bool = False
    user: str = "{{ user }}"
    subject: str | None = None
    sender: str | None = None

    @classmethod
    def parse(cls, fields: Fields, title: str | None, hint: str | None, line: int) -> ImapCheck:
        tls = fields.boolean("tls", False)
        port = fields.integer("port", 993 if tls else 143, 1, 65535)
        starttls = fields.boolean("starttls", False)
        if starttls and tls:
            raise CheckFieldError(
                "'starttls' and 'tls' exclude each other: use tls for port 993 and "
                "starttls for port 143"
            )
        login = fields.boolean("login", False)
        if login and not (starttls or tls):
            raise CheckFieldError(
                "a login check needs 'starttls: true' or 'tls: true', because the server "
                "accepts a plaintext password from itself and such a check would pass "
                "where a mail client on another machine is refused"
            )
        user_set = fields.has("user")
        user = fields.string("user", "{{ user }}")
        subject = fields.pattern("subject")
        sender = fields.pattern("from")
        if not login and (subject or sender or user_set):
            raise CheckFieldError("'user', 'subject' and 'from' need 'login: true'")
        if login:
            default_title = f"A mail client can log in as {user} on port {port}"
        else:
            default_title = f"Port {port} answers IMAP"
        return cls(
            title=title or default_title,
            hint=hint,
            line=line,
            address=_parse_address(fields),
            port=port,
            greeting=fields.pattern("greeting", r"^\* OK") or r"^\* OK",
            starttls=starttls,
            tls=tls,
            login=login,
            user=user,
            subject=subject,
            sender=sender,
        )

    def placeholder_fields(self) -> Mapping[str, str]:
        fields = {"address": self.address, "greeting": self.greeting, "user": self.user}
        if self.subject:
            fields["subject"] = self.subject
        if self.sender:
            fields["from"] = self.sender
        return fields

    def run(self, connection: Connection, values: Mapping[str, str]) -> CheckResult:
        if self.login and connection.login.password is None:
            return CheckResult(
                self,
                False,
                "this check logs in to IMAP with your password, but the app logged in "
                "with a key and knows no password; log in to the app with your password",
            )
        return super().run(connection, values)

    def converse(
        self, channel: ByteStream, values: Mapping[str, str], where: str, password: str | None
    ) -> CheckResult:
        credentials = None
        if self.login and password is not None:
            credentials = (render_text(self.user, values), password)
        report = probe_imap(
            channel,
            starttls=self.starttls,
            tls=self.tls,
            login=credentials,
            newest=INBOX_MESSAGES if (self.subject or self.sender) else 0,
            timeout=PROTOCOL_TIMEOUT,
        )
        greeting = render_pattern(self.greeting, values)
        if not re.search(greeting, report.greeting, re.MULTILINE):
            return CheckResult(
                self,
                False,
                f"the greeting on {where} does not match /{greeting}/",
                report.greeting,
            )
        if not self.login:
            return CheckResult(
                self, True, f"{where} answered: {report.greeting}", report.transcript()
            )
        return judge_login(self, report, values, where)


def judge_login(
    check: ImapCheck, report: ImapReport, values: Mapping[str, str], where: str
) -> CheckResult:
    """Judge the LOGIN result and, for a check with ``subject`` or ``from``, the INBOX."""
    user = render_text(check.user, values)
    result = report.login
    evidence = report.transcript()

    if result is None or result.status == "NOT SENT":
        return CheckResult(
            check,
            False,
            f"{where} accepts no password logins even over TLS (LOGINDISABLED)",
            evidence,
        )
    if result.status != "OK":
        reason = f"{where} rejected the login of {user}: {result.text}"
        if user == "root":
            reason += " Dovecot does not let root log in; mail clients log in as a normal user."
        return CheckResult(check, False, reason, evidence)

    inbox = report.inbox
    count = inbox.count if inbox is not None else 0
    plural = "" if count == 1 else "s"
    summary = f"logged in as {user} over TLS; INBOX has {count} message{plural}"
    if check.subject is None and check.sender is None:
        return CheckResult(check, True, summary, evidence)
    subject = render_pattern(check.subject, values) if check.subject else None
    sender = render_pattern(check.sender, values) if check.sender else None

    newest = inbox.newest if inbox is not None else ()
    for message in reversed(newest):
        if subject and not re.search(subject, message.subject):
            continue
        if sender and not re.search(sender, message.sender):
            continue
        return CheckResult(check, True, f"{summary}, among them: {message.subject}", evidence)

    wanted = " and ".join(
        text for text in (f"subject /{subject}/" if subject else "",
                          f"sender /{sender}/" if sender else "") if text
    )  # fmt: skip
    recent = "; ".join(message.subject or "(no subject)" for message in newest[-3:])
    return CheckResult(
        check,
        False,
        f"{summary}, but none with {wanted}",
        f"Newest subjects in INBOX: {recent}" if recent else "INBOX is empty",
    )
