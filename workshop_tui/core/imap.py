"""IMAP conversations from the attendee's side, as a mail client would hold them.

A probe reads the greeting and capabilities, may start TLS (STARTTLS on 143, or TLS
from the first byte on 993), log in, and read the headers of the newest messages in
INBOX without marking them seen (``EXAMINE`` and ``BODY.PEEK``). The password never
appears in the report or in an error. The caller owns the stream and closes it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.parser import HeaderParser
from typing import Literal

from workshop_tui.core.errors import RemoteTimeout
from workshop_tui.core.streams import (
    ByteStream,
    LineReader,
    ProtocolError,
    TlsInfo,
    start_tls,
    trim,
)


@dataclass(frozen=True)
class LoginResult:
    """Response to LOGIN, or status ``NOT SENT`` when LOGINDISABLED kept LOGIN from being sent."""

    status: Literal["OK", "NO", "BAD", "NOT SENT"]
    code: str | None
    text: str


@dataclass(frozen=True)
class InboxMessage:
    """The decoded ``Subject`` and ``From`` headers of one message in INBOX."""

    subject: str
    sender: str


@dataclass(frozen=True)
class Inbox:
    """The size of INBOX and its newest headers, read after a successful login."""

    count: int
    """Number of messages in INBOX."""

    newest: tuple[InboxMessage, ...]
    """Headers of the newest messages, oldest first, as many as the probe asked for."""


@dataclass(frozen=True)
class ImapReport:
    """Responses of an IMAP server: greeting, capabilities, TLS, LOGIN and INBOX.

    ``tls`` is set after STARTTLS and on a TLS port; ``tls_capabilities`` only after
    STARTTLS, because on a TLS port the first capabilities are already protected.
    """

    greeting: str
    capabilities: tuple[str, ...]
    starttls_offered: bool
    tls: TlsInfo | None = None
    tls_capabilities: tuple[str, ...] | None = None
    login: LoginResult | None = None
    lines: tuple[str, ...] = field(default=(), repr=False)
    inbox: Inbox | None = None

    def transcript(self) -> str:
        """Return the conversation; the password is shown as ``<password hidden>``."""
        return "\n".join(self.lines)


class _Imap:
    def __init__(self, reader: LineReader) -> None:
        self.reader = reader
        self.number = 0

    def read_response_line(self) -> str:
        """Read one response line, appending any literals ``{n}`` it contains."""
        line = self.reader.read_line()
        while (literal := re.search(r"\{(\d+)\}$", line)) is not None:
            data = self.reader.read_exact(int(literal.group(1)))
            line += self.reader.scrub(data.decode("utf-8", "replace")) + self.reader.read_line()
        return line

    def command(self, parts: list[tuple[str, bytes]], shown: str) -> tuple[str, list[str]]:
        """Send a command and return its tagged response line and the untagged lines.

        ``parts`` are ``("atom", bytes)``, sent after a space, or ``("literal", bytes)``,
        sent as ``{n}`` and, after the server's ``+`` continuation, the bytes themselves.
        The transcript gets ``shown`` instead of the bytes, which may hold a password.
        """
        self.number += 1
        tag = f"a{self.number}"
        self.reader.transcript.append(f"C: {tag} {shown}")
        self.reader.expecting = f"a response to {shown.split()[0]}"
        untagged: list[str] = []
        line = tag.encode()
        for kind, data in parts:
            if kind != "literal":
                line += b" " + data
                continue
            self.reader.send(line + b" {%d}\r\n" % len(data), record=False)
            while not (answer := self.read_response_line()).startswith("+"):
                if answer.startswith(tag + " "):
                    return answer, untagged
                untagged.append(answer)
            line = data
        self.reader.send(line + b"\r\n", record=False)
        while True:
            answer = self.read_response_line()
            if answer.startswith(tag + " "):
                return answer, untagged
            untagged.append(answer)

    def capabilities(self) -> tuple[str, ...]:
        tagged, untagged = self.command([("atom", b"CAPABILITY")], "CAPABILITY")
        _require_ok(tagged, "CAPABILITY")
        for line in untagged:
            if line.upper().startswith("* CAPABILITY "):
                return tuple(word.upper() for word in line.split()[2:])
        raise ProtocolError(
            f"The server responded to CAPABILITY without listing them: {trim(tagged)!r}."
        )


def _require_ok(tagged: str, command: str) -> None:
    if tagged.split(" ", 2)[1:2] != ["OK"]:
        raise ProtocolError(f"Expected OK to {command}, but the server sent: {trim(tagged)!r}.")


def _imap_string(value: str) -> tuple[str, bytes]:
    """Encode an IMAP string: quoted if printable ASCII, otherwise a synchronizing literal
    (RFC 3501 quoted strings cannot hold CR, LF, NUL or 8-bit characters)."""
    if all(32 <= ord(ch) < 127 for ch in value):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return ("atom", f'"{escaped}"'.encode())
    return ("literal", value.encode("utf-8"))


def _password_forms(password: str) -> tuple[str, ...]:
    """Return the password as sent, raw and IMAP-escaped, since a server may echo either."""
    kind, data = _imap_string(password)
    return (password, data.decode("utf-8")[1:-1]) if kind == "atom" else (password,)


_LOGIN_STATUSES: dict[str, Literal["OK", "NO", "BAD"]] = {"OK": "OK", "NO": "NO", "BAD": "BAD"}


def _login_result(tagged: str) -> LoginResult:
    match = re.match(r"\S+ (OK|NO|BAD)(?: \[([^\]\s]+)[^\]]*\])? ?(.*)$", tagged)
    if match is None:
        raise ProtocolError(
            f"Expected OK, NO or BAD to LOGIN, but the server sent: {trim(tagged)!r}."
        )
    return LoginResult(_LOGIN_STATUSES[match.group(1)], match.group(2), match.group(3))


def _read_inbox(imap: _Imap, newest: int) -> Inbox:
    """Examine INBOX read-only and fetch the headers of its ``newest`` messages."""
    tagged, untagged = imap.command([("atom", b"EXAMINE INBOX")], "EXAMINE INBOX")
    _require_ok(tagged, "EXAMINE INBOX")
    count = 0
    for line in untagged:
        match = re.match(r"\* (\d+) EXISTS", line, re.IGNORECASE)
        if match:
            count = int(match.group(1))
    if count == 0 or newest <= 0:
        return Inbox(count, ())
    first = max(1, count - newest + 1)
    request = f"FETCH {first}:{count} (BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])"
    tagged, untagged = imap.command([("atom", request.encode())], request)
    _require_ok(tagged, "FETCH")
    messages = []
    for line in untagged:
        literal = re.search(r"\{\d+\}", line)
        if " FETCH " not in line.upper() or literal is None:
            continue
        headers = HeaderParser().parsestr(line[literal.end() :].replace("\r\n", "\n"))
        messages.append(InboxMessage(_decoded(headers["Subject"]), _decoded(headers["From"])))
    return Inbox(count, tuple(messages))


def _decoded(header: str | None) -> str:
    """Return a header's text with MIME encoded words decoded, or "" when it is absent."""
    if header is None:
        return ""
    try:
        return str(make_header(decode_header(header))).strip()
    except (LookupError, ValueError):
        return header.strip()


