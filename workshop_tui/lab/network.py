"""The lab network: a bridge, one namespace and veth pair per host, and the lab DNS.

Hosts get no default route and the bridge does not forward, so a lab host can
reach only the bridge: the lab DNS, the package mirror, the other lab hosts
and this machine.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workshop_tui.core.errors import LabError
from workshop_tui.lab import cgroups, naming
from workshop_tui.lab.commands import run

SUBNET_POOL = ipaddress.IPv4Network("10.200.0.0/13")
"""Private range (10.200.0.0 to 10.207.255.255) that lab subnets are taken from."""

SUBNET_PREFIX = 24
NETNS_DIR = Path("/run/netns")
MX_PREFERENCE = 10


def _networks_in(value: str) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        return None


def used_networks(
    routes: list[dict[str, Any]], addresses: list[dict[str, Any]]
) -> list[ipaddress.IPv4Network]:
    """Return the IPv4 networks in ``ip -j route`` and ``ip -j addr`` output."""
    found: list[ipaddress.IPv4Network] = []
    for route in routes:
        destination = str(route.get("dst", ""))
        if destination and destination != "default":
            network = _networks_in(destination)
            if network is not None:
                found.append(network)
    for link in addresses:
        for info in link.get("addr_info", []):
            if info.get("family") != "inet":
                continue
            network = _networks_in(f"{info.get('local')}/{info.get('prefixlen', 32)}")
            if network is not None:
                found.append(network)
    return found


def choose_subnet(
    lab: str, used: Iterable[ipaddress.IPv4Network], pool: ipaddress.IPv4Network = SUBNET_POOL
) -> ipaddress.IPv4Network:
    """Pick a /24 from ``pool`` that overlaps none of ``used``.

    The search starts at a place derived from the lab name, so a lab usually
    gets the same subnet, and so the same host addresses, each time it is created.
    """
    used = list(used)
    candidates = list(pool.subnets(new_prefix=SUBNET_PREFIX))
    start = int(hashlib.sha256(lab.encode()).hexdigest(), 16) % len(candidates)
    for offset in range(len(candidates)):
        candidate = candidates[(start + offset) % len(candidates)]
        if not any(candidate.overlaps(network) for network in used):
            return candidate
    raise LabError(f"no free /{SUBNET_PREFIX} subnet left in {pool} for the lab network")


def machine_networks() -> list[ipaddress.IPv4Network]:
    routes = json.loads(run(["ip", "-j", "-4", "route", "show", "table", "all"]).stdout or "[]")
    addresses = json.loads(run(["ip", "-j", "-4", "addr", "show"]).stdout or "[]")
    return used_networks(routes, addresses)


def links() -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = json.loads(run(["ip", "-j", "link", "show"]).stdout or "[]")
    return result


def link_names(prefix: str) -> list[str]:
    return [str(link["ifname"]) for link in links() if str(link["ifname"]).startswith(prefix)]


def link_exists(name: str) -> bool:
    return name in link_names(name)


def link_is_up(name: str) -> bool:
    """Return whether the interface ``name`` is administratively up on this machine."""
    for link in links():
        if link.get("ifname") == name:
            return "UP" in link.get("flags", [])
    return False


def namespaces(prefix: str) -> list[str]:
    if not NETNS_DIR.is_dir():
        return []
    return sorted(path.name for path in NETNS_DIR.iterdir() if path.name.startswith(prefix))


def _write_sysctl(path: Path, value: str) -> None:
    if path.exists():
        path.write_text(value)


def create_bridge(lab: str, network: ipaddress.IPv4Network) -> None:
    """Create the lab bridge with its address, unless it exists already.

    The bridge gets a fixed MAC address. Without one, Linux gives it the lowest
    MAC of its ports, which changes as hosts come and go and leaves stale entries
    in the hosts' neighbour caches.
    """
    name = naming.bridge_name(lab)
    address = naming.bridge_address(network)
    if not link_exists(name):
        mac = naming.mac_for_address(address)
        run(["ip", "link", "add", name, "address", mac, "type", "bridge"])
    proc = Path("/proc/sys/net")
    # Packets that come in from the lab are never forwarded, even where this
    # machine forwards between its other interfaces (IPv4 checks the inbound
    # interface's setting), and the bridge takes no IPv6 addresses.
    _write_sysctl(proc / "ipv4/conf" / name / "forwarding", "0")
    _write_sysctl(proc / "ipv6/conf" / name / "disable_ipv6", "1")
    _ensure_address([], name, f"{address}/{network.prefixlen}")
    run(["ip", "link", "set", name, "up"])


def _ensure_address(namespace_options: list[str], device: str, address_with_prefix: str) -> None:
    """Add an IPv4 address to a device unless it has it already.

    ``namespace_options`` go right after ``ip``, for example ``["-n", NAME]``.
    """
    result = run(["ip", *namespace_options, "-j", "-4", "addr", "show", "dev", device])
    addresses_json = result.stdout
    present = {
        f"{info.get('local')}/{info.get('prefixlen')}"
        for link in json.loads(addresses_json or "[]")
        for info in link.get("addr_info", [])
    }
    if address_with_prefix not in present:
        run(["ip", *namespace_options, "addr", "add", address_with_prefix, "dev", device])


def create_host_link(lab: str, host: str, network: ipaddress.IPv4Network) -> None:
    """Create a host's network namespace with ``eth0`` on the lab bridge, unless it exists."""
    namespace = naming.netns_name(lab, host)
    veth = naming.veth_name(lab, host)
    bridge = naming.bridge_name(lab)
    address = naming.host_address(network, host)
    if not (NETNS_DIR / namespace).exists():
        run(["ip", "netns", "add", namespace])
    if not link_exists(veth):
        # The bridge may still map this address to the MAC of an earlier host.
        run(["ip", "neigh", "flush", "to", str(address), "dev", bridge])
        run(
            ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
             "address", naming.mac_for_address(address), "netns", namespace],
        )  # fmt: skip
    _ensure_address(["-n", namespace], "eth0", f"{address}/{network.prefixlen}")
    run(["ip", "link", "set", veth, "master", bridge, "up"])
    run(["ip", "-n", namespace, "link", "set", "lo", "up"])
    run(["ip", "-n", namespace, "link", "set", "eth0", "up"])


