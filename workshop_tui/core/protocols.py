"""SMTP and IMAP conversations from the attendee's side, as a mail client would hold them.

The functions speak over any ``ByteStream``: a paramiko channel from
``Connection.open_tunnel``, a socket in tests, or ``TlsStream`` on top of either.
STARTTLS runs TLS in memory (``ssl.MemoryBIO``), so it works over an SSH channel.
Certificates are not verified by default, because workshop servers use self-signed
ones. The report names the certificate's subject and issuer and whether it is self-signed.
The caller owns the stream and closes it.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Literal

from workshop_tui.core.errors import RemoteTimeout
from workshop_tui.core.streams import (
    ByteStream,
    LineReader,
    ProtocolError,
    TlsInfo,
    TlsStream,
    tls_context,
    trim,
)

__all__ = [
    "ByteStream",
    "ImapReport",
    "LoginResult",
    "ProtocolError",
    "SmtpReport",
    "TlsInfo",
    "probe_imap",
    "probe_smtp",
]


def _start_tls(
    reader: LineReader, what: str, verify: bool, server_hostname: str | None
) -> tuple[LineReader, TlsInfo]:
    """Wrap the reader's stream in TLS and return a new reader and the TLS details."""
    if reader.buffer:
        # Plaintext sent after the STARTTLS reply would be read as if it came over TLS.
        early = reader.scrub(reader.buffer.decode("utf-8", "replace"))
        raise ProtocolError(
            f"The server sent data after its {what} reply and before TLS started: {trim(early)!r}."
        )
    tls = TlsStream(reader.stream, tls_context(verify), server_hostname)
    reader.stream.settimeout(max(reader.deadline - time.monotonic(), 0.001))
    try:
        tls.handshake()
    except TimeoutError:
        raise RemoteTimeout("The server did not finish the TLS handshake in time.") from None
    except OSError as exc:
        raise ProtocolError(f"The connection failed during the TLS handshake: {exc}.") from None
    reader.expecting = "the TLS handshake"
    secured = LineReader(tls, reader.deadline, reader.secrets)
    secured.transcript = reader.transcript
    secured.transcript.append(f"-- TLS started ({tls.tls.version()})")
    return secured, tls.info()


@dataclass(frozen=True)
class SmtpReport:
    """Responses of an SMTP server: banner, EHLO extensions and, with STARTTLS, TLS."""

    banner: str
    extensions: dict[str, str]
    starttls_offered: bool
    tls: TlsInfo | None = None
    tls_extensions: dict[str, str] | None = None
    lines: tuple[str, ...] = field(default=(), repr=False)

    def transcript(self) -> str:
        """Return the conversation, one ``C:``/``S:`` line per protocol line."""
        return "\n".join(self.lines)


def _smtp_reply(reader: LineReader, expected: int, after: str) -> list[str]:
    """Read a possibly multi-line reply and return its lines (code included)."""
    reader.expecting = f"SMTP reply {expected} {after}"
    lines: list[str] = []
    while True:
        line = reader.read_line()
        lines.append(line)
        if not re.match(r"\d{3}(?:[ -]|$)", line) or line[:3] != lines[0][:3]:
            raise ProtocolError(
                f"Expected an SMTP reply {expected} {after}, but the server "
                f"sent: {trim(chr(10).join(lines))!r}."
            )
        if line[3:4] != "-":
            break
    if int(lines[0][:3]) != expected:
        raise ProtocolError(
            f"Expected SMTP reply {expected} {after}, but the server sent: "
            f"{trim(chr(10).join(lines))!r}."
        )
    return lines


def _ehlo(reader: LineReader, name: str) -> dict[str, str]:
    reader.send(f"EHLO {name}\r\n".encode())
    lines = _smtp_reply(reader, 250, "to EHLO")
    extensions = {}
    for line in lines[1:]:
        keyword, _, params = line[4:].partition(" ")
        extensions[keyword.upper()] = params
    return extensions


