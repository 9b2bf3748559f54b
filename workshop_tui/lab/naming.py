"""Names of everything a lab creates, derived from the lab name.

Every interface, network namespace, cgroup and directory of a lab carries a
prefix derived from the lab name, so ``down()`` can find leftovers of a crashed
run without a state file and never touches another lab's objects.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from pathlib import Path

from workshop_tui.core.errors import LabError

DOMAIN = "lab.test"
"""DNS domain of every lab host; ``.test`` is reserved for testing (RFC 2606)."""

HOST_NAMES = (
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
    "india", "juliett", "kilo", "lima", "mike", "november", "oscar", "papa",
    "quebec", "romeo", "sierra", "tango", "uniform", "victor", "whiskey",
    "xray", "yankee", "zulu",
)  # fmt: skip
"""Short host names in the order ``up(count)`` creates them."""

MAX_HOSTS = len(HOST_NAMES)

IFNAME_MAX = 15
"""Maximum length of a Linux network interface name (IFNAMSIZ minus the NUL)."""

LAB_NAME_MAX = 32

# Lab names never contain "_", so "_" can separate the lab name from the host
# name in namespace names without two labs ever sharing a prefix.
_LAB_NAME_RE = re.compile(r"[a-z](?:[a-z0-9-]*[a-z0-9])?")

CGROUP_TOP = "workshop-tui"
"""Directory below each cgroup hierarchy's root that contains every lab's cgroups."""


def validate_lab_name(name: str) -> str:
    """Return ``name`` unchanged or raise LabError when it is not a valid lab name."""
    if len(name) > LAB_NAME_MAX or not _LAB_NAME_RE.fullmatch(name):
        raise LabError(
            f"invalid lab name {name!r}: use 1 to {LAB_NAME_MAX} lowercase letters, digits"
            " and inner hyphens, starting with a letter (for example 'practice')"
        )
    return name


def validate_host_name(name: str) -> str:
    """Return ``name`` unchanged or raise LabError when it is not a lab host name."""
    if name not in HOST_NAMES:
        raise LabError(
            f"invalid host name {name!r}: lab hosts are named {', '.join(HOST_NAMES[:3])}, ..."
        )
    return name


def host_names(count: int) -> list[str]:
    """Return the first ``count`` host names or raise LabError for a count out of range."""
    if not 1 <= count <= MAX_HOSTS:
        raise LabError(f"invalid host count {count}: a lab has 1 to {MAX_HOSTS} hosts")
    return list(HOST_NAMES[:count])


def host_index(name: str) -> int:
    """Return the 1-based position of a host name; it fixes the host's address."""
    return HOST_NAMES.index(validate_host_name(name)) + 1


def link_prefix(lab: str) -> str:
    """Return the prefix of every network interface of ``lab`` on this machine.

    Interface names are limited to 15 characters, too short for a lab name, so
    the prefix is "wt" plus 8 hex digits of the name's SHA-256. Two labs share a
    prefix only on a 32-bit hash collision.
    """
    digest = hashlib.sha256(validate_lab_name(lab).encode()).hexdigest()
    return "wt" + digest[:8]


def bridge_name(lab: str) -> str:
    return link_prefix(lab) + "br"


def veth_name(lab: str, host: str) -> str:
    """Return the machine-side name of a host's veth pair, for example ``wt1a2b3c4dv01``."""
    name = f"{link_prefix(lab)}v{host_index(host):02d}"
    assert len(name) <= IFNAME_MAX
    return name


def netns_prefix(lab: str) -> str:
    return f"wtui_{validate_lab_name(lab)}_"


def netns_name(lab: str, host: str) -> str:
    return netns_prefix(lab) + validate_host_name(host)


def cgroup_lab(lab: str) -> str:
    """Return the cgroup path of a lab, relative to a hierarchy's root."""
    return f"{CGROUP_TOP}/{validate_lab_name(lab)}"


def cgroup_host(lab: str, host: str) -> str:
    return f"{cgroup_lab(lab)}/hosts/{validate_host_name(host)}"


def cgroup_services(lab: str) -> str:
    """Return the cgroup path of the lab's DNS server and package mirror server."""
    return f"{cgroup_lab(lab)}/services"


def lab_dir(root: Path, lab: str) -> Path:
    return root / "labs" / validate_lab_name(lab)


def host_dir(root: Path, lab: str, host: str) -> Path:
    return lab_dir(root, lab) / "hosts" / validate_host_name(host)


def host_address(network: ipaddress.IPv4Network, host: str) -> ipaddress.IPv4Address:
    """Return a host's address: .11 for alpha, .12 for bravo and so on."""
    return network.network_address + 10 + host_index(host)


def bridge_address(network: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    return network.network_address + 1


def mac_for_address(address: ipaddress.IPv4Address) -> str:
    """Return a fixed, locally administered MAC address derived from an IPv4 address.

    A re-created host keeps its MAC, so the machine's neighbour cache never
    points at a vanished interface.
    """
    octets = [0x02, 0x77, *address.packed]
    return ":".join(f"{octet:02x}" for octet in octets)
