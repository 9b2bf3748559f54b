"""Helpers for the real lab tests: skip reasons, SSH logins and a minimal DNS MX query."""

from __future__ import annotations

import base64
import os
import socket
import struct
import sys
from dataclasses import dataclass, field

import paramiko

from workshop_tui.lab import Lab, LabHost, requirements

LAB_HOST_COUNT = 2


def lab_skip_reason() -> str | None:
    """Return why real lab tests cannot run here, or None when they can."""
    if sys.platform != "linux":
        return "the practice lab needs Linux"
    if os.geteuid() != 0:
        return "the practice lab needs root: run the lab tests as root"
    missing = requirements.missing_commands(requirements.UP_COMMANDS)
    if missing:
        return f"missing commands {', '.join(missing)}: apt-get install $(cat .ci/lab-packages)"
    return None


@dataclass
class LabSession:
    """The session's lab, its hosts and how long ``up()`` took."""

    lab: Lab
    hosts: list[LabHost]
    up_seconds: float
    progress: list[str] = field(default_factory=list)


# paramiko names RSA host key algorithms by signature type, not by key type.
HOST_KEY_ALGORITHMS = {
    "ssh-rsa": ["rsa-sha2-512", "rsa-sha2-256"],
}


def connect(host: LabHost, user: str, password: str) -> paramiko.SSHClient:
    """Log in with a password, trusting only the host keys that the lab reported."""
    client = paramiko.SSHClient()
    for kind, key in host.host_keys:
        client.get_host_keys().add(
            host.address, kind, paramiko.PKey.from_type_string(kind, base64.b64decode(key))
        )
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect(
        host.address,
        port=host.port,
        username=user,
        password=password,
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
        banner_timeout=10,
        auth_timeout=10,
    )
    return client


def run(client: paramiko.SSHClient, command: str, timeout: float = 600) -> tuple[int, str, str]:
    """Run a command and return its exit status, stdout and stderr."""
    _stdin, stdout, stderr = client.exec_command(command, timeout=timeout)
    out = stdout.read().decode(errors="replace")
    err = stderr.read().decode(errors="replace")
    return stdout.channel.recv_exit_status(), out, err


def root_run(host: LabHost, command: str, timeout: float = 600) -> tuple[int, str, str]:
    client = connect(host, "root", host.root_password)
    try:
        return run(client, command, timeout)
    finally:
        client.close()


def server_host_key(host: LabHost, kind: str) -> tuple[str, str]:
    """Return the host key the server presents when only ``kind`` is offered."""
    sock = socket.create_connection((host.address, host.port), timeout=10)
    transport = paramiko.Transport(sock)
    try:
        transport.get_security_options().key_types = HOST_KEY_ALGORITHMS.get(kind, [kind])
        transport.start_client(timeout=10)
        key = transport.get_remote_server_key()
        return key.get_name(), key.get_base64()
    finally:
        transport.close()


def mx_query(server: str, name: str, timeout: float = 3) -> list[tuple[int, str]]:
    """Ask ``server`` for the MX records of ``name`` over UDP; return (preference, exchange)."""
    query_id = 0x5A17
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    packet = (
        struct.pack("!HHHHHH", query_id, 0x0100, 1, 0, 0, 0) + question + struct.pack("!HH", 15, 1)
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (server, 53))
        reply, _ = sock.recvfrom(4096)
    answer_id, _flags, _qd, answers, _ns, _ar = struct.unpack("!HHHHHH", reply[:12])
    assert answer_id == query_id
    offset = 12 + len(question) + 4
    records = []
    for _ in range(answers):
        _name, offset = _read_name(reply, offset)
        kind, _cls, _ttl, length = struct.unpack("!HHIH", reply[offset : offset + 10])
        offset += 10
        if kind == 15:
            preference = struct.unpack("!H", reply[offset : offset + 2])[0]
            exchange, _ = _read_name(reply, offset + 2)
            records.append((preference, exchange))
        offset += length
    return records


def _read_name(message: bytes, offset: int) -> tuple[str, int]:
    labels = []
    end = None
    while True:
        length = message[offset]
        if length & 0xC0 == 0xC0:
            if end is None:
                end = offset + 2
            offset = struct.unpack("!H", message[offset : offset + 2])[0] & 0x3FFF
            continue
        offset += 1
        if length == 0:
            break
        labels.append(message[offset : offset + length].decode())
        offset += length
    return ".".join(labels), end if end is not None else offset