def probe_smtp(
    stream: ByteStream,
    *,
    ehlo_name: str,
    starttls: bool = False,
    timeout: float,
    verify: bool = False,
    server_hostname: str | None = None,
) -> SmtpReport:
    """Read the 220 banner, send EHLO, optionally STARTTLS and EHLO again, then QUIT.

    Args:
        stream: Connected byte stream to the SMTP port.
        ehlo_name: Name sent with EHLO.
        starttls: Upgrade to TLS; the server must offer STARTTLS.
        timeout: Seconds allowed for the whole conversation.
        verify: Verify the certificate against the system's CA certificates.
        server_hostname: Name sent in TLS SNI and checked when ``verify`` is set.

    Raises:
        ProtocolError: the server broke the protocol or rejected a step. The message
            quotes the server's response.
        RemoteTimeout: the server did not answer within ``timeout``.
    """
    if any(ch.isspace() for ch in ehlo_name) or not ehlo_name:
        raise ValueError(f"invalid EHLO name {ehlo_name!r}")
    reader = LineReader(stream, time.monotonic() + timeout)
    banner = "\n".join(_smtp_reply(reader, 220, "as the greeting"))
    extensions = _ehlo(reader, ehlo_name)
    offered = "STARTTLS" in extensions
    tls_info = tls_extensions = None
    if starttls:
        if not offered:
            raise ProtocolError(
                "STARTTLS was requested, but the server did not offer it. "
                f"It offered: {', '.join(extensions) or 'no extensions'}."
            )
        reader.send(b"STARTTLS\r\n")
        _smtp_reply(reader, 220, "to STARTTLS")
        reader, tls_info = _start_tls(reader, "STARTTLS", verify, server_hostname)
        tls_extensions = _ehlo(reader, ehlo_name)
    try:
        reader.send(b"QUIT\r\n")
        _smtp_reply(reader, 221, "to QUIT")
    except (ProtocolError, RemoteTimeout) as exc:
        reader.transcript.append(f"-- QUIT not acknowledged: {exc}")
    return SmtpReport(
        banner, extensions, offered, tls_info, tls_extensions, tuple(reader.transcript)
    )


@dataclass(frozen=True)
class LoginResult:
    """Response to LOGIN, or status ``NOT SENT`` when LOGINDISABLED kept LOGIN from being sent."""

    status: Literal["OK", "NO", "BAD", "NOT SENT"]
    code: str | None
    text: str


@dataclass(frozen=True)
class ImapReport:
    """Responses of an IMAP server: greeting, capabilities, TLS and the LOGIN result."""

    greeting: str
    capabilities: tuple[str, ...]
    starttls_offered: bool
    tls: TlsInfo | None = None
    tls_capabilities: tuple[str, ...] | None = None
    login: LoginResult | None = None
    lines: tuple[str, ...] = field(default=(), repr=False)

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


def probe_imap(
    stream: ByteStream,
    *,
    starttls: bool = False,
    login: tuple[str, str] | None = None,
    timeout: float,
    verify: bool = False,
    server_hostname: str | None = None,
) -> ImapReport:
    """Read the ``* OK`` greeting, ask for CAPABILITY, optionally STARTTLS and LOGIN, LOGOUT.

    LOGIN is not sent while the server advertises LOGINDISABLED; the result then has
    status ``NOT SENT``. The password never appears in the report or in an error.

    Args:
        stream: Connected byte stream to the IMAP port.
        starttls: Upgrade to TLS before LOGIN; the server must offer STARTTLS.
        login: User name and password to try.
        timeout: Seconds allowed for the whole conversation.
        verify: Verify the certificate against the system's CA certificates.
        server_hostname: Name sent in TLS SNI and checked when ``verify`` is set.

    Raises:
        ProtocolError: the server broke the protocol or refused a required step.
        RemoteTimeout: the server did not answer within ``timeout``.
    """
    secrets = _password_forms(login[1]) if login else ()
    imap = _Imap(LineReader(stream, time.monotonic() + timeout, secrets))
    imap.reader.expecting = "the IMAP greeting '* OK'"
    greeting = imap.read_response_line()
    if not greeting.upper().startswith(("* OK", "* PREAUTH")):
        raise ProtocolError(
            f"Expected an IMAP greeting '* OK', but the server sent: {trim(greeting)!r}."
        )
    capabilities = imap.capabilities()
    offered = "STARTTLS" in capabilities
    tls_info = tls_capabilities = None
    if starttls:
        if not offered:
            raise ProtocolError(
                "STARTTLS was requested, but the server did not offer it. "
                f"Its capabilities: {' '.join(capabilities)}."
            )
        tagged, _ = imap.command([("atom", b"STARTTLS")], "STARTTLS")
        _require_ok(tagged, "STARTTLS")
        imap.reader, tls_info = _start_tls(imap.reader, "STARTTLS", verify, server_hostname)
        tls_capabilities = imap.capabilities()
    result = None
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
    )
