"""Names derived from lab and host names, and their length limits."""

from __future__ import annotations

import ipaddress

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.lab import naming


@pytest.mark.parametrize("name", ["practice", "a", "t-1a2b3c", "x" * naming.LAB_NAME_MAX])
def test_valid_lab_names(name: str) -> None:
    assert naming.validate_lab_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "Practice", "1lab", "lab-", "lab_one", "lab one", "../etc", "x" * 33]
)
def test_invalid_lab_names(name: str) -> None:
    with pytest.raises(LabError, match="invalid lab name"):
        naming.validate_lab_name(name)


def test_host_names_in_order() -> None:
    assert naming.host_names(3) == ["alpha", "bravo", "charlie"]


@pytest.mark.parametrize("count", [0, -1, naming.MAX_HOSTS + 1])
def test_host_count_out_of_range(count: int) -> None:
    with pytest.raises(LabError, match="invalid host count"):
        naming.host_names(count)


@pytest.mark.parametrize("name", ["Alpha", "alpha2", "", "services", "a/b"])
def test_invalid_host_names(name: str) -> None:
    with pytest.raises(LabError, match="invalid host name"):
        naming.validate_host_name(name)


@pytest.mark.parametrize("lab", ["a", "practice", "x" * naming.LAB_NAME_MAX])
def test_interface_names_fit_ifnamsiz(lab: str) -> None:
    names = [naming.bridge_name(lab)] + [naming.veth_name(lab, h) for h in naming.HOST_NAMES]
    for name in names:
        assert len(name) <= naming.IFNAME_MAX, name
        assert name.startswith(naming.link_prefix(lab))
    assert len(set(names)) == len(names)


def test_labs_never_share_prefixes() -> None:
    assert naming.link_prefix("a") != naming.link_prefix("a-b")
    assert not naming.netns_name("a-b", "alpha").startswith(naming.netns_prefix("a"))
    assert not naming.cgroup_host("a-b", "alpha").startswith(naming.cgroup_lab("a") + "/")


def test_addresses_and_macs() -> None:
    network = ipaddress.IPv4Network("10.200.7.0/24")
    assert str(naming.bridge_address(network)) == "10.200.7.1"
    assert str(naming.host_address(network, "alpha")) == "10.200.7.11"
    assert str(naming.host_address(network, "zulu")) == "10.200.7.36"
    mac = naming.mac_for_address(ipaddress.IPv4Address("10.200.7.11"))
    assert mac == "02:77:0a:c8:07:0b"
    first_octet = int(mac.split(":")[0], 16)
    assert first_octet & 0b10, "locally administered bit must be set"
    assert not first_octet & 0b1, "multicast bit must be clear"
