"""The practice lab facade: create, inspect and remove a lab of Debian 12 hosts."""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import shlex
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from workshop_tui.core.errors import LabError
from workshop_tui.lab import cgroups, hosts, image, mounts, naming, network, requirements, state
from workshop_tui.lab.mirror import start_mirror_server

DEFAULT_ROOT = Path("/var/lib/workshop-tui")
DEFAULT_NAME = "practice"
SERVICE_STOP_SECONDS = 5


def lab_command(
    action: str, lab: str, root: Path = DEFAULT_ROOT, options: Sequence[str] = ()
) -> str:
    """Return the ``workshop-tui lab`` command line that runs ``action`` on the lab ``lab``.

    ``--name`` and ``--root`` are left out when they have their default values,
    so messages show the shortest command that a facilitator can paste.
    """
    words = ["workshop-tui", "lab", action, *options]
    if lab != DEFAULT_NAME:
        words += ["--name", lab]
    if root != DEFAULT_ROOT:
        words += ["--root", str(root)]
    return shlex.join(words)


def count_hosts(count: int) -> str:
    """Return ``"1 host"`` or ``"<count> hosts"``."""
    return "1 host" if count == 1 else f"{count} hosts"


def lab_names(root: Path = DEFAULT_ROOT) -> list[str]:
    """Return the names of the labs that have a directory in ``root``/labs, sorted.

    A lab whose creation crashed before its directory was made is not listed,
    although ``Lab(name).down()`` still finds its other objects by name.
    """
    labs = root / "labs"
    if not labs.is_dir():
        return []
    return sorted(path.name for path in labs.iterdir() if path.is_dir() and _is_lab_name(path))


