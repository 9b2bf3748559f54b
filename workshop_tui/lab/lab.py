"""The practice lab facade: create, inspect and remove a lab of Debian 12 hosts."""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from workshop_tui.core.errors import LabError
from workshop_tui.lab import cgroups, hosts, image, mounts, naming, network, requirements, state
from workshop_tui.lab.mirror import start_mirror_server

DEFAULT_ROOT = Path("/var/lib/workshop-tui")
SERVICE_STOP_SECONDS = 5


@dataclass(frozen=True)
class LabHost:
    """How to reach and log in to one practice host."""

    name: str
    fqdn: str
    address: str
    port: int
    user: str
    user_password: str
    root_password: str
    host_keys: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class HostStatus:
    """A lab host and what was observed about it when the status was taken."""

    host: LabHost
    running: bool
    ssh_answering: bool
    link_up: bool


@dataclass(frozen=True)
class LabStatus:
    """A lab's network, services and hosts; ``exists`` is False when nothing of it is left."""

    name: str
    exists: bool
    subnet: str | None
    bridge_address: str | None
    dns_running: bool
    mirror_running: bool
    hosts: tuple[HostStatus, ...]
    leftovers: tuple[str, ...]
    """Objects of this lab found without a state file to describe them; ``down()`` removes them."""


