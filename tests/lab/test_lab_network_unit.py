"""Subnet choice against the machine's routes and addresses, and the dnsmasq command line."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.lab import network

ROUTES_JSON = """[
 {"dst":"default","gateway":"192.0.2.1","dev":"eth0","flags":[]},
 {"dst":"10.200.0.0/16","dev":"tun0","protocol":"kernel","scope":"link","flags":[]},
 {"type":"local","dst":"10.204.3.7","table":"local","dev":"eth1","flags":[]},
 {"dst":"192.0.2.0/24","dev":"eth0","protocol":"kernel","scope":"link","flags":[]}
]"""

ADDRS_JSON = """[
 {"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8}]},
 {"ifindex":4,"ifname":"eth1","addr_info":[
   {"family":"inet","local":"10.205.9.20","prefixlen":22},
   {"family":"inet6","local":"fd00::2","prefixlen":64}]}
]"""


def _used() -> list[ipaddress.IPv4Network]:
    routes: list[dict[str, Any]] = json.loads(ROUTES_JSON)
    addresses: list[dict[str, Any]] = json.loads(ADDRS_JSON)
    return network.used_networks(routes, addresses)


def test_used_networks_from_ip_json() -> None:
    used = {str(n) for n in _used()}
    assert used == {
        "10.200.0.0/16",
        "10.204.3.7/32",
        "192.0.2.0/24",
        "127.0.0.0/8",
        "10.205.8.0/22",
    }


@pytest.mark.parametrize("lab", ["practice", "t-1", "t-2", "other"])
def test_chosen_subnet_avoids_used(lab: str) -> None:
    used = _used()
    subnet = network.choose_subnet(lab, used)
    assert subnet.prefixlen == 24
    assert subnet.subnet_of(network.SUBNET_POOL)
    assert not any(subnet.overlaps(n) for n in used)


def test_subnet_choice_is_stable() -> None:
    assert network.choose_subnet("practice", _used()) == network.choose_subnet("practice", _used())


def test_subnet_choice_skips_taken_start() -> None:
    first = network.choose_subnet("practice", [])
    second = network.choose_subnet("practice", [first])
    assert second != first


def test_no_free_subnet() -> None:
    pool = ipaddress.IPv4Network("10.200.0.0/23")
    with pytest.raises(LabError, match="no free /24"):
        network.choose_subnet("practice", [ipaddress.IPv4Network("10.200.0.0/16")], pool)


def test_dnsmasq_arguments() -> None:
    arguments = network.dnsmasq_arguments(
        listen=ipaddress.IPv4Address("10.200.7.1"),
        hosts={
            "bravo": ipaddress.IPv4Address("10.200.7.12"),
            "alpha": ipaddress.IPv4Address("10.200.7.11"),
        },
        mirror_hosts=["deb.debian.org", "deb.debian.org"],
        pid_file=Path("/run/x/dnsmasq.pid"),
    )
    assert arguments[0] == "dnsmasq"
    for option in (
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--bind-interfaces",
        "--listen-address=10.200.7.1",
        "--local=/lab.test/",
        "--keep-in-foreground",
        "--host-record=alpha.lab.test,alpha,10.200.7.11",
        "--host-record=bravo.lab.test,bravo,10.200.7.12",
        "--mx-host=alpha.lab.test,alpha.lab.test,10",
        "--mx-host=bravo.lab.test,bravo.lab.test,10",
        "--pid-file=/run/x/dnsmasq.pid",
    ):
        assert option in arguments, option
    assert arguments.count("--host-record=deb.debian.org,10.200.7.1") == 1
    assert not any(a.startswith("--server") for a in arguments)
    assert not any("127.0.0.1" in a for a in arguments)
