"""Logging in to an attendee's server: the login details, the TCP socket and SSH auth.

Every failure becomes a ``RemoteError`` subclass whose message names the host and port
and says what to check.
"""

from __future__ import annotations

import errno
import functools
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from workshop_tui.core.errors import (
    AuthenticationFailed,
    ConnectionLost,
    HostKeyNotTrusted,
    HostUnreachable,
)
from workshop_tui.core.hostkeys import (
    KnownHosts,
    TrustOnFirstUsePolicy,
    fingerprint,
    format_host_port,
)

logger = logging.getLogger(__name__)

# TCP keepalive probes an idle link after 10 s, then every 5 s, and gives up after 3
# unanswered probes. TCP_USER_TIMEOUT also ends the connection when sent data stays
# unacknowledged for 25 s. Together with the SSH keepalive below, a dead Wi-Fi link is
# noticed within about 25 to 35 s, where Linux otherwise retransmits for about 15 minutes
# (tcp_retries2, see tcp(7)).
TCP_KEEPIDLE_SECONDS = 10
TCP_KEEPINTVL_SECONDS = 5
TCP_KEEPCNT = 3
TCP_USER_TIMEOUT_MS = 25_000
# SSH-level keepalive messages keep data in flight, so TCP_USER_TIMEOUT applies when idle.


REDACTED = "••••••"
"""The dots that replace a password in any text the app or the board shows."""


def redact(text: str, password: str | None) -> str:
    """Return ``text`` with every occurrence of ``password`` replaced by dots."""
    return text.replace(password, REDACTED) if password else text


@dataclass(frozen=True)
class Login:
    """How to log in to one server. The password is also used for sudo and to decrypt
    ``key_file``, and never appears in ``repr``."""

    host: str
    user: str
    port: int = 22
    password: str | None = field(default=None, repr=False)
    key_file: Path | None = None
    use_agent: bool = False

    def __post_init__(self) -> None:
        if not self.host or any(ch.isspace() for ch in self.host):
            raise ValueError(f"invalid host {self.host!r}: it must be non-empty without spaces")
        if not self.user or any(ch.isspace() or ch in "@:" for ch in self.user):
            raise ValueError(f"invalid user name {self.user!r}")
        if not 1 <= self.port <= 65535:
            raise ValueError(f"invalid port {self.port}: expected 1 to 65535")

    @property
    def target(self) -> str:
        """``user@host``, or ``user@host:port`` for a port other than 22."""
        return f"{self.user}@{format_host_port(self.host, self.port)}"


@dataclass(frozen=True)
class HostKeyInfo:
    """The server's host key as checked during ``Connection.open``."""

    key_type: str
    fingerprint: str
    first_use: bool


def _keepalive_socket(host: str, port: int, timeout: float) -> socket.socket:
    """Open the TCP connection with keepalive options; raise HostUnreachable on failure."""
    where = f"{host} port {port}"
    problem: str | None = None
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror as exc:
        problem = (
            f"The address {host} could not be found (DNS lookup failed: "
            f"{exc.strerror}). Check the address on your slip for typing errors "
            "and check that your Wi-Fi is connected."
        )
    except ConnectionRefusedError:
        problem = (
            f"{where} refused the connection: no SSH server is listening there. "
            "Check the address and port on your slip. If they are right, the "
            "server may still be starting, so wait a minute and try again."
        )
    except TimeoutError:
        problem = (
            f"{where} did not answer within {timeout:g} s. Check the address on "
            "your slip and your Wi-Fi connection."
        )
    except OSError as exc:
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
            problem = (
                f"There is no network route to {where} ({exc.strerror}). Check "
                "that your Wi-Fi is connected and the address on your slip."
            )
        else:
            problem = f"Could not connect to {where}: {exc.strerror or exc}."
    if problem is not None:
        raise HostUnreachable(problem)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for name, value in (
        ("TCP_KEEPIDLE", TCP_KEEPIDLE_SECONDS),
        ("TCP_KEEPINTVL", TCP_KEEPINTVL_SECONDS),
        ("TCP_KEEPCNT", TCP_KEEPCNT),
        ("TCP_USER_TIMEOUT", TCP_USER_TIMEOUT_MS),
    ):
        option = getattr(socket, name, None)
        if option is None:  # not every platform has every option
            continue
        try:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)
        except OSError as exc:
            logger.debug("cannot set %s on the SSH socket: %s", name, exc)
    return sock