class Lab:
    """A named lab of practice hosts on this machine; several labs can exist side by side."""

    def __init__(
        self,
        name: str = "practice",
        *,
        root: Path = DEFAULT_ROOT,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.name = naming.validate_lab_name(name)
        self.root = root
        self._progress = progress or (lambda message: None)

    @property
    def directory(self) -> Path:
        return naming.lab_dir(self.root, self.name)

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    def up(self, count: int = 1) -> list[LabHost]:
        """Start hosts alpha, bravo, ... up to ``count`` and return them.

        Running hosts are reused and missing ones are created, so calling it
        again is cheap. Hosts beyond ``count`` that already exist keep running.
        When it fails, it removes what this call created (the whole lab if the
        lab did not exist before) and raises LabError.
        """
        names = naming.host_names(count)
        requirements.preflight_up(self.root)
        with self._lock():
            current = state.load(self.state_path)
            if current is None and self._leftovers():
                self._progress(f"Removing leftovers of an earlier run of lab {self.name}")
                self._remove_everything(None)
            created: list[str] = []
            try:
                return self._up(current, names, created)
            except BaseException as error:
                self._progress(f"Creating lab {self.name} failed; removing what this run created")
                self._clean_up_failed_up(current is None, created, error)
                raise

    def status(self) -> LabStatus:
        """Return what is running in this lab now, checking each host's SSH port."""
        requirements.check_platform()
        current = state.load(self.state_path)
        if current is None:
            leftovers = tuple(self._leftovers())
            return LabStatus(self.name, bool(leftovers), None, None, False, False, (), leftovers)
        subnet = ipaddress.IPv4Network(current.subnet)
        services = cgroups.processes(naming.cgroup_services(self.name))
        host_states = []
        for name in sorted(current.hosts, key=naming.host_index):
            recorded = current.hosts[name]
            running = hosts.is_running(self.name, name, recorded.launcher_pid)
            host_states.append(
                HostStatus(
                    host=self._lab_host(recorded),
                    running=running,
                    ssh_answering=running and hosts.ssh_answers(recorded.address),
                    link_up=network.link_is_up(naming.veth_name(self.name, name)),
                )
            )
        return LabStatus(
            name=self.name,
            exists=True,
            subnet=str(subnet),
            bridge_address=str(naming.bridge_address(subnet)),
            dns_running=current.dnsmasq_pid in services,
            mirror_running=current.mirror_pid in services,
            hosts=tuple(host_states),
            leftovers=(),
        )

    def down(self) -> None:
        """Remove every host, network object, process, mount, cgroup and file of this lab.

        Works without a state file, or with a partial one, by finding the lab's
        objects by their name prefixes.
        """
        requirements.preflight_down()
        with self._lock():
            try:
                current = state.load(self.state_path)
            except LabError as error:
                self._progress(f"Ignoring the unreadable state file: {error}")
                current = None
            self._remove_everything(current)

    def set_link(self, host_name: str, up: bool) -> None:
        """Take a host's network link down or bring it back, as when Wi-Fi drops."""
        naming.validate_host_name(host_name)
        requirements.check_platform()
        current = state.load(self.state_path)
        if current is None or host_name not in current.hosts:
            raise LabError(f"lab {self.name} has no host {host_name}; run 'lab up' first")
        network.set_link(self.name, host_name, up)

    # Creating

    def _up(
        self, current: state.LabState | None, names: list[str], created: list[str]
    ) -> list[LabHost]:
        started = time.monotonic()
        if current is None:
            built = image.ensure_image(self.root, self._progress)
            subnet = network.choose_subnet(
                self.name, network.machine_networks() + self._other_subnets()
            )
            current = state.LabState(
                lab=self.name, subnet=str(subnet), image_dir=str(built.directory)
            )
            self.directory.mkdir(parents=True, exist_ok=True)
            self.directory.chmod(0o700)
            self._save(current)
        else:
            try:
                built = image.load_image(Path(current.image_dir))
            except LabError as error:
                raise LabError(
                    f"{error}; the image of lab {self.name} is gone, so remove the lab with"
                    f" 'lab down --name {self.name}' and create it again"
                ) from error
            subnet = ipaddress.IPv4Network(current.subnet)
        address = str(naming.bridge_address(subnet))

        if not network.link_exists(naming.bridge_name(self.name)):
            clashes = [n for n in network.machine_networks() if n.overlaps(subnet)]
            if clashes:
                raise LabError(
                    f"the lab subnet {subnet} now overlaps {clashes[0]} on this machine."
                    f" Run 'lab down --name {self.name}' and 'lab up' again"
                )
        self._progress(f"Setting up the lab network {subnet} (DNS and package mirror on {address})")
        network.create_bridge(self.name, subnet)

        services = cgroups.processes(naming.cgroup_services(self.name))
        if current.mirror_pid not in services:
            current.mirror_pid = start_mirror_server(
                self.name, built.mirror, address, self.directory
            )
            self._save(current)

        for name in names:
            if name not in current.hosts:
                current.hosts[name] = state.HostState(
                    name=name,
                    address=str(naming.host_address(subnet, name)),
                    user=image.LAB_USER,
                    user_password=hosts.generate_password(),
                    root_password=hosts.generate_password(),
                )
                created.append(name)
        self._save(current)

        expected_dns_hosts = sorted(current.hosts, key=naming.host_index)
        services = cgroups.processes(naming.cgroup_services(self.name))
        if current.dnsmasq_pid not in services or current.dns_hosts != expected_dns_hosts:
            self._stop_service(current.dnsmasq_pid)
            current.dnsmasq_pid = network.start_dnsmasq(
                self.name, subnet, expected_dns_hosts, built.mirror_hosts, self.directory
            )
            current.dns_hosts = expected_dns_hosts
            self._save(current)

        booting: list[tuple[str, int]] = []
        for name in names:
            recorded = current.hosts[name]
            if hosts.is_running(self.name, name, recorded.launcher_pid):
                self._progress(f"Host {name} ({recorded.address}) is already running")
                continue
            booting.append((name, self._start_host(current, built, subnet, name)))

        for name, launcher_pid in booting:
            paths = self._paths(name)
            hosts.wait_for_ssh(name, current.hosts[name].address, launcher_pid, paths)
            self._progress(f"Host {name} answers on SSH")
        self._progress(f"Lab {self.name} is up ({time.monotonic() - started:.1f} s)")
        return [self._lab_host(current.hosts[name]) for name in names]

    def _start_host(
        self, current: state.LabState, built: image.Image, subnet: ipaddress.IPv4Network, name: str
    ) -> int:
        recorded = current.hosts[name]
        paths = self._paths(name)
        hosts.stop(self.name, name, paths, recorded.launcher_pid)
        network.create_host_link(self.name, name, subnet)
        hosts.mount_clone(built.rootfs, paths)
        if not recorded.host_keys:
            self._progress(f"Creating host {name} ({recorded.address})")
            hosts.personalize(paths.root, name, naming.bridge_address(subnet))
            hosts.set_passwords(
                paths.root,
                {"root": recorded.root_password, recorded.user: recorded.user_password},
            )
            recorded.host_keys = hosts.read_host_keys(paths.root)
        self._progress(f"Booting host {name}")
        recorded.launcher_pid = hosts.start(self.name, name, paths)
        self._save(current)
        return recorded.launcher_pid

    def _clean_up_failed_up(
        self, lab_was_new: bool, created: list[str], error: BaseException
    ) -> None:
        try:
            if lab_was_new:
                self._remove_everything(state.load(self.state_path))
                return
            current = state.load(self.state_path)
            for name in created:
                self._remove_host(name, current.hosts.get(name) if current else None)
                if current is not None:
                    current.hosts.pop(name, None)
            if current is not None:
                self._save(current)
        except LabError as cleanup_error:
            self._progress(f"Cleaning up after the failure ({error}) also failed: {cleanup_error}")

    # Removing

    def _remove_everything(self, current: state.LabState | None) -> None:
        failures: list[str] = []

        def attempt(step: Callable[..., None], *arguments: object) -> None:
            try:
                step(*arguments)
            except LabError as error:
                failures.append(str(error))

        names = self._host_names_found(current)
        for name in names:
            recorded = current.hosts.get(name) if current else None
            self._progress(f"Removing host {name}")
            attempt(self._remove_host, name, recorded)

        self._progress("Stopping the lab DNS and package mirror")
        if current is not None:
            attempt(self._stop_service, current.dnsmasq_pid)
            attempt(self._stop_service, current.mirror_pid)
        attempt(cgroups.remove, naming.cgroup_services(self.name))

        self._progress("Removing the lab network")
        for namespace in network.namespaces(naming.netns_prefix(self.name)):
            attempt(network.delete_namespace, namespace)
        for link in sorted(network.link_names(naming.link_prefix(self.name)), reverse=True):
            # Sorted in reverse, host veths ("...v01") go before the bridge ("...br").
            attempt(network.delete_link, link)

        attempt(cgroups.remove, naming.cgroup_lab(self.name))
        cgroups.remove_if_empty(naming.CGROUP_TOP)
        attempt(mounts.remove_tree, self.directory)
        if failures:
            raise LabError(
                f"removing lab {self.name} left something behind:\n" + "\n".join(failures)
            )
        self._progress(f"Lab {self.name} removed")

    def _remove_host(self, name: str, recorded: state.HostState | None) -> None:
        paths = self._paths(name)
        hosts.stop(self.name, name, paths, recorded.launcher_pid if recorded else None)
        mounts.unmount_below(paths.directory)
        network.delete_host_link(self.name, name)
        mounts.remove_tree(paths.directory)

    def _stop_service(self, pid: int | None) -> None:
        """Stop the lab's DNS or mirror server by its recorded PID, if it is still running."""
        if pid is None:
            return
        cgroup = naming.cgroup_services(self.name)
        if pid not in cgroups.processes(cgroup):
            return
        cgroups.signal_pid(pid, signal.SIGTERM, cgroup)
        if not cgroups.wait_until_gone({pid}, SERVICE_STOP_SECONDS):
            cgroups.signal_pid(pid, signal.SIGKILL, cgroup)
            cgroups.wait_until_gone({pid}, SERVICE_STOP_SECONDS)
        cgroups.reap(pid)

    def _host_names_found(self, current: state.LabState | None) -> list[str]:
        """Return the names of hosts in the state file or found by naming prefix."""
        found = set(current.hosts) if current else set()
        hosts_dir = self.directory / "hosts"
        if hosts_dir.is_dir():
            found.update(path.name for path in hosts_dir.iterdir())
        for directory in cgroups.existing(naming.cgroup_lab(self.name) + "/hosts"):
            found.update(path.name for path in directory.iterdir() if path.is_dir())
        prefix = naming.netns_prefix(self.name)
        found.update(ns.removeprefix(prefix) for ns in network.namespaces(prefix))
        return sorted((n for n in found if n in naming.HOST_NAMES), key=naming.host_index)

    def _leftovers(self) -> list[str]:
        """Return a description of each object of this lab that exists on the machine."""
        found = []
        if self.directory.exists():
            found.append(f"directory {self.directory}")
        found += [
            f"network namespace {ns}" for ns in network.namespaces(naming.netns_prefix(self.name))
        ]
        found += [
            f"network link {link}" for link in network.link_names(naming.link_prefix(self.name))
        ]
        found += [f"cgroup {path}" for path in cgroups.existing(naming.cgroup_lab(self.name))]
        return found

    # Helpers

    def _other_subnets(self) -> list[ipaddress.IPv4Network]:
        """Return the subnets recorded by other labs, including labs whose bridge is gone."""
        subnets = []
        for path in (self.root / "labs").glob("*/state.json"):
            if path == self.state_path:
                continue
            with contextlib.suppress(LabError, ValueError):
                other = state.load(path)
                if other is not None:
                    subnets.append(ipaddress.IPv4Network(other.subnet))
        return subnets

    def _paths(self, name: str) -> hosts.HostPaths:
        return hosts.HostPaths(naming.host_dir(self.root, self.name, name))

    def _lab_host(self, recorded: state.HostState) -> LabHost:
        return LabHost(
            name=recorded.name,
            fqdn=f"{recorded.name}.{naming.DOMAIN}",
            address=recorded.address,
            port=hosts.SSH_PORT,
            user=recorded.user,
            user_password=recorded.user_password,
            root_password=recorded.root_password,
            host_keys=tuple(recorded.host_keys),
        )

    def _save(self, current: state.LabState) -> None:
        state.save(self.state_path, current)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Hold the machine-wide lab lock, so two labs never pick the same subnet at once."""
        labs = self.root / "labs"
        labs.mkdir(parents=True, exist_ok=True)
        with (labs / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
