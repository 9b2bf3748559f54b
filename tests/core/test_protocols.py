"""SMTP and IMAP probes against small fake servers on socketpairs and through an SSH tunnel."""

from __future__ import annotations

import contextlib
import datetime
import re
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from workshop_tui.core.errors import RemoteTimeout
from workshop_tui.core.protocols import ProtocolError, probe_imap, probe_smtp

from .sshd_server import ConnectFactory

PASSWORD = "p\"w\\ x'; rm -rf ~ #"


@pytest.fixture(scope="module")
def server_tls(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    """A server context with a throwaway self-signed certificate for mail.test."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mail.test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("mail.test")]), False)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path: Path = directory / "cert.pem"
    key_path: Path = directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


@dataclass
class FakeServer:
    """One scripted client session on a socket; ``received`` records the client's lines."""

    sock: socket.socket
    tls: ssl.SSLContext | None = None
    received: list[bytes] = field(default_factory=list)
    buffer: bytes = b""

    def send(self, text: str) -> None:
        self.sock.sendall(text.encode().replace(b"\n", b"\r\n"))

    def read_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError
            self.buffer += data
        line, _, self.buffer = self.buffer.partition(b"\r\n")
        self.received.append(line)
        return line

    def read_exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self.buffer += self.sock.recv(4096)
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def start_tls(self) -> None:
        assert self.tls is not None
        self.sock = self.tls.wrap_socket(self.sock, server_side=True)


def smtp_session(
    server: FakeServer,
    *,
    banner: str = "220-mail.test ESMTP\n220 ready\n",
    starttls: bool = True,
    inject: bool = False,
) -> None:
    server.send(banner)
    while True:
        line = server.read_line().upper()
        if line.startswith(b"EHLO"):
            extras = (
                "250-STARTTLS\n"
                if starttls and server.tls and not isinstance(server.sock, ssl.SSLSocket)
                else ""
            )
            secure = "250-AUTH PLAIN LOGIN\n" if isinstance(server.sock, ssl.SSLSocket) else ""
            server.send(
                f"250-mail.test Hello\n250-PIPELINING\n{extras}{secure}"
                "250-SIZE 10240000\n250 8BITMIME\n"
            )
        elif line == b"STARTTLS":
            server.send("220 2.0.0 Ready to start TLS\n" + ("250 injected\n" if inject else ""))
            if inject:
                return
            server.start_tls()
        elif line == b"QUIT":
            server.send("221 2.0.0 Bye\n")
            return
        else:
            server.send("502 5.5.2 Error: command not recognized\n")


def imap_session(
    server: FakeServer,
    *,
    login_disabled_in_plain: bool = False,
    password: str = PASSWORD,
    greeting: str = "* OK [CAPABILITY IMAP4rev1] ready\n",
    inbox: tuple[tuple[str, str], ...] = (),
) -> None:
    server.send(greeting)
    while True:
        line = server.read_line()
        while (literal := re.search(rb"\{(\d+)\}$", line)) is not None:
            server.send("+ OK\n")
            line = line[: literal.start()] + b"<" + server.read_exact(int(literal.group(1))) + b">"
            line += server.read_line()
        tag, _, rest = line.partition(b" ")
        command = rest.split(b" ", 1)[0].upper()
        secure = isinstance(server.sock, ssl.SSLSocket)
        if command == b"CAPABILITY":
            caps = "IMAP4rev1 LITERAL+ ID"
            caps += "" if secure else " STARTTLS"
            caps += " LOGINDISABLED" if login_disabled_in_plain and not secure else ""
            server.send(f"* CAPABILITY {caps}\n{tag.decode()} OK done\n")
        elif command == b"STARTTLS":
            server.send(f"{tag.decode()} OK Begin TLS\n")
            server.start_tls()
        elif command == b"LOGIN":
            quoted = '"' + password.replace("\\", "\\\\").replace('"', '\\"') + '"'
            expected = {quoted.encode(), b"<" + password.encode() + b">"}
            if not secure and not login_disabled_in_plain and b"plainonly" in rest:
                server.send(
                    f"{tag.decode()} NO [PRIVACYREQUIRED] Plaintext authentication "
                    "disallowed on non-secure (SSL/TLS) connections.\n"
                )
            elif rest.split(b" ", 2)[2] in expected:
                server.send(f"{tag.decode()} OK [CAPABILITY IMAP4rev1] Logged in\n")
            else:
                server.send(f"{tag.decode()} NO [AUTHENTICATIONFAILED] Authentication failed.\n")
        elif command == b"EXAMINE":
            server.send(f"* {len(inbox)} EXISTS\n{tag.decode()} OK [READ-ONLY] Examined\n")
        elif command == b"FETCH":
            first, last = (int(n) for n in rest.split(b" ")[1].split(b":"))
            for number in range(first, last + 1):
                subject, sender = inbox[number - 1]
                headers = f"Subject: {subject}\r\nFrom: {sender}\r\n\r\n".encode()
                server.sock.sendall(
                    b"* %d FETCH (BODY[HEADER.FIELDS (SUBJECT FROM)] {%d}\r\n%s)\r\n"
                    % (number, len(headers), headers)
                )
            server.send(f"{tag.decode()} OK Fetch completed.\n")
        elif command == b"LOGOUT":
            server.send(f"* BYE Logging out\n{tag.decode()} OK Logout completed.\n")
            return
        else:
            server.send(f"{tag.decode()} BAD unknown\n")


@contextlib.contextmanager
def fake_pair(
    session: Callable[[FakeServer], None], tls: ssl.SSLContext | None = None
) -> Iterator[tuple[socket.socket, FakeServer]]:
    client, server_sock = socket.socketpair()
    server = FakeServer(server_sock, tls)

    def serve() -> None:
        with contextlib.suppress(EOFError, OSError):
            session(server)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield client, server
    finally:
        client.close()
        thread.join(timeout=10)
        server.sock.close()


def test_smtp_plain(server_tls: ssl.SSLContext) -> None:
    with fake_pair(smtp_session, server_tls) as (client, server):
        report = probe_smtp(client, ehlo_name="probe.test", timeout=5)
    assert report.banner == "220-mail.test ESMTP\n220 ready"
    assert report.extensions == {
        "PIPELINING": "",
        "STARTTLS": "",
        "SIZE": "10240000",
        "8BITMIME": "",
    }
    assert report.starttls_offered
    assert report.tls is None
    assert server.received == [b"EHLO probe.test", b"QUIT"]
    assert "S: 221 2.0.0 Bye" in report.transcript()


def test_smtp_starttls_self_signed(server_tls: ssl.SSLContext) -> None:
    with fake_pair(smtp_session, server_tls) as (client, _):
        report = probe_smtp(client, ehlo_name="probe.test", starttls=True, timeout=5)
    assert report.tls is not None
    assert report.tls.subject == "CN=mail.test"
    assert report.tls.self_signed
    assert report.tls.dns_names == ("mail.test",)
    assert report.tls.version.startswith("TLS")
    assert report.tls_extensions is not None
    assert "AUTH" in report.tls_extensions
    assert "STARTTLS" not in report.tls_extensions


def test_smtp_starttls_not_offered(server_tls: ssl.SSLContext) -> None:
    with (
        fake_pair(lambda s: smtp_session(s, starttls=False), server_tls) as (client, _),
        pytest.raises(ProtocolError, match="did not offer it"),
    ):
        probe_smtp(client, ehlo_name="probe.test", starttls=True, timeout=5)


def test_smtp_data_injected_before_tls(server_tls: ssl.SSLContext) -> None:
    with (
        fake_pair(lambda s: smtp_session(s, inject=True), server_tls) as (client, _),
        pytest.raises(ProtocolError, match="before TLS started"),
    ):
        probe_smtp(client, ehlo_name="probe.test", starttls=True, timeout=5)


@pytest.mark.parametrize(
    ("banner", "quoted"),
    [
        ("554 5.3.2 no service\n", "554 5.3.2 no service"),
        ("SSH-2.0-OpenSSH_9.2\n", "SSH-2.0-OpenSSH_9.2"),
        ("220-first\n250 mixed\n", "250 mixed"),
    ],
)
def test_smtp_bad_banner(banner: str, quoted: str) -> None:
    with (
        fake_pair(lambda s: smtp_session(s, banner=banner)) as (client, _),
        pytest.raises(ProtocolError) as caught,
    ):
        probe_smtp(client, ehlo_name="probe.test", timeout=5)
    assert quoted in str(caught.value)
    assert "220" in str(caught.value)


def test_smtp_silent_server_times_out() -> None:
    client, server = socket.socketpair()
    with client, server, pytest.raises(RemoteTimeout):
        probe_smtp(client, ehlo_name="probe.test", timeout=0.5)


def test_smtp_closed_connection() -> None:
    client, server = socket.socketpair()
    server.close()
    with client, pytest.raises(ProtocolError, match="closed the connection"):
        probe_smtp(client, ehlo_name="probe.test", timeout=2)


def test_imap_starttls_login_ok(server_tls: ssl.SSLContext) -> None:
    with fake_pair(imap_session, server_tls) as (client, _server):
        report = probe_imap(client, starttls=True, login=("alice", PASSWORD), timeout=5)
    assert report.greeting == "* OK [CAPABILITY IMAP4rev1] ready"
    assert "STARTTLS" in report.capabilities
    assert report.tls is not None
    assert report.tls.self_signed
    assert report.tls_capabilities is not None
    assert "STARTTLS" not in report.tls_capabilities
    assert report.login is not None
    assert (report.login.status, report.login.code) == ("OK", "CAPABILITY")
    assert PASSWORD not in report.transcript()
    assert PASSWORD not in repr(report)
    assert "<password hidden>" in report.transcript()


def test_imap_inbox_headers_after_login(server_tls: ssl.SSLContext) -> None:
    inbox = (
        ("Old news", "a@x.test"),
        ("=?utf-8?q?Gr=C3=BC=C3=9Fe?=", "Team B <b@y.test>"),
        ("Hello from bravo", "b@y.test"),
    )
    with fake_pair(lambda s: imap_session(s, inbox=inbox), server_tls) as (client, server):
        report = probe_imap(client, starttls=True, login=("alice", PASSWORD), newest=2, timeout=5)
    assert report.inbox is not None
    assert report.inbox.count == 3
    assert [m.subject for m in report.inbox.newest] == ["Grüße", "Hello from bravo"]
    assert report.inbox.newest[0].sender == "Team B <b@y.test>"
    assert any(b"EXAMINE INBOX" in line for line in server.received)
    assert any(b"BODY.PEEK" in line for line in server.received)


def test_imap_implicit_tls_login(server_tls: ssl.SSLContext) -> None:
    def tls_first(server: FakeServer) -> None:
        server.start_tls()
        imap_session(server)

    with fake_pair(tls_first, server_tls) as (client, _):
        report = probe_imap(client, tls=True, login=("alice", PASSWORD), timeout=5)
    assert report.tls is not None
    assert report.tls_capabilities is None
    assert report.login is not None
    assert report.login.status == "OK"
    assert report.inbox is not None
    assert report.inbox.count == 0


def test_imap_login_wrong_password(server_tls: ssl.SSLContext) -> None:
    with fake_pair(imap_session, server_tls) as (client, _):
        report = probe_imap(client, starttls=True, login=("alice", "wrong"), timeout=5)
    assert report.login is not None
    assert report.login.status == "NO"
    assert report.login.code == "AUTHENTICATIONFAILED"
    assert report.login.text == "Authentication failed."


def test_imap_privacy_required(server_tls: ssl.SSLContext) -> None:
    with fake_pair(imap_session, server_tls) as (client, _):
        report = probe_imap(client, login=("plainonly", PASSWORD), timeout=5)
    assert report.login is not None
    assert (report.login.status, report.login.code) == ("NO", "PRIVACYREQUIRED")


def test_imap_login_disabled_not_sent(server_tls: ssl.SSLContext) -> None:
    with fake_pair(lambda s: imap_session(s, login_disabled_in_plain=True), server_tls) as (
        client,
        server,
    ):
        report = probe_imap(client, login=("alice", PASSWORD), timeout=5)
    assert report.login is not None
    assert report.login.status == "NOT SENT"
    assert not any(b"LOGIN" in line for line in server.received)


def test_imap_non_ascii_password_uses_literal(server_tls: ssl.SSLContext) -> None:
    password = "pässwörd\u00e9"
    with fake_pair(lambda s: imap_session(s, password=password), server_tls) as (client, _server):
        report = probe_imap(client, starttls=True, login=("alice", password), timeout=5)
    assert report.login is not None
    assert report.login.status == "OK"
    assert password not in report.transcript()


def test_imap_bye_greeting() -> None:
    with (
        fake_pair(lambda s: imap_session(s, greeting="* BYE too many connections\n")) as (
            client,
            _,
        ),
        pytest.raises(ProtocolError, match="too many connections"),
    ):
        probe_imap(client, timeout=5)


def test_imap_server_echoing_password_is_scrubbed() -> None:
    def echo_session(server: FakeServer) -> None:
        server.send("* OK ready\n")
        server.read_line()
        server.send("* CAPABILITY IMAP4rev1\na1 OK\n")
        line = server.read_line()
        server.send(f"a2 BAD you said {line.decode()}\n")

    with fake_pair(echo_session) as (client, _):
        report = probe_imap(client, login=("alice", PASSWORD), timeout=2)
    assert report.login is not None
    assert report.login.status == "BAD"
    escaped = PASSWORD.replace("\\", "\\\\").replace('"', '\\"')
    assert PASSWORD not in report.login.text
    assert escaped not in report.login.text
    assert escaped not in report.transcript()
    assert "****" in report.login.text


@contextlib.contextmanager
def listening_smtp(server_tls: ssl.SSLContext) -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve() -> None:
        with contextlib.suppress(OSError, EOFError):
            sock, _ = listener.accept()
            server = FakeServer(sock, server_tls)
            try:
                smtp_session(server)
            finally:
                server.sock.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=10)


def test_smtp_starttls_through_ssh_tunnel(
    connect: ConnectFactory, server_tls: ssl.SSLContext
) -> None:
    connection = connect("wtsudo")
    with listening_smtp(server_tls) as port:
        channel = connection.open_tunnel("127.0.0.1", port, timeout=10)
        try:
            report = probe_smtp(channel, ehlo_name="probe.test", starttls=True, timeout=10)
        finally:
            channel.close()
    assert report.tls is not None
    assert report.tls.subject == "CN=mail.test"