NewKeyConfirmation = Callable[["HostKeyInfo"], bool]
"""Asks the attendee whether to trust a host seen for the first time; True trusts it."""


def connect_transport(
    login: Login,
    known_hosts: KnownHosts,
    timeout: float,
    confirm_new_key: NewKeyConfirmation | None = None,
) -> tuple[paramiko.Transport, HostKeyInfo]:
    """Connect, check the host key against ``known_hosts`` and log in.

    A host seen for the first time is shown to ``confirm_new_key`` before any password
    is sent (without it, the key is trusted as on first use). Its key is stored only
    after the login succeeded, so a mistyped password does not trust a key silently.

    Raises:
        HostKeyNotTrusted: ``confirm_new_key`` declined the new key.
    """
    sock = _keepalive_socket(login.host, login.port, timeout)
    transport = paramiko.Transport(sock)
    transport.banner_timeout = timeout
    transport.handshake_timeout = timeout
    transport.auth_timeout = timeout
    try:
        _prefer_known_key_types(transport, known_hosts.lookup(login.host, login.port))
        problem: str | None = None
        key: paramiko.PKey | None = None
        try:
            # start_client returns without raising when its timeout expires, and then
            # get_remote_server_key raises because no session exists.
            transport.start_client(timeout=timeout)
            key = transport.get_remote_server_key()
        except (paramiko.SSHException, OSError, EOFError) as exc:
            problem = _negotiation_problem(login, str(exc), timeout)
        if problem is not None or key is None:
            raise HostUnreachable(problem or _negotiation_problem(login, "", timeout))
        first_use = TrustOnFirstUsePolicy(known_hosts).is_new(login.host, login.port, key)
        info = HostKeyInfo(key.get_name(), fingerprint(key), first_use)
        if first_use and confirm_new_key is not None and not confirm_new_key(info):
            raise HostKeyNotTrusted(
                f"You did not trust the key of {format_host_port(login.host, login.port)}, "
                "so the app did not log in. Compare its fingerprint with your slip or ask "
                "a facilitator, then connect again."
            )
        _authenticate(transport, login)
        if first_use:
            known_hosts.trust(login.host, login.port, key)
    except BaseException:
        transport.close()
        sock.close()
        raise
    return transport, info


def _prefer_known_key_types(transport: paramiko.Transport, keys: list[paramiko.PKey]) -> None:
    """Ask first for the host key types already stored, as OpenSSH does, so a server with
    several host keys offers the one that can be checked."""
    preferred: list[str] = []
    for key in keys:
        name = key.get_name()
        # paramiko names RSA host key algorithms by their signature types.
        preferred += ["rsa-sha2-512", "rsa-sha2-256"] if name == "ssh-rsa" else [name]
    if not preferred:
        return
    options = transport.get_security_options()
    available = list(options.key_types)
    first = [name for name in preferred if name in available]
    options.key_types = first + [name for name in available if name not in first]


def _negotiation_problem(login: Login, detail: str, timeout: float) -> str:
    where = f"{login.host} port {login.port}"
    if not detail or any(text in detail for text in ("banner", "protocol version", "session")):
        return (
            f"{where} accepted the connection but did not answer as an SSH server "
            f"within {timeout:g} s. Check the port on your slip (SSH normally uses "
            "port 22) and try again."
        )
    return f"Could not start an SSH session with {where}: {detail}."


