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
from workshop_tui.core.protocols import ByteStream, ProtocolError, probe_imap, probe_smtp
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
            return self.converse(channel, values, where)
        except ProtocolError as error:
            return CheckResult(self, False, f"{where}: {error}")
        finally:
            channel.close()

    def converse(self, channel: ByteStream, values: Mapping[str, str], where: str) -> CheckResult:
        """Speak the protocol over an open channel and judge the replies."""
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

    def converse(self, channel: ByteStream, values: Mapping[str, str], where: str) -> CheckResult:
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


@dataclass(frozen=True, kw_only=True)
class ImapCheck(ProtocolCheck):
    """Passes when a port greets with an IMAP ``* OK`` greeting."""

    kind: ClassVar[str] = "imap"
    fields: ClassVar[tuple[str, ...]] = ("port", "address", "greeting", "starttls")
    greeting: str = r"^\* OK"
    starttls: bool = False

    @classmethod
    def parse(cls, fields: Fields, title: str | None, hint: str | None, line: int) -> ImapCheck:
        port = fields.integer("port", 143, 1, 65535)
        return cls(
            title=title or f"Port {port} answers IMAP",
            hint=hint,
            line=line,
            address=_parse_address(fields),
            port=port,
            greeting=fields.pattern("greeting", r"^\* OK") or r"^\* OK",
            starttls=fields.boolean("starttls", False),
        )

    def placeholder_fields(self) -> Mapping[str, str]:
        return {"address": self.address, "greeting": self.greeting}

    def converse(self, channel: ByteStream, values: Mapping[str, str], where: str) -> CheckResult:
        report = probe_imap(channel, starttls=self.starttls, timeout=PROTOCOL_TIMEOUT)
        greeting = render_pattern(self.greeting, values)
        if not re.search(greeting, report.greeting, re.MULTILINE):
            return CheckResult(
                self,
                False,
                f"the greeting on {where} does not match /{greeting}/",
                report.greeting,
            )
        return CheckResult(self, True, f"{where} answered: {report.greeting}", report.transcript())
