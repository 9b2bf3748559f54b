"""SMTP conversations from the attendee's side, as a mail client would hold them.

The functions speak over any ``ByteStream``: a paramiko channel from
``Connection.open_tunnel``, a socket in tests, or ``TlsStream`` on top of either.
STARTTLS runs TLS in memory (``ssl.MemoryBIO``), so it works over an SSH channel.
Certificates are not verified by default, because workshop servers use self-signed
ones. The report names the certificate's subject and issuer and whether it is self-signed.
The caller owns the stream and closes it. IMAP lives in :mod:`workshop_tui.core.imap`
and is re-exported here, so both protocols are imported from one place.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from workshop_tui.core.errors import RemoteTimeout
from workshop_tui.core.imap import ImapReport, InboxMessage, LoginResult, probe_imap
from workshop_tui.core.streams import (
    ByteStream,
    LineReader,
    ProtocolError,
    TlsInfo,
    start_tls,
    trim,
)

__all__ = [
    "ByteStream",
    "ImapReport",
    "InboxMessage",
    "LoginResult",
    "ProtocolError",
    "SmtpReport",
    "TlsInfo",
    "probe_imap",
    "probe_smtp",
]


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
        reader, tls_info = start_tls(reader, "STARTTLS", verify, server_hostname)
        tls_extensions = _ehlo(reader, ehlo_name)
    try:
        reader.send(b"QUIT\r\n")
        _smtp_reply(reader, 221, "to QUIT")
    except (ProtocolError, RemoteTimeout) as exc:
        reader.transcript.append(f"-- QUIT not acknowledged: {exc}")
    return SmtpReport(
        banner, extensions, offered, tls_info, tls_extensions, tuple(reader.transcript)
    )
