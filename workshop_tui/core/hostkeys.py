"""Host keys trusted on first use, stored in OpenSSH's known_hosts format.

The file can be handed to the real ``ssh`` client with
``-o UserKnownHostsFile=FILE -o StrictHostKeyChecking=yes``, so the interactive terminal
trusts exactly the keys that this app trusts. Entries for a port other than 22 are named
``[host]:port`` as OpenSSH writes them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

import paramiko

from workshop_tui.core.errors import HostKeyChanged
from workshop_tui.core.files import locked, write_atomic

logger = logging.getLogger(__name__)

DEFAULT_SSH_PORT = 22


def fingerprint(key: paramiko.PKey) -> str:
    """Return the key's fingerprint in OpenSSH's ``SHA256:<base64 without padding>`` form."""
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def fingerprint_from_base64(key_type: str, key_base64: str) -> str:
    """Return the ``SHA256:...`` fingerprint of a public key given as type and base64 blob.

    Raises:
        ValueError: the blob is not valid base64 or not a key of a type paramiko supports.
    """
    return fingerprint(_key_from_base64(key_type, key_base64))


def normalize_fingerprint(text: str) -> str | None:
    """Return ``text`` in the form ``fingerprint`` returns, or None unless it is a SHA256
    fingerprint. Padding ``=`` at the end is removed, as OpenSSH prints it without."""
    prefix = "SHA256:"
    encoded = text.removeprefix(prefix).rstrip("=")
    if not text.startswith(prefix) or not re.fullmatch(r"[A-Za-z0-9+/]+", encoded):
        return None
    try:
        digest = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(digest) != hashlib.sha256().digest_size:
        return None
    return prefix + encoded


def host_entry_name(host: str, port: int) -> str:
    """Return the known_hosts name of host:port: ``host`` for port 22, else ``[host]:port``."""
    host = host.lower()
    if port == DEFAULT_SSH_PORT:
        return host
    return f"[{host}]:{port}"


def format_host_port(host: str, port: int) -> str:
    """Return ``HOST`` for port 22, else ``HOST:PORT`` (``[HOST]:PORT`` for IPv6).

    This is the form that ``parse_host_port`` reads back, for commands such as
    ``workshop-tui hosts forget``.
    """
    if port == DEFAULT_SSH_PORT:
        return host
    if ":" in host:
        return f"[{host}]:{port}"
    return f"{host}:{port}"


def parse_host_port(text: str) -> tuple[str, int]:
    """Parse ``HOST``, ``HOST:PORT``, ``[HOST]:PORT`` or ``[HOST]`` into host and port.

    Raises:
        ValueError: the text is empty or the port is not a number from 1 to 65535.
    """
    text = text.strip()
    host, port_text = text, ""
    if text.startswith("["):
        closing = text.find("]")
        if closing < 0:
            raise ValueError(f"invalid host {text!r}: '[' without a matching ']'")
        host = text[1:closing]
        rest = text[closing + 1 :]
        if rest and not rest.startswith(":"):
            raise ValueError(f"invalid host {text!r}: expected ':PORT' after ']'")
        port_text = rest[1:]
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    if not host:
        raise ValueError("the host name is empty")
    if not port_text:
        return host, DEFAULT_SSH_PORT
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"invalid port {port_text!r} in {text!r}: expected 1 to 65535")
    return host, int(port_text)


def describe_key(key: paramiko.PKey) -> str:
    """Return the key type and fingerprint, e.g. ``ssh-ed25519 SHA256:...``."""
    return f"{key.get_name()} {fingerprint(key)}"


def _name_matches(pattern: str, name: str) -> bool:
    """Return whether one host field of a known_hosts line names ``name``.

    Hashed fields (``|1|salt|hash``, written by ``HashKnownHosts yes``) are compared by
    hashing ``name`` with their salt. Wildcard patterns are not supported and never match.
    """
    if pattern.startswith("|1|"):
        parts = pattern.split("|")
        if len(parts) != 4:
            return False
        try:
            salt = base64.b64decode(parts[2])
            expected = base64.b64decode(parts[3])
        except (binascii.Error, ValueError):
            return False
        actual = hmac.new(salt, name.encode("utf-8"), hashlib.sha1).digest()
        return hmac.compare_digest(actual, expected)
    return pattern.lower() == name


class KnownHosts:
    """A known_hosts file of host keys trusted on first use or pinned by the practice lab.

    Lines that this class cannot parse (comments, markers such as ``@cert-authority``,
    unknown key types) are kept unchanged when the file is rewritten. Every write goes
    to a temporary file in the same directory, which is fsynced and then renamed over the
    old file, so a crash leaves either the old or the new file. The file has mode 0600
    and a directory that this class creates gets mode 0700.

    Args:
        path: The known_hosts file. It need not exist yet.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def lookup(self, host: str, port: int) -> list[paramiko.PKey]:
        """Return the keys stored for host:port in file order; empty if none is stored."""
        name = host_entry_name(host, port)
        keys: list[paramiko.PKey] = []
        for line in self._read_lines():
            key = _parse_key_line(line, name)
            if key is not None:
                keys.append(key)
        return keys

    def trust(self, host: str, port: int, key: paramiko.PKey) -> None:
        """Add ``key`` for host:port unless it is stored already. Older keys stay."""
        name = host_entry_name(host, port)
        line = f"{name} {key.get_name()} {key.get_base64()}"
        with self._locked():
            lines = self._read_lines()
            for existing in lines:
                stored = _parse_key_line(existing, name)
                if stored is not None and stored.asbytes() == key.asbytes():
                    return
            self._write_lines([*lines, line])
        logger.info("trusted host key %s for %s", describe_key(key), name)

    def pin(self, host: str, port: int, key_type: str, key_base64: str) -> None:
        """Replace every key stored for host:port with this one key.

        Raises:
            ValueError: the key is not valid base64 or not a key type that paramiko supports.
        """
        self.pin_keys(host, port, [(key_type, key_base64)])

    def pin_keys(self, host: str, port: int, keys: Iterable[tuple[str, str]]) -> None:
        """Replace every key stored for host:port with ``keys`` (key type, base64 blob).

        Use this when a host has several host keys, for example ed25519 and RSA, because
        each call of ``pin`` removes the keys pinned before.

        Raises:
            ValueError: a key is not valid base64 or not a key type that paramiko supports.
        """
        name = host_entry_name(host, port)
        new_lines = []
        for key_type, key_base64 in keys:
            key = _key_from_base64(key_type, key_base64)
            new_lines.append(f"{name} {key.get_name()} {key.get_base64()}")
        with self._locked():
            kept = list(_lines_without_host(self._read_lines(), name))
            self._write_lines(kept + new_lines)
        logger.info("pinned %d host key(s) for %s", len(new_lines), name)

    def forget(self, host: str, port: int) -> int:
        """Remove every key stored for host:port and return how many lines named it."""
        name = host_entry_name(host, port)
        with self._locked():
            lines = self._read_lines()
            kept = list(_lines_without_host(lines, name))
            removed = sum(1 for line in lines if _line_names_host(line, name))
            if removed:
                self._write_lines(kept)
        logger.info("forgot %d host key line(s) for %s", removed, name)
        return removed

    def _read_lines(self) -> list[str]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="surrogateescape")
        except FileNotFoundError:
            return []
        return text.splitlines()

    def _write_lines(self, lines: list[str]) -> None:
        data = "".join(line + "\n" for line in lines).encode("utf-8", errors="surrogateescape")
        write_atomic(self.path, data)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialize read-modify-write cycles between threads and, where fcntl exists,
        between processes (a second app instance or the CLI)."""
        with self._lock, locked(self.path):
            yield


def _key_from_base64(key_type: str, key_base64: str) -> paramiko.PKey:
    try:
        blob = base64.b64decode(key_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"invalid host key for {key_type}: not valid base64") from None
    try:
        return paramiko.PKey.from_type_string(key_type, blob)
    except (paramiko.SSHException, ValueError) as exc:
        raise ValueError(f"invalid {key_type} host key: {exc}") from None


def _split_line(line: str) -> list[str] | None:
    """Return the fields of a key line, or None for blank lines, comments and markers."""
    stripped = line.strip()
    if not stripped or stripped.startswith(("#", "@")):
        return None
    fields = stripped.split()
    if len(fields) < 3:
        return None
    return fields


def _line_names_host(line: str, name: str) -> bool:
    fields = _split_line(line)
    if fields is None:
        return False
    return any(_name_matches(pattern, name) for pattern in fields[0].split(","))


def _parse_key_line(line: str, name: str) -> paramiko.PKey | None:
    """Return the key of ``line`` if the line names ``name`` and the key type is known."""
    if not _line_names_host(line, name):
        return None
    fields = _split_line(line)
    assert fields is not None
    try:
        return _key_from_base64(fields[1], fields[2])
    except ValueError:
        logger.warning("skipping an unreadable %s key line for %s", fields[1], name)
        return None


def _lines_without_host(lines: Iterable[str], name: str) -> Iterator[str]:
    """Yield ``lines`` with ``name`` removed; a line that named only ``name`` is dropped."""
    for line in lines:
        if not _line_names_host(line, name):
            yield line
            continue
        fields = _split_line(line)
        assert fields is not None
        others = [p for p in fields[0].split(",") if not _name_matches(p, name)]
        if others:
            yield " ".join([",".join(others), *fields[1:]])


class TrustOnFirstUsePolicy(paramiko.MissingHostKeyPolicy):
    """Record a new host's key on first use and reject a key that differs from the stored one.

    ``check`` is the whole decision. ``missing_host_key`` lets paramiko's ``SSHClient`` use
    it, but only a client with no host keys loaded calls the policy for every connection,
    so pass such a client.

    Attributes:
        first_use: Whether the last checked key was stored because the host was new.
    """

    def __init__(self, known_hosts: KnownHosts) -> None:
        self.known_hosts = known_hosts
        self.first_use = False

    def is_new(self, host: str, port: int, key: paramiko.PKey) -> bool:
        """Return True for an unknown host and False for a stored key, storing nothing.

        Raises:
            HostKeyChanged: keys are stored for host:port but none equals ``key``.
        """
        stored = self.known_hosts.lookup(host, port)
        if any(candidate.asbytes() == key.asbytes() for candidate in stored):
            return False
        if stored:
            raise HostKeyChanged(host_key_changed_message(host, port, stored, key))
        return True

    def check(self, host: str, port: int, key: paramiko.PKey) -> bool:
        """Accept a stored key, store the key of an unknown host, reject anything else.

        Returns:
            True if the host was unknown and its key is now stored (first use).

        Raises:
            HostKeyChanged: keys are stored for host:port but none equals ``key``.
        """
        self.first_use = self.is_new(host, port, key)
        if self.first_use:
            self.known_hosts.trust(host, port, key)
        return self.first_use

    def missing_host_key(
        self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey
    ) -> None:
        """Apply ``check`` to the name paramiko passes (``host`` or ``[host]:port``)."""
        host, port = hostname, DEFAULT_SSH_PORT
        if hostname.startswith("[") and "]:" in hostname:
            host, port_text = hostname[1:].rsplit("]:", 1)
            port = int(port_text)
        self.check(host, port, key)


def host_key_changed_message(
    host: str, port: int, stored: list[paramiko.PKey], offered: paramiko.PKey
) -> str:
    """Return the explanation shown when a server offers a key other than the stored one."""
    stored_text = "\n".join(f"  stored:  {describe_key(key)}" for key in stored)
    target = format_host_port(host, port)
    return (
        f"The SSH host key of {host} (port {port}) does not match the key stored "
        "the first time you connected.\n"
        f"{stored_text}\n"
        f"  offered: {describe_key(offered)}\n"
        "This happens when the server was reinstalled (for example, the VPS was rebuilt), "
        "but it can also mean that someone is intercepting the connection. "
        "The connection was stopped. Ask a facilitator before you continue.\n"
        "If the server was reinstalled, remove the old key with:\n"
        f"  workshop-tui hosts forget {target}\n"
        "and connect again."
    )
