"""SSH connections to an attendee's server: login, commands, sudo and tunnels.

All calls block, so the UI calls them from worker threads. Every paramiko and socket
error raised by ``Connection.open``, ``exec`` and ``open_tunnel`` is turned into a
``RemoteError`` subclass whose message names the host and port and what to check.
"""

from __future__ import annotations

import logging
import secrets
import select
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import cast

import paramiko
from paramiko.common import OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

from workshop_tui.core.errors import (
    ConnectionLost,
    RemoteError,
    RemoteTimeout,
    SudoFailed,
    WorkshopError,
)
from workshop_tui.core.hostkeys import KnownHosts, format_host_port
from workshop_tui.core.login import HostKeyInfo, Login, NewKeyConfirmation, connect_transport
from workshop_tui.core.sudo import (
    TokenFilter,
    build_sudo_command,
    sudo_failure_message,
    sudo_stdin_prefix,
)

__all__ = [
    "Cancelled",
    "Connection",
    "ExecResult",
    "HostKeyInfo",
    "Login",
    "NewKeyConfirmation",
    "TunnelFailed",
]

logger = logging.getLogger(__name__)

SSH_KEEPALIVE_SECONDS = 10
CHANNEL_OPEN_TIMEOUT = 15.0
# Maximum bytes that ExecResult keeps of each stream; callbacks still get every byte.
MAX_COLLECTED_BYTES = 4 * 1024 * 1024
_READ_SIZE = 65536
_POLL_SECONDS = 0.2
_ROOT_CHECK_TIMEOUT = 15.0


class Cancelled(WorkshopError):
    """The caller set the cancel event; the command may still run on the server."""


class TunnelFailed(RemoteError):
    """The server could not open a forwarded TCP connection to the requested port."""

    def __init__(self, message: str, *, forwarding_denied: bool = False) -> None:
        super().__init__(message)
        self.forwarding_denied = forwarding_denied
        """True when sshd forbids forwarding, so nothing is known about the port."""


@dataclass(frozen=True)
class ExecResult:
    """Exit status and output of one command.

    ``exit_status`` is -1 when the server sent none, which OpenSSH does when a signal
    killed the command. ``truncated`` is True when either stream exceeded the collection
    limit and the bytes past it were dropped from the result.
    """

    exit_status: int
    stdout: bytes
    stderr: bytes
    truncated: bool = False


class _SecretInput:
    """Stdin bytes that may contain a password; ``repr`` shows only the size, so crash
    reports that print local variables never show the content."""

    __slots__ = ("_view",)

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)

    def __repr__(self) -> str:
        return f"<stdin, {len(self._view)} bytes pending>"

    def pump(self, channel: paramiko.Channel) -> None:
        """Send what the channel window allows now; send EOF once everything is sent."""
        while self._view and channel.send_ready():
            # paramiko writes the slice into its packet buffer, which accepts a memoryview.
            sent = channel.send(cast(bytes, self._view[:32768]))
            self._view = self._view[sent:]
        if not self._view and not channel.eof_sent:
            channel.shutdown_write()


class _Collector:
    def __init__(self, limit: int, callback: Callable[[bytes], None] | None) -> None:
        self.data = bytearray()
        self.limit = limit
        self.callback = callback
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        room = self.limit - len(self.data)
        if len(chunk) > room:
            self.truncated = True
        self.data += chunk[: max(room, 0)]
        if self.callback is not None:
            self.callback(chunk)