def _authenticate(transport: paramiko.Transport, login: Login) -> None:
    """Try the key file, then the agent's keys, then the password (or keyboard-interactive).

    Raises:
        AuthenticationFailed: every method failed; the message lists what the server accepts.
        ConnectionLost: the connection broke during login.
    """
    allowed: list[str] = []
    tried: list[str] = []
    try:
        transport.auth_none(login.user)
    except paramiko.BadAuthenticationType as exc:
        allowed = list(exc.allowed_types)
    except paramiko.AuthenticationException:
        pass
    except (paramiko.SSHException, OSError, EOFError):
        transport.close()
    for label, attempt in _auth_attempts(login):
        if transport.is_authenticated() or not transport.is_active():
            break
        tried.append(label)
        try:
            attempt(transport)
        except paramiko.BadAuthenticationType as exc:
            allowed = list(exc.allowed_types)
        except paramiko.AuthenticationException:
            pass
        except (paramiko.SSHException, OSError, EOFError):
            break
    if transport.is_authenticated():
        return
    if not transport.is_active():
        raise ConnectionLost(
            f"The connection to {login.target} broke during login. Check your Wi-Fi and try "
            "again; the server also ends a login that waits more than about two minutes."
        )
    raise AuthenticationFailed(
        _auth_failure_message(login, tried, allowed), tried=tried, accepted=allowed
    )


def _auth_attempts(
    login: Login,
) -> list[tuple[str, Callable[[paramiko.Transport], object]]]:
    attempts: list[tuple[str, Callable[[paramiko.Transport], object]]] = []
    if login.key_file is not None:
        key = _load_key(login)
        attempts.append(
            (f"key file {login.key_file.name}", functools.partial(_auth_with_key, login.user, key))
        )
    if login.use_agent:
        try:
            agent_keys = paramiko.Agent().get_keys()
        except paramiko.SSHException as exc:
            logger.warning("ssh-agent is not usable, skipping its keys: %s", exc)
            agent_keys = ()
        for number, agent_key in enumerate(agent_keys, start=1):
            attempts.append(
                (
                    f"ssh-agent key {number} ({agent_key.get_name()})",
                    functools.partial(_auth_with_key, login.user, agent_key),
                )
            )
    if login.password is not None:
        attempts.append(("password", lambda t: t.auth_password(login.user, login.password or "")))
    return attempts


def _auth_with_key(user: str, key: paramiko.PKey, transport: paramiko.Transport) -> object:
    return transport.auth_publickey(user, key)


def _load_key(login: Login) -> paramiko.PKey:
    """Load the key file, decrypting it with the password if it is encrypted."""
    assert login.key_file is not None
    path = login.key_file
    problem = (
        f"The key file {path} could not be loaded: it is not an ed25519, ECDSA or RSA private key."
    )
    try:
        try:
            return paramiko.PKey.from_path(path)
        except (TypeError, paramiko.PasswordRequiredException):
            # cryptography raises TypeError for an encrypted key loaded without a password.
            if login.password is None:
                problem = f"The key file {path} is encrypted. Enter its passphrase as the password."
                raise
        # paramiko 5.1 hands this password to cryptography, which accepts only bytes.
        return paramiko.PKey.from_path(path, password=login.password.encode())  # type: ignore[arg-type]
    except FileNotFoundError:
        problem = f"The key file {path} does not exist. Check the path."
    except OSError as exc:
        problem = f"The key file {path} could not be read: {exc.strerror}."
    except (paramiko.SSHException, ValueError, TypeError):
        if login.password is not None and "encrypted" not in problem:
            problem = (
                f"The key file {path} could not be loaded: the passphrase is wrong or "
                "it is not an ed25519, ECDSA or RSA private key."
            )
    raise AuthenticationFailed(problem)


def _auth_failure_message(login: Login, tried: list[str], allowed: list[str]) -> str:
    if not tried:
        return (
            f"No password, key file or ssh-agent was given for {login.target}. "
            "Enter the password from your slip."
        )
    accepts = ", ".join(allowed) if allowed else "unknown methods"
    text = (
        f"{login.target} rejected the login (tried: {', '.join(tried)}; "
        f"the server accepts: {accepts}). "
    )
    takes_password = bool({"password", "keyboard-interactive"} & set(allowed))
    if allowed and login.password is not None and not takes_password:
        return text + "This server does not accept passwords: use a key file, or ask a facilitator."
    return text + "Check the user name and password on your slip; both are case-sensitive."
