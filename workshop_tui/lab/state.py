"""The lab's state file: what a lab created, so later runs can reuse or remove it.

The file contains the practice passwords, so it is created with mode 0600, and it
is replaced atomically (write a temporary file, fsync, rename) so a crash
leaves either the old or the new state, never half of one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workshop_tui.core.errors import LabError
from workshop_tui.core.files import write_atomic

STATE_VERSION = 1


@dataclass
class HostState:
    """One lab host as recorded when it was created."""

    name: str
    address: str
    user: str
    user_password: str
    root_password: str
    host_keys: list[tuple[str, str]] = field(default_factory=list)
    launcher_pid: int | None = None


@dataclass
class LabState:
    """One lab: its network, services, image and hosts."""

    lab: str
    subnet: str
    image_dir: str = ""
    dnsmasq_pid: int | None = None
    mirror_pid: int | None = None
    dns_hosts: list[str] = field(default_factory=list)
    hosts: dict[str, HostState] = field(default_factory=dict)
    version: int = STATE_VERSION


def to_json(state: LabState) -> str:
    return json.dumps(asdict(state), indent=2, sort_keys=True) + "\n"


def from_json(text: str) -> LabState:
    """Parse state file text, raising LabError when it is not a valid state."""
    try:
        data: dict[str, Any] = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the top level is not a JSON object")
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported version {data.get('version')!r}")
        hosts = {}
        for name, item in dict(data.get("hosts", {})).items():
            item = dict(item)
            item["host_keys"] = [(str(kind), str(key)) for kind, key in item.get("host_keys", [])]
            hosts[str(name)] = HostState(**item)
        return LabState(
            lab=str(data["lab"]),
            subnet=str(data["subnet"]),
            image_dir=str(data.get("image_dir", "")),
            dnsmasq_pid=data.get("dnsmasq_pid"),
            mirror_pid=data.get("mirror_pid"),
            dns_hosts=[str(name) for name in data.get("dns_hosts", [])],
            hosts=hosts,
        )
    except (ValueError, KeyError, TypeError) as error:
        raise LabError(f"invalid lab state: {error}") from error


def load(path: Path) -> LabState | None:
    """Return the state stored at ``path``, or None when there is no state file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise LabError(f"cannot read the lab state file {path}: {error.strerror}") from error
    try:
        return from_json(text)
    except LabError as error:
        raise LabError(f"{path}: {error}") from error


def save(path: Path, state: LabState) -> None:
    """Replace the state file atomically; the file is only ever readable by its owner."""
    write_atomic(path, to_json(state).encode("utf-8"))