class Connection:
    """One SSH connection to ``login.host``; ``open`` it again after ``ConnectionLost``.

    Several threads may call ``exec`` and ``open_tunnel`` at the same time because each
    call uses its own SSH channel.

    Args:
        login: Where and how to log in.
        known_hosts: Host keys trusted on first use.
        connect_timeout: Seconds allowed for each of TCP connect, SSH greeting,
            key exchange and login.
    """

    def __init__(
        self, login: Login, known_hosts: KnownHosts, *, connect_timeout: float = 10.0
    ) -> None:
        self.login = login
        self.known_hosts = known_hosts
        self.connect_timeout = connect_timeout
        self._transport: paramiko.Transport | None = None
        self._lock = threading.Lock()
        self._is_root = False
        self.home = ""
        self._count_lock = threading.Lock()
        self.exec_count = 0
        """Calls of ``exec`` so far, including the one in ``open``. Each call opens one SSH
        channel and sends one exec request, so this counts round trips."""
        self.tunnel_count = 0
        """Calls of ``open_tunnel`` so far, including those that failed."""

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        """Whether the SSH transport is connected and logged in."""
        transport = self._transport
        return transport is not None and transport.is_active() and transport.is_authenticated()

    @property
    def is_root(self) -> bool:
        """Whether the login user is uid 0, as found by ``open``."""
        return self._is_root

    def open(self, confirm_new_key: NewKeyConfirmation | None = None) -> HostKeyInfo:
        """Connect, check the host key, log in and find the user's uid and home directory.

        An open connection is closed first, so this also reconnects. A host seen for the
        first time is shown to ``confirm_new_key`` before logging in, if given.

        Raises:
            HostUnreachable: DNS failure, refused port, no route, timeout, or not SSH.
            HostKeyChanged: the server's key differs from the one trusted before.
            HostKeyNotTrusted: ``confirm_new_key`` declined a new host's key.
            AuthenticationFailed: the server rejected every login method tried.
            ConnectionLost: the connection broke during login.
        """
        with self._lock:
            self._close_transport()
            transport, info = connect_transport(
                self.login, self.known_hosts, self.connect_timeout, confirm_new_key
            )
            transport.set_keepalive(SSH_KEEPALIVE_SECONDS)
            self._transport = transport
        result = self.exec('id -u; printf "%s\\n" "$HOME"', timeout=_ROOT_CHECK_TIMEOUT)
        lines = result.stdout.decode("utf-8", "replace").splitlines()
        self._is_root = bool(lines) and lines[0].strip() == "0"
        self.home = lines[1] if len(lines) > 1 else ""
        logger.info(
            "connected to %s (%s %s, first use: %s, root: %s)",
            self.login.target,
            info.key_type,
            info.fingerprint,
            info.first_use,
            self._is_root,
        )
        return info

    def close(self) -> None:
        """Close the connection; commands running on the server are not stopped."""
        with self._lock:
            self._close_transport()

    def _close_transport(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _active_transport(self) -> paramiko.Transport:
        transport = self._transport
        if transport is None or not transport.is_active():
            raise ConnectionLost(
                f"The connection to {self.login.target} is not open. Reconnect and try again."
            )
        return transport

    def _lost(self) -> ConnectionLost:
        return ConnectionLost(
            f"The connection to {self.login.target} was lost. Check your Wi-Fi; the app "
            "can reconnect and continue where it stopped."
        )

    def exec(
        self,
        command: str,
        *,
        stdin: bytes = b"",
        timeout: float,
        as_root: bool = False,
        on_stdout: Callable[[bytes], None] | None = None,
        on_stderr: Callable[[bytes], None] | None = None,
        cancel: threading.Event | None = None,
        collect_limit: int = MAX_COLLECTED_BYTES,
    ) -> ExecResult:
        """Run ``command`` in the login user's shell and wait for it to finish.

        With ``as_root`` and a login that is not root, the command runs under
        ``sudo ... sh -c``; the password goes to sudo through stdin and the command's
        stdin contains only ``stdin``.

        Args:
            command: Shell command line; quote interpolated values with ``shlex.quote``.
            stdin: Bytes sent to the command's stdin, followed by EOF.
            timeout: Seconds allowed for the whole command.
            as_root: Run as root, through sudo unless the login user is root.
            on_stdout: Called with each chunk of stdout as it arrives.
            on_stderr: Called with each chunk of stderr as it arrives.
            cancel: When set, the channel is closed and ``Cancelled`` is raised.
            collect_limit: Maximum bytes kept of each stream in the result.

        Raises:
            ConnectionLost: the connection broke before the command finished.
            RemoteTimeout: the command did not finish within ``timeout``.
            SudoFailed: sudo rejected the password or the user.
            Cancelled: ``cancel`` was set.
        """
        token = None
        feed = _SecretInput(stdin)
        if as_root and not self._is_root:
            token = "workshop-tui-sudo-failed-" + secrets.token_hex(16)
            marker = "workshop-tui-stdin-" + secrets.token_hex(16)
            with_password = self.login.password is not None
            command = build_sudo_command(
                command, token=token, marker=marker, with_password=with_password
            )
            if self.login.password is not None:
                feed = _SecretInput(sudo_stdin_prefix(self.login.password, marker) + stdin)
        stderr_sink = on_stderr if token is None else TokenFilter(token.encode(), on_stderr)
        out = _Collector(collect_limit, on_stdout)
        err = _Collector(collect_limit, stderr_sink)
        deadline = time.monotonic() + timeout
        with self._count_lock:
            self.exec_count += 1
        channel = self._open_channel(
            lambda t: t.open_session(timeout=min(timeout, CHANNEL_OPEN_TIMEOUT))
        )
        try:
            channel.exec_command(command)
            exit_status = self._drive(channel, feed, out, err, deadline, timeout, cancel)
        except (paramiko.SSHException, OSError, EOFError):
            # paramiko raises these when the transport dies while sending or starting.
            exit_status = None
        finally:
            channel.close()
        if exit_status is None:
            raise self._lost()
        if isinstance(stderr_sink, TokenFilter) and stderr_sink.state == "failed":
            sudo_text = stderr_sink.pending.decode("utf-8", "replace").partition("\n")[2]
            logger.warning("sudo failed on %s: %s", self.login.target, sudo_text.strip())
            raise SudoFailed(sudo_failure_message(self.login, sudo_text))
        if (out.truncated or err.truncated) and collect_limit > 0:
            logger.warning(
                "output of a command on %s exceeded %d bytes; the rest was dropped from the result",
                self.login.target,
                collect_limit,
            )
        return ExecResult(
            exit_status, bytes(out.data), bytes(err.data), out.truncated or err.truncated
        )

    def _drive(
        self,
        channel: paramiko.Channel,
        feed: _SecretInput,
        out: _Collector,
        err: _Collector,
        deadline: float,
        timeout: float,
        cancel: threading.Event | None,
    ) -> int | None:
        """Pump stdin and output until the command ends; None means the connection broke."""
        transport = self._active_transport()
        wakeup = channel.fileno()
        while True:
            if cancel is not None and cancel.is_set():
                raise Cancelled(
                    f"The command on {self.login.target} was cancelled; it may "
                    "still be running on the server."
                )
            if time.monotonic() >= deadline:
                raise RemoteTimeout(
                    f"The command on {self.login.target} did not finish within {timeout:g} s. "
                    "It may still be running on the server."
                )
            feed.pump(channel)
            while channel.recv_ready():
                out.add(channel.recv(_READ_SIZE))
            while channel.recv_stderr_ready():
                err.add(channel.recv_stderr(_READ_SIZE))
            drained = not channel.recv_ready() and not channel.recv_stderr_ready()
            # paramiko keeps exit_status at -1 until the server sends one, and sets
            # status_event on any close, so only exit_status shows whether one arrived.
            if drained and channel.exit_status >= 0 and channel.eof_received:
                return channel.exit_status
            if drained and channel.closed:
                if channel.exit_status >= 0:
                    return channel.exit_status
                # A dying transport closes its channels before it marks itself inactive,
                # so wait a moment before deciding between a lost link and a command
                # killed by a signal. For the latter, OpenSSH sends EOF but no exit status.
                time.sleep(_POLL_SECONDS)
                if channel.eof_received and transport.is_active():
                    return -1
                return None
            if not transport.is_active():
                return None
            select.select([wakeup], [], [], min(_POLL_SECONDS, max(deadline - time.monotonic(), 0)))

    def _open_channel(
        self, opener: Callable[[paramiko.Transport], paramiko.Channel]
    ) -> paramiko.Channel:
        transport = self._active_transport()
        failure: RemoteError | None = None
        try:
            return opener(transport)
        except paramiko.ChannelException as exc:
            failure = RemoteError(
                f"{self.login.target} rejected a new SSH channel: "
                f"{exc.text} (code {exc.code}). Reconnect and try again."
            )
        except (paramiko.SSHException, OSError, EOFError):
            if transport.is_active():
                failure = RemoteTimeout(
                    f"{self.login.target} did not open an SSH channel in time. Try again."
                )
            else:
                failure = self._lost()
        raise failure

    def open_tunnel(self, host: str, port: int, *, timeout: float) -> paramiko.Channel:
        """Open a TCP connection from the server to host:port (SSH direct-tcpip forwarding).

        ``host`` is resolved on the server, so ``127.0.0.1`` means the server itself.

        Raises:
            TunnelFailed: the server could not connect, or forwarding is disabled.
            ConnectionLost: the SSH connection broke.
            RemoteTimeout: the server did not respond within ``timeout``.
        """
        with self._count_lock:
            self.tunnel_count += 1
        transport = self._active_transport()
        target = format_host_port(host, port)
        failure: RemoteError | None = None
        try:
            return transport.open_channel(
                "direct-tcpip", (host, port), ("127.0.0.1", 0), timeout=timeout
            )
        except paramiko.ChannelException as exc:
            if exc.code == OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED:
                failure = TunnelFailed(
                    f"The SSH server on {self.login.target} does not allow forwarding "
                    f"(AllowTcpForwarding is off), so {target} cannot be checked from here.",
                    forwarding_denied=True,
                )
            else:
                failure = TunnelFailed(
                    f"{self.login.host} could not connect to {target}: {exc.text}. "
                    "Check that the service is running and listening on that port."
                )
        except (paramiko.SSHException, OSError, EOFError):
            if transport.is_active():
                failure = RemoteTimeout(
                    f"{self.login.target} did not connect to {target} within {timeout:g} s."
                )
            else:
                failure = self._lost()
        raise failure