def set_link(lab: str, host: str, up: bool) -> None:
    """Take a host's link down or up on the machine's side, as a lost Wi-Fi would."""
    veth = naming.veth_name(lab, host)
    if not link_exists(veth):
        raise LabError(f"host {host} of lab {lab} has no network link ({veth} not found)")
    run(["ip", "link", "set", veth, "up" if up else "down"])


def delete_host_link(lab: str, host: str) -> None:
    delete_namespace(naming.netns_name(lab, host))
    delete_link(naming.veth_name(lab, host))


def delete_namespace(namespace: str) -> None:
    path = NETNS_DIR / namespace
    if not path.exists():
        return
    try:
        run(["ip", "netns", "delete", namespace])
    except LabError:
        # Another process may delete the namespace between the check above and
        # the delete, so the failure counts only if the namespace is still there.
        if path.exists():
            raise


def delete_link(name: str) -> None:
    if not link_exists(name):
        return
    try:
        run(["ip", "link", "delete", name])
    except LabError:
        # The kernel removes a veth pair asynchronously once its namespace is deleted,
        # so the link may vanish between the check above and the delete.
        if link_exists(name):
            raise


def dnsmasq_arguments(
    *,
    listen: ipaddress.IPv4Address,
    hosts: Mapping[str, ipaddress.IPv4Address],
    mirror_hosts: Iterable[str],
    pid_file: Path,
    domain: str = naming.DOMAIN,
) -> list[str]:
    """Return the dnsmasq command line for the lab DNS.

    It listens only on the bridge address, has no upstream server and reads no
    configuration or hosts file of this machine. Names in ``domain`` that are
    not lab hosts get NXDOMAIN at once, and the apt mirror host names point
    at the bridge, where the lab's package mirror listens.
    """
    arguments = [
        "dnsmasq",
        "--keep-in-foreground",
        "--conf-file=/dev/null",
        "--no-resolv",
        "--no-hosts",
        "--bind-interfaces",
        f"--listen-address={listen}",
        f"--pid-file={pid_file}",
        "--log-facility=-",
        "--log-queries",
        f"--local=/{domain}/",
        f"--domain={domain}",
    ]
    for name, address in sorted(hosts.items()):
        fqdn = f"{name}.{domain}"
        arguments.append(f"--host-record={fqdn},{name},{address}")
        arguments.append(f"--mx-host={fqdn},{fqdn},{MX_PREFERENCE}")
    for mirror_host in sorted(set(mirror_hosts)):
        arguments.append(f"--host-record={mirror_host},{listen}")
    return arguments


def wait_for_tcp(
    address: str, port: int, pid: int, what: str, log: Path, timeout: float = 10
) -> None:
    """Wait until ``address:port`` accepts TCP connections; raise LabError if ``pid`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not cgroups.is_alive(pid):
            cgroups.reap(pid)
            raise LabError(f"{what} exited at start; its log {log} ends with:\n{log_tail(log)}")
        try:
            with socket.create_connection((address, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise LabError(f"{what} did not listen on {address}:{port} within {timeout:.0f} s; see {log}")


def log_tail(log: Path, lines: int = 12) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def start_dnsmasq(
    lab: str,
    network: ipaddress.IPv4Network,
    hosts: Iterable[str],
    mirror_hosts: Iterable[str],
    directory: Path,
) -> int:
    """Start the lab DNS in the lab's services cgroup and return its PID."""
    listen = naming.bridge_address(network)
    addresses = {host: naming.host_address(network, host) for host in hosts}
    log = directory / "dnsmasq.log"
    arguments = dnsmasq_arguments(
        listen=listen,
        hosts=addresses,
        mirror_hosts=mirror_hosts,
        pid_file=directory / "dnsmasq.pid",
    )
    pid = cgroups.spawn(arguments, naming.cgroup_services(lab), log)
    wait_for_tcp(str(listen), 53, pid, "the lab DNS server (dnsmasq)", log)
    return pid
