"""Byte streams for protocol checks: a line reader with a deadline, and TLS in memory.

``TlsStream`` runs TLS over ``ssl.MemoryBIO``, so STARTTLS works over an SSH channel as
well as over a socket.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from workshop_tui.core.errors import RemoteTimeout, WorkshopError

_MAX_LINE = 64 * 1024
_TRIM = 300


class ProtocolError(WorkshopError):
    """The server's response did not follow the protocol or rejected a required step."""


class ByteStream(Protocol):
    """The byte-stream operations shared by sockets and paramiko channels."""

    def sendall(self, data: bytes, /) -> None: ...
    def recv(self, size: int, /) -> bytes: ...
    def settimeout(self, timeout: float | None, /) -> None: ...


def trim(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _TRIM else text[:_TRIM] + "..."


class LineReader:
    """Reads CRLF-terminated lines and exact byte counts from a stream before a deadline.

    Every line sent and received is kept in ``transcript``, prefixed ``C:`` or ``S:``.
    """

    def __init__(self, stream: ByteStream, deadline: float, secrets: tuple[str, ...] = ()):
        self.stream = stream
        self.deadline = deadline
        self.buffer = b""
        self.transcript: list[str] = []
        # What the conversation waits for, named in timeout and connection errors.
        self.expecting = "a response"
        self.secrets = tuple(secret for secret in secrets if secret)

    def scrub(self, text: str) -> str:
        """Return ``text`` with every secret replaced by ``****``."""
        for secret in self.secrets:
            text = text.replace(secret, "****")
        return text

    def _fill(self) -> None:
        remaining = self.deadline - time.monotonic()
        timed_out = f"The server did not respond in time; the probe expected {self.expecting}."
        if remaining <= 0:
            raise RemoteTimeout(timed_out)
        self.stream.settimeout(remaining)
        try:
            data = self.stream.recv(65536)
        except TimeoutError:
            raise RemoteTimeout(timed_out) from None
        except OSError as exc:
            raise ProtocolError(
                f"The connection failed ({exc}); the probe expected {self.expecting}."
            ) from None
        if not data:
            raise ProtocolError(
                f"The server closed the connection; the probe expected {self.expecting}."
            )
        self.buffer += data

    def read_line(self) -> str:
        """Return the next line without its line ending, decoded leniently as UTF-8."""
        while b"\n" not in self.buffer:
            if len(self.buffer) > _MAX_LINE:
                raise ProtocolError(f"The server sent a line longer than {_MAX_LINE} bytes.")
            self._fill()
        raw, _, self.buffer = self.buffer.partition(b"\n")
        line = self.scrub(raw.rstrip(b"\r").decode("utf-8", "replace"))
        self.transcript.append("S: " + line)
        return line

    def read_exact(self, size: int) -> bytes:
        """Return exactly ``size`` bytes (an IMAP literal)."""
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def send(self, data: bytes, *, record: bool = True) -> None:
        """Send ``data`` and, if ``record`` is set, add it to the transcript."""
        if record:
            self.transcript.append("C: " + data.decode("utf-8", "replace").rstrip("\r\n"))
        try:
            self.stream.sendall(data)
        except OSError as exc:
            raise ProtocolError(f"Sending to the server failed: {exc}.") from None


@dataclass(frozen=True)
class TlsInfo:
    """The TLS session and the server certificate seen after STARTTLS."""

    version: str
    cipher: str
    subject: str
    issuer: str
    self_signed: bool
    not_after: datetime | None
    dns_names: tuple[str, ...]


class TlsStream:
    """TLS client over another ByteStream, using ``ssl.MemoryBIO`` so any transport works."""

    def __init__(
        self, raw: ByteStream, context: ssl.SSLContext, server_hostname: str | None = None
    ) -> None:
        self.raw = raw
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)

    def settimeout(self, timeout: float | None, /) -> None:
        self.raw.settimeout(timeout)

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self.raw.sendall(data)

    def _pull(self) -> None:
        data = self.raw.recv(65536)
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    def handshake(self) -> None:
        """Run the TLS handshake; raise ProtocolError if it fails."""
        while True:
            try:
                self.tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                self._pull()
                continue
            except ssl.SSLError as exc:
                raise ProtocolError(f"The TLS handshake failed: {exc.reason or exc}.") from None
            self._flush()
            return

    def recv(self, size: int, /) -> bytes:
        while True:
            try:
                return self.tls.read(size)
            except ssl.SSLWantReadError:
                self._flush()
                self._pull()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""

    def sendall(self, data: bytes, /) -> None:
        self.tls.write(data)
        self._flush()

    def info(self) -> TlsInfo:
        """Describe the session and the server's certificate."""
        der = self.tls.getpeercert(binary_form=True)
        cipher = self.tls.cipher()
        base = {
            "version": self.tls.version() or "unknown",
            "cipher": cipher[0] if cipher else "unknown",
        }
        if not der:
            return TlsInfo(
                **base, subject="", issuer="", self_signed=False, not_after=None, dns_names=()
            )
        cert = x509.load_der_x509_certificate(der)
        try:
            names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            dns_names = tuple(names.value.get_values_for_type(x509.DNSName))
        except x509.ExtensionNotFound:
            dns_names = ()
        return TlsInfo(
            **base,
            subject=cert.subject.rfc4514_string(),
            issuer=cert.issuer.rfc4514_string(),
            self_signed=_is_self_signed(cert),
            not_after=cert.not_valid_after_utc,
            dns_names=dns_names,
        )


def _is_self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def tls_context(verify: bool) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if verify:
        context.load_default_certs()
    else:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def start_tls(
    reader: LineReader, what: str, verify: bool, server_hostname: str | None
) -> tuple[LineReader, TlsInfo]:
    """Wrap the reader's stream in TLS and return a new reader and the TLS details.

    ``what`` names the reply that TLS follows, such as STARTTLS, for the error message.
    """
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
