"""Lab's progress messages, results and hints, with the machine's tools replaced by fakes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.lab import cgroups, hosts, image, mounts, network, requirements, state
from workshop_tui.lab import lab as lab_module
from workshop_tui.lab.lab import Lab, count_hosts, lab_command, lab_names

SUBNET = "10.200.7.0/24"
DNSMASQ_PID = 101
MIRROR_PID = 102


@dataclass
class FakeMachine:
    """What the fakes report: the lab bridge, the running service PIDs and hosts."""

    bridge: bool = True
    services: set[int] = field(default_factory=lambda: {DNSMASQ_PID, MIRROR_PID})
    running_hosts: set[str] = field(default_factory=lambda: {"alpha"})


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> FakeMachine:
    fake = FakeMachine()

    def no_command(argv: list[str], **options: object) -> None:
        raise AssertionError(f"a fake lab ran a real command: {argv}")

    for module in (network, mounts, hosts, requirements):
        monkeypatch.setattr(module, "run", no_command)
    monkeypatch.setattr(requirements, "preflight_up", lambda root: None)
    monkeypatch.setattr(requirements, "preflight_down", lambda: None)
    monkeypatch.setattr(requirements, "check_platform", lambda: None)
    monkeypatch.setattr(image, "load_image", lambda directory: image.Image("k", directory, ()))

    monkeypatch.setattr(network, "link_exists", lambda name: fake.bridge)
    monkeypatch.setattr(network, "link_is_up", lambda name: True)
    monkeypatch.setattr(network, "machine_networks", lambda: [])
    monkeypatch.setattr(network, "namespaces", lambda prefix: [])
    monkeypatch.setattr(network, "link_names", lambda prefix: [])

    def create_bridge(lab: str, subnet: ipaddress.IPv4Network) -> None:
        fake.bridge = True

    monkeypatch.setattr(network, "create_bridge", create_bridge)
    monkeypatch.setattr(network, "create_host_link", lambda lab, host, subnet: None)
    monkeypatch.setattr(network, "delete_host_link", lambda lab, host: None)

    def start_service(pid: int) -> int:
        fake.services.add(pid)
        return pid

    monkeypatch.setattr(lab_module, "start_mirror_server", lambda *a: start_service(MIRROR_PID))
    monkeypatch.setattr(network, "start_dnsmasq", lambda *a: start_service(DNSMASQ_PID + 2))

    # Only the services cgroup is read through these; the hosts go through hosts.is_running.
    monkeypatch.setattr(cgroups, "processes", lambda relative: set(fake.services))
    monkeypatch.setattr(cgroups, "hierarchies", lambda mountinfo=None: [])
    monkeypatch.setattr(
        cgroups, "signal_pid", lambda pid, signum, cgroup: fake.services.discard(pid)
    )
    monkeypatch.setattr(cgroups, "wait_until_gone", lambda pids, timeout: True)

    def start_host(lab: str, name: str, paths: hosts.HostPaths) -> int:
        fake.running_hosts.add(name)
        return 200 + len(fake.running_hosts)

    monkeypatch.setattr(hosts, "is_running", lambda lab, name, pid: name in fake.running_hosts)
    monkeypatch.setattr(hosts, "ssh_answers", lambda address: True)
    monkeypatch.setattr(hosts, "stop", lambda lab, name, paths, pid: None)
    monkeypatch.setattr(hosts, "mount_clone", lambda rootfs, paths: None)
    monkeypatch.setattr(hosts, "personalize", lambda root, name, bridge: None)
    monkeypatch.setattr(hosts, "set_passwords", lambda root, passwords: None)
    monkeypatch.setattr(hosts, "read_host_keys", lambda root: [("ssh-ed25519", "AAAA")])
    monkeypatch.setattr(hosts, "start", start_host)
    monkeypatch.setattr(hosts, "wait_for_ssh", lambda name, address, pid, paths: None)
    return fake


def _lab(root: Path, messages: list[str]) -> Lab:
    """Return lab ``t`` below ``root`` with a state file that records host alpha."""
    lab = Lab("t", root=root, progress=messages.append)
    lab.directory.mkdir(parents=True)
    alpha = state.HostState(
        name="alpha",
        address="10.200.7.11",
        user="learner",
        user_password="abcd-efgh-jkmn",
        root_password="pqrs-tuvw-xyz2",
        host_keys=[("ssh-ed25519", "AAAA")],
        launcher_pid=201,
    )
    recorded = state.LabState(
        lab="t",
        subnet=SUBNET,
        image_dir=str(root / "image"),
        dnsmasq_pid=DNSMASQ_PID,
        mirror_pid=MIRROR_PID,
        dns_hosts=["alpha"],
        hosts={"alpha": alpha},
    )
    state.save(lab.state_path, recorded)
    return lab


def test_up_of_running_lab(machine: FakeMachine, tmp_path: Path) -> None:
    messages: list[str] = []
    lab = _lab(tmp_path, messages)
    assert [host.name for host in lab.up(1)] == ["alpha"]
    assert messages == ["Lab t is already up with 1 host"]


def test_up_boots_stopped_host(machine: FakeMachine, tmp_path: Path) -> None:
    machine.running_hosts.clear()
    messages: list[str] = []
    _lab(tmp_path, messages).up(1)
    assert messages[:2] == ["Booting host alpha", "Host alpha answers on SSH"]
    assert messages[2].startswith("Lab t is up with 1 host (")
    assert len(messages) == 3


def test_up_after_machine_restart(machine: FakeMachine, tmp_path: Path) -> None:
    machine.bridge = False
    machine.services.clear()
    machine.running_hosts.clear()
    messages: list[str] = []
    _lab(tmp_path, messages).up(1)
    assert messages[:5] == [
        f"Setting up the lab network {SUBNET}",
        "Starting the package mirror on 10.200.7.1",
        "Starting the lab DNS server on 10.200.7.1",
        "Booting host alpha",
        "Host alpha answers on SSH",
    ]
    assert messages[5].startswith("Lab t is up with 1 host (")


def test_up_adds_host(machine: FakeMachine, tmp_path: Path) -> None:
    messages: list[str] = []
    lab = _lab(tmp_path, messages)
    assert [host.name for host in lab.up(2)] == ["alpha", "bravo"]
    assert messages[:5] == [
        "Restarting the lab DNS server for alpha, bravo",
        "Host alpha (10.200.7.11) is already running",
        "Creating host bravo (10.200.7.12)",
        "Booting host bravo",
        "Host bravo answers on SSH",
    ]
    assert messages[5].startswith("Lab t is up with 2 hosts (")


def test_down_of_missing_lab(machine: FakeMachine, tmp_path: Path) -> None:
    messages: list[str] = []
    lab = Lab("t", root=tmp_path, progress=messages.append)
    assert lab.down() is False
    assert messages == []


def test_down_removes_leftover_directory(machine: FakeMachine, tmp_path: Path) -> None:
    messages: list[str] = []
    lab = Lab("t", root=tmp_path, progress=messages.append)
    (lab.directory / "hosts").mkdir(parents=True)
    assert lab.down() is True
    assert not lab.directory.exists()
    # No state file and no services cgroup, so there was no DNS or network to remove.
    assert messages == []


def test_down_progress_without_services(machine: FakeMachine, tmp_path: Path) -> None:
    messages: list[str] = []
    lab = _lab(tmp_path, messages)
    machine.services.clear()
    assert lab.down() is True
    assert messages == ["Removing host alpha", "Stopping the lab DNS and package mirror"]
    assert not lab.directory.exists()


def test_invalid_state_suggests_down(machine: FakeMachine, tmp_path: Path) -> None:
    lab = _lab(tmp_path, [])
    lab.state_path.write_text("{")
    with pytest.raises(LabError, match="invalid lab state") as raised:
        lab.status()
    assert f"`workshop-tui lab down --name t --root {tmp_path}`" in str(raised.value)


def test_set_link_of_missing_host(machine: FakeMachine, tmp_path: Path) -> None:
    lab = _lab(tmp_path, [])
    with pytest.raises(LabError, match="lab t has no host charlie") as raised:
        lab.set_link("charlie", False)
    assert f"`workshop-tui lab up -n 3 --name t --root {tmp_path}`" in str(raised.value)


def test_status_without_ssh_check(machine: FakeMachine, tmp_path: Path) -> None:
    status = _lab(tmp_path, []).status(check_ssh=False)
    assert status.is_up
    assert [item.ssh_answering for item in status.hosts] == [None]


def test_status_of_stopped_lab(machine: FakeMachine, tmp_path: Path) -> None:
    machine.services.clear()
    machine.running_hosts.clear()
    status = _lab(tmp_path, []).status()
    assert status.exists
    assert status.is_down
    assert not status.is_up


@pytest.mark.parametrize(
    ("action", "lab", "root", "options", "expected"),
    [
        ("up", "practice", lab_module.DEFAULT_ROOT, (), "workshop-tui lab up"),
        ("down", "t1", lab_module.DEFAULT_ROOT, (), "workshop-tui lab down --name t1"),
        ("up", "t1", lab_module.DEFAULT_ROOT, ("-n", "2"), "workshop-tui lab up -n 2 --name t1"),
        (
            "list",
            "practice",
            Path("/srv/my labs"),
            (),
            "workshop-tui lab list --root '/srv/my labs'",
        ),
    ],
)
def test_lab_command(
    action: str, lab: str, root: Path, options: tuple[str, ...], expected: str
) -> None:
    assert lab_command(action, lab, root, options) == expected


def test_lab_names(tmp_path: Path) -> None:
    labs = tmp_path / "labs"
    for name in ("practice", "t-1", "Not_A_Lab"):
        (labs / name).mkdir(parents=True)
    (labs / ".lock").touch()
    (labs / "stray-file").touch()
    assert lab_names(tmp_path) == ["practice", "t-1"]


def test_lab_names_without_labs(tmp_path: Path) -> None:
    assert lab_names(tmp_path) == []


def test_count_hosts() -> None:
    assert count_hosts(1) == "1 host"
    assert count_hosts(2) == "2 hosts"
    assert count_hosts(0) == "0 hosts"