def _is_lab_name(path: Path) -> bool:
    try:
        naming.validate_lab_name(path.name)
    except LabError:
        return False
    return True


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
    ssh_answering: bool | None
    """Whether the host's SSH server sent its banner; None when the status did not check."""
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

    @property
    def running_host_count(self) -> int:
        return sum(1 for item in self.hosts if item.running)

    @property
    def is_up(self) -> bool:
        """Whether the lab has hosts and all of them, its DNS server and its mirror are running."""
        return (
            bool(self.hosts)
            and self.running_host_count == len(self.hosts)
            and self.dns_running
            and self.mirror_running
        )

    @property
    def is_down(self) -> bool:
        """Whether none of the lab's hosts, its DNS server or its mirror is running."""
        return self.running_host_count == 0 and not self.dns_running and not self.mirror_running


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
            current = self._load()
            if current is None and self._leftovers():
                self._progress(f"Removing leftovers of an earlier run of lab {self.name}")
                self._remove_everything(None)
            running = set(current.hosts) if current is not None else set()
            requirements.check_inotify(len(set(names) - running))
            created: list[str] = []
            try:
                return self._up(current, names, created)
            except BaseException as error:
                if current is None:
                    self._progress(f"Creating lab {self.name} failed; removing it again")
                elif created:
                    self._progress(
                        f"Starting lab {self.name} failed; removing the hosts this run created"
                    )
                self._clean_up_failed_up(current is None, created, error)
                raise

    def status(self, *, check_ssh: bool = True) -> LabStatus:
        """Return what is running in this lab now.

        With ``check_ssh``, it also connects to each running host's SSH port,
        which takes up to a second for a host that does not respond.
        """
        requirements.check_platform()
        current = self._load()
        if current is None:
            leftovers = tuple(self._leftovers())
            return LabStatus(self.name, bool(leftovers), None, None, False, False, (), leftovers)
        subnet = ipaddress.IPv4Network(current.subnet)
        services = cgroups.processes(naming.cgroup_services(self.name))
        host_states = []
        for name in sorted(current.hosts, key=naming.host_index):
            recorded = current.hosts[name]
            running = hosts.is_running(self.name, name, recorded.launcher_pid)
            ssh_answering = None
            if check_ssh:
                ssh_answering = running and hosts.ssh_answers(recorded.address)
            host_states.append(
                HostStatus(
                    host=self._lab_host(recorded),
                    running=running,
                    ssh_answering=ssh_answering,
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

    def down(self) -> bool:
        """Remove every host, network object, process, mount, cgroup and file of this lab.

        Works without a state file, or with a partial one, by finding the lab's
        objects by their name prefixes. Returns False, having done nothing, when
        no object of the lab exists.
        """
        requirements.preflight_down()
        with self._lock():
            try:
                current = state.load(self.state_path)
            except LabError as error:
                self._progress(f"Ignoring the unreadable state file: {error}")
                current = None
            if current is None and not self._leftovers():
                return False
            self._remove_everything(current)
        return True

    def set_link(self, host_name: str, up: bool) -> None:
        """Take a host's network link down or bring it back, as when Wi-Fi drops."""
        naming.validate_host_name(host_name)
        requirements.check_platform()
        current = self._load()
        if current is None or host_name not in current.hosts:
            count = str(naming.host_index(host_name))
            raise LabError(
                f"lab {self.name} has no host {host_name}; create it with"
                f" `{self._command('up', ['-n', count])}`"
            )
        network.set_link(self.name, host_name, up)

    # Creating

    def _up(
        self, current: state.LabState | None, names: list[str], created: list[str]
    ) -> list[LabHost]:
        started = time.monotonic()
        # Set when this call starts or creates anything. Without changes, the
        # lab is reported in one line instead of a line per skipped step.
        changed = current is None
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
                    f" `{self._command('down')}` and create it again with `{self._command('up')}`"
                ) from error
            subnet = ipaddress.IPv4Network(current.subnet)
        address = str(naming.bridge_address(subnet))

        if not network.link_exists(naming.bridge_name(self.name)):
            clashes = [n for n in network.machine_networks() if n.overlaps(subnet)]
            if clashes:
                raise LabError(
                    f"the lab subnet {subnet} now overlaps {clashes[0]} on this machine;"
                    f" remove the lab with `{self._command('down')}` and create it again with"
                    f" `{self._command('up')}`, which picks a free subnet"
                )
            self._progress(f"Setting up the lab network {subnet}")
            changed = True
        # Also run for an existing bridge: it sets the bridge's address and state
        # again in case something on this machine changed them.
        network.create_bridge(self.name, subnet)

        services = cgroups.processes(naming.cgroup_services(self.name))
        if current.mirror_pid not in services:
            self._progress(f"Starting the package mirror on {address}")
            changed = True
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
                changed = True
        self._save(current)

        expected_dns_hosts = sorted(current.hosts, key=naming.host_index)
        services = cgroups.processes(naming.cgroup_services(self.name))
        if current.dnsmasq_pid not in services or current.dns_hosts != expected_dns_hosts:
            if current.dnsmasq_pid in services:
                self._progress(f"Restarting the lab DNS server for {', '.join(expected_dns_hosts)}")
            else:
                self._progress(f"Starting the lab DNS server on {address}")
            changed = True
            self._stop_service(current.dnsmasq_pid)
            current.dnsmasq_pid = network.start_dnsmasq(
                self.name, subnet, expected_dns_hosts, built.mirror_hosts, self.directory
            )
            current.dns_hosts = expected_dns_hosts
            self._save(current)

        running = [
            name
            for name in names
            if hosts.is_running(self.name, name, current.hosts[name].launcher_pid)
        ]
        if not changed and running == names:
            hosts_text = count_hosts(self._running_host_count(current))
            self._progress(f"Lab {self.name} is already up with {hosts_text}")
            return [self._lab_host(current.hosts[name]) for name in names]

        for name in running:
            self._progress(f"Host {name} ({current.hosts[name].address}) is already running")
        booting: list[tuple[str, int]] = []
        for name in names:
            if name not in running:
                booting.append((name, self._start_host(current, built, subnet, name)))

        for name, launcher_pid in booting:
            paths = self._paths(name)
            hosts.wait_for_ssh(name, current.hosts[name].address, launcher_pid, paths)
            self._progress(f"Host {name} answers on SSH")
        hosts_text = count_hosts(self._running_host_count(current))
        seconds = time.monotonic() - started
        self._progress(f"Lab {self.name} is up with {hosts_text} ({seconds:.1f} s)")
        return [self._lab_host(current.hosts[name]) for name in names]

    def _running_host_count(self, current: state.LabState) -> int:
        return sum(
            hosts.is_running(self.name, name, recorded.launcher_pid)
            for name, recorded in current.hosts.items()
        )

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
                self._remove_everything(self._load())
                return
            current = self._load()
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

        services = naming.cgroup_services(self.name)
        if current is not None or cgroups.existing(services):
            self._progress("Stopping the lab DNS and package mirror")
        if current is not None:
            attempt(self._stop_service, current.dnsmasq_pid)
            attempt(self._stop_service, current.mirror_pid)
        attempt(cgroups.remove, services)

        namespaces = network.namespaces(naming.netns_prefix(self.name))
        if namespaces or network.link_names(naming.link_prefix(self.name)):
            self._progress("Removing the lab network")
        for namespace in namespaces:
            attempt(network.delete_namespace, namespace)
        for link in sorted(network.link_names(naming.link_prefix(self.name)), reverse=True):
            # Sorted in reverse, host veths ("...v01") go before the bridge ("...br").
            attempt(network.delete_link, link)

        attempt(cgroups.remove, naming.cgroup_lab(self.name))
        cgroups.remove_if_empty(naming.CGROUP_TOP)
        attempt(mounts.remove_tree, self.directory)
        if failures:
            raise LabError(
                f"removing lab {self.name} left something behind; run `{self._command('down')}`"
                " again to retry:\n" + "\n".join(failures)
            )

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

    def _load(self) -> state.LabState | None:
        try:
            return state.load(self.state_path)
        except LabError as error:
            raise LabError(
                f"{error}; remove the lab with `{self._command('down')}` and create it again"
            ) from error

    def _save(self, current: state.LabState) -> None:
        state.save(self.state_path, current)

    def _command(self, action: str, options: Sequence[str] = ()) -> str:
        return lab_command(action, self.name, self.root, options)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        """Hold the machine-wide lab lock, so two labs never pick the same subnet at once."""
        labs = self.root / "labs"
        labs.mkdir(parents=True, exist_ok=True)
        with (labs / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