def probe_imap(
    stream: ByteStream,
    *,
    starttls: bool = False,
    tls: bool = False,
    login: tuple[str, str] | None = None,
    newest: int = 0,
    timeout: float,
    verify: bool = False,
    server_hostname: str | None = None,
) -> ImapReport:
    """Read the greeting and CAPABILITY, optionally start TLS, LOGIN and examine INBOX.

    LOGIN is not sent while the server advertises LOGINDISABLED; the result then has
    status ``NOT SENT``. INBOX is examined only after a successful LOGIN.

    Args:
        stream: Connected byte stream to the IMAP port.
        starttls: Upgrade to TLS before LOGIN; the server must offer STARTTLS.
        tls: Start TLS before the greeting, as on port 993.
        login: User name and password to try.
        newest: Fetch the Subject and From headers of this many of the newest messages.
        timeout: Seconds allowed for the whole conversation.
        verify: Verify the certificate against the system's CA certificates.
        server_hostname: Name sent in TLS SNI and checked when ``verify`` is set.

    Raises:
        ProtocolError: the server broke the protocol or refused a required step.
        RemoteTimeout: the server did not respond within ``timeout``.
    """
    if starttls and tls:
        raise ValueError("starttls and tls exclude each other")
    secrets = _password_forms(login[1]) if login else ()
    reader = LineReader(stream, time.monotonic() + timeout, secrets)
    tls_info = tls_capabilities = None
    if tls:
        reader, tls_info = start_tls(reader, "connection", verify, server_hostname)
    imap = _Imap(reader)
    imap.reader.expecting = "the IMAP greeting '* OK'"
    greeting = imap.read_response_line()
    if not greeting.upper().startswith(("* OK", "* PREAUTH")):
        raise ProtocolError(
            f"Expected an IMAP greeting '* OK', but the server sent: {trim(greeting)!r}."
        )
    capabilities = imap.capabilities()
    offered = "STARTTLS" in capabilities
    if starttls:
        if not offered:
            raise ProtocolError(
                "STARTTLS was requested, but the server did not offer it. "
                f"Its capabilities: {' '.join(capabilities)}."
            )
        tagged, _ = imap.command([("atom", b"STARTTLS")], "STARTTLS")
        _require_ok(tagged, "STARTTLS")
        imap.reader, tls_info = start_tls(imap.reader, "STARTTLS", verify, server_hostname)
        tls_capabilities = imap.capabilities()
    result = inbox = None
    if login is not None:
        current = tls_capabilities if tls_capabilities is not None else capabilities
        user, password = login
        if "LOGINDISABLED" in current:
            result = LoginResult(
                "NOT SENT",
                "LOGINDISABLED",
                "The server advertises "
                "LOGINDISABLED on this connection, so the password was not sent.",
            )
        else:
            parts = [("atom", b"LOGIN"), _imap_string(user), _imap_string(password)]
            tagged, _ = imap.command(parts, f"LOGIN {user!r} <password hidden>")
            result = _login_result(tagged)
            if result.status == "OK":
                inbox = _read_inbox(imap, newest)
    try:
        imap.command([("atom", b"LOGOUT")], "LOGOUT")
    except (ProtocolError, RemoteTimeout) as exc:
        imap.reader.transcript.append(f"-- LOGOUT not acknowledged: {exc}")
    return ImapReport(
        greeting,
        capabilities,
        offered,
        tls_info,
        tls_capabilities,
        result,
        tuple(imap.reader.transcript),
        inbox,
    )
