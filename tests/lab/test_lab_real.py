"""Real practice hosts: boot, logins, DNS, apt through the lab mirror, link loss, removal.

These tests need root on Linux and build the Debian image on first use (about
a minute with the Debian mirror reachable). They run in file order, and the
last one removes the lab and checks that nothing of it is left.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paramiko
import pytest

from workshop_tui.lab import Lab, LabError, LabHost, cgroups, cli, hosts, mounts, naming, network
from workshop_tui.lab import state as lab_state
from workshop_tui.lab.image import LESSON_PACKAGES

from .support import (
    LAB_HOST_COUNT,
    LabSession,
    connect,
    lab_skip_reason,
    root_run,
    run,
    server_host_key,
)

pytestmark = pytest.mark.lab

TESTS_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = TESTS_DIR.parent


def _wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_hosts_boot(lab_session: LabSession) -> None:
    assert [h.name for h in lab_session.hosts] == ["alpha", "bravo"]
    assert lab_session.up_seconds < 300
    for host in lab_session.hosts:
        assert host.fqdn == f"{host.name}.lab.test"
        assert host.port == 22
        status, out, err = root_run(host, "systemctl is-system-running --wait", timeout=120)
        failed = root_run(host, "systemctl --failed --no-legend")[1]
        assert out.strip() == "running", f"{host.name}: {out} {err} failed units: {failed}"
        assert status == 0


def test_host_identity(lab_session: LabSession) -> None:
    alpha = lab_session.hosts[0]
    status, out, _ = root_run(alpha, "hostname; hostname --fqdn; cat /etc/machine-id")
    assert status == 0
    name, fqdn, machine_id = out.split()
    assert name == "alpha"
    assert fqdn == "alpha.lab.test"
    bravo_id = root_run(lab_session.hosts[1], "cat /etc/machine-id")[1].strip()
    assert len(machine_id) == 32
    assert machine_id != bravo_id


def test_password_logins(lab_session: LabSession) -> None:
    for host in lab_session.hosts:
        client = connect(host, host.user, host.user_password)
        try:
            status, out, _ = run(client, "id -un; id -Gn")
            assert status == 0
            user, groups = out.splitlines()
            assert user == host.user
            assert "sudo" in groups.split()
            sudo = f"echo {host.user_password} | sudo -S -p '' id -u"
            assert run(client, sudo)[1].strip() == "0"
        finally:
            client.close()
        assert root_run(host, "id -u")[1].strip() == "0"


def test_wrong_password_is_rejected(lab_session: LabSession) -> None:
    host = lab_session.hosts[0]
    with pytest.raises(paramiko.AuthenticationException):
        connect(host, host.user, "not-the-password")


def test_host_keys_match(lab_session: LabSession) -> None:
    for host in lab_session.hosts:
        kinds = [kind for kind, _key in host.host_keys]
        assert set(kinds) == {"ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"}
        for kind, key in host.host_keys:
            assert server_host_key(host, kind) == (kind, key), f"{host.name} {kind}"
    assert lab_session.hosts[0].host_keys != lab_session.hosts[1].host_keys


def test_names_resolve_between_hosts(lab_session: LabSession) -> None:
    alpha, bravo = lab_session.hosts
    status, out, err = root_run(alpha, "getent hosts bravo.lab.test bravo deb.debian.org")
    assert status == 0, err
    lines = [line.split() for line in out.splitlines()]
    assert lines[0] == [bravo.address, "bravo.lab.test"]
    assert lines[1][0] == bravo.address
    bridge = str(naming.bridge_address(_subnet(lab_session)))
    assert lines[2][0] == bridge
    started = time.monotonic()
    status, _, _ = root_run(alpha, "getent hosts www.example.com")
    assert status != 0
    assert time.monotonic() - started < 5, "names outside the lab must fail at once"


def _subnet(lab_session: LabSession) -> ipaddress.IPv4Network:
    current = lab_state.load(lab_session.lab.state_path)
    assert current is not None
    return ipaddress.IPv4Network(current.subnet)


def test_mx_lookup_from_host_namespace(lab_session: LabSession) -> None:
    """Query the resolver in alpha's /etc/resolv.conf from inside alpha's network namespace."""
    alpha = lab_session.hosts[0]
    resolver = root_run(alpha, "awk '/^nameserver/ {print $2}' /etc/resolv.conf")[1].strip()
    namespace = naming.netns_name(lab_session.lab.name, "alpha")
    code = f"from lab.support import mx_query; print(mx_query({resolver!r}, 'bravo.lab.test'))"
    environment = dict(os.environ, PYTHONPATH=f"{TESTS_DIR}{os.pathsep}{REPO_DIR}")
    result = subprocess.run(
        ["nsenter", f"--net=/run/netns/{namespace}", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        env=environment,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[(10, 'bravo.lab.test')]"


def test_no_route_out(lab_session: LabSession) -> None:
    alpha = lab_session.hosts[0]
    routes = root_run(alpha, "ip -4 route show")[1]
    assert "default" not in routes
    # A route lookup only; no packet is sent.
    status, _, err = root_run(alpha, "ip -4 route get 192.0.2.1")
    assert status != 0
    assert "unreachable" in err.lower()


def test_apt_through_lab_mirror(lab_session: LabSession) -> None:
    alpha, bravo = lab_session.hosts
    started = time.monotonic()
    status, out, _err = root_run(alpha, "apt-get update 2>&1")
    update_seconds = time.monotonic() - started
    assert status == 0, out
    for marker in ("Err:", "W:", "E:"):
        assert marker not in out, out
    assert update_seconds < 15, f"apt-get update took {update_seconds:.1f} s"

    # An update from empty lists fetches every index from the mirror (apt requests
    # for compressed and by-hash names first and prints "Ign" for the 404s).
    status, out, _err = root_run(bravo, "rm -rf /var/lib/apt/lists/* && apt-get update 2>&1")
    assert status == 0, out
    for marker in ("Err:", "W:", "E:"):
        assert marker not in out, out

    # Every lesson package alone and all of them together must download from
    # the mirror, because apt picks different alternatives in each case.
    download = "apt-get install --download-only -y -q"
    script = "; ".join(
        f"{download} {package} >/dev/null 2>&1 || echo {package}" for package in LESSON_PACKAGES
    )
    script += f"; {download} {' '.join(LESSON_PACKAGES)} >/dev/null 2>&1 || echo all; apt-get clean"
    status, out, err = root_run(bravo, script)
    assert out.split() == [], f"not downloadable from the lab mirror: {out} {err}"

    results: dict[str, tuple[int, str, str]] = {}

    def install(host: LabHost, packages: str) -> None:
        command = f"DEBIAN_FRONTEND=noninteractive apt-get install -y {packages} 2>&1"
        results[host.name] = root_run(host, command)

    threads = [
        threading.Thread(target=install, args=(alpha, "postfix dovecot-imapd mutt")),
        threading.Thread(target=install, args=(bravo, "postfix")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name, (status, out, _err) in results.items():
        assert status == 0, f"{name}: {out[-3000:]}"
    assert root_run(alpha, "systemctl is-active postfix dovecot")[1].split() == ["active", "active"]
    assert root_run(bravo, "systemctl is-active postfix")[1].strip() == "active"


def test_mail_delivered_by_mx(lab_session: LabSession) -> None:
    alpha, bravo = lab_session.hosts
    subject = f"lab test {time.time_ns()}"
    message = f"Subject: {subject}\\n\\nhello\\n"
    send = f"printf '{message}' | /usr/sbin/sendmail {bravo.user}@bravo.lab.test"
    assert root_run(alpha, send)[0] == 0

    def delivered() -> bool:
        return subject in root_run(bravo, f"cat /var/mail/{bravo.user} 2>/dev/null")[1]

    assert _wait_for(delivered, 30), root_run(alpha, "tail -5 /var/log/mail.log")[1]


def test_set_link_down_and_up(lab_session: LabSession) -> None:
    lab = lab_session.lab
    bravo = lab_session.hosts[1]
    lab.set_link("bravo", False)
    try:
        assert not hosts.ssh_answers(bravo.address, timeout=2)
        status = {item.host.name: item for item in lab.status().hosts}
        assert not status["bravo"].link_up
        assert status["alpha"].link_up
    finally:
        lab.set_link("bravo", True)
    assert _wait_for(lambda: hosts.ssh_answers(bravo.address), 10)
    assert root_run(bravo, "true")[0] == 0


def test_set_link_unknown_host(lab_session: LabSession) -> None:
    with pytest.raises(LabError, match="has no host charlie"):
        lab_session.lab.set_link("charlie", False)


def test_reboot_inside_host(lab_session: LabSession) -> None:
    bravo = lab_session.hosts[1]
    # Field 22 of /proc/1/stat is the start time of the guest's systemd in clock ticks.
    init_start = "cut -d ' ' -f 22 /proc/1/stat"
    started_before = root_run(bravo, init_start)[1]
    # Timers fire up to a minute late by default (AccuracySec=1min).
    root_run(bravo, "systemd-run --on-active=1 --timer-property=AccuracySec=100ms systemctl reboot")
    assert _wait_for(lambda: not hosts.ssh_answers(bravo.address), 20)
    assert _wait_for(lambda: hosts.ssh_answers(bravo.address), 60)
    _status, out, _ = root_run(bravo, "systemctl is-system-running --wait", timeout=120)
    assert out.strip() == "running"
    assert root_run(bravo, init_start)[1] != started_before


def test_up_again_reuses_hosts(lab_session: LabSession) -> None:
    lab = lab_session.lab
    before = lab_state.load(lab.state_path)
    messages_before = len(lab_session.progress)
    started = time.monotonic()
    again = lab.up(LAB_HOST_COUNT)
    assert time.monotonic() - started < 10
    assert again == lab_session.hosts
    assert lab_session.progress[messages_before:] == [
        f"Lab {lab.name} is already up with {LAB_HOST_COUNT} hosts"
    ]
    after = lab_state.load(lab.state_path)
    assert before is not None
    assert after is not None
    assert [h.launcher_pid for h in after.hosts.values()] == [
        h.launcher_pid for h in before.hosts.values()
    ]


def test_status_of_running_lab(lab_session: LabSession) -> None:
    status = lab_session.lab.status()
    assert status.exists
    assert status.dns_running
    assert status.mirror_running
    assert status.is_up
    assert [item.host for item in status.hosts] == lab_session.hosts
    for item in status.hosts:
        assert item.running
        assert item.ssh_answering
        assert item.link_up


def test_status_report_has_logins(lab_session: LabSession) -> None:
    lab = lab_session.lab
    report = cli.format_status(lab.status(), "up", "down")
    assert report.splitlines()[0] == f"Lab {lab.name} is up with {LAB_HOST_COUNT} hosts."
    for host in lab_session.hosts:
        assert f"ssh {host.user}@{host.address}" in report
        assert host.user_password in report
        assert host.root_password in report


def test_state_file_is_private(lab_session: LabSession) -> None:
    mode = lab_session.lab.state_path.stat().st_mode & 0o777
    assert mode == 0o600


def test_failed_up_removes_what_it_made(monkeypatch: pytest.MonkeyPatch) -> None:
    reason = lab_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    lab = Lab(f"fail-{os.getpid()}")

    def fail_boot(*arguments: object) -> None:
        raise LabError("simulated boot failure")

    monkeypatch.setattr(hosts, "wait_for_ssh", fail_boot)
    try:
        with pytest.raises(LabError, match="simulated boot failure"):
            lab.up(1)
        assert _leftovers(lab) == []
    finally:
        monkeypatch.undo()
        lab.down()


def _recorded_pids(lab: Lab) -> set[int]:
    current = lab_state.load(lab.state_path)
    assert current is not None
    pids = {pid for pid in (current.dnsmasq_pid, current.mirror_pid) if pid is not None}
    for name, host in current.hosts.items():
        if host.launcher_pid is not None:
            pids.add(host.launcher_pid)
        pid_file = naming.host_dir(lab.root, lab.name, name) / "nspawn.pid"
        pids.add(int(pid_file.read_text()))
    return pids


def _leftovers(lab: Lab) -> list[str]:
    found = []
    found += [f"netns {n}" for n in network.namespaces(naming.netns_prefix(lab.name))]
    found += [f"link {n}" for n in network.link_names(naming.link_prefix(lab.name))]
    found += [f"mount {p}" for p in mounts.mounts_below(lab.directory)]
    found += [f"cgroup {p}" for p in cgroups.existing(naming.cgroup_lab(lab.name))]
    if lab.directory.exists():
        found.append(f"directory {lab.directory}")
    return found


def test_down_leaves_nothing(lab_session: LabSession) -> None:
    lab = lab_session.lab
    pids = _recorded_pids(lab)
    assert len(pids) == 2 + 2 * LAB_HOST_COUNT
    assert all(cgroups.is_alive(pid) for pid in pids)

    started = time.monotonic()
    assert lab.down() is True
    down_seconds = time.monotonic() - started

    assert _leftovers(lab) == []
    alive = [pid for pid in pids if cgroups.is_alive(pid)]
    assert alive == []
    for host in lab_session.hosts:
        assert not hosts.ssh_answers(host.address, timeout=0.5)
    assert not lab.status().exists
    assert down_seconds < 60
    assert lab.down() is False, "a second down finds nothing to remove"


def test_down_without_state_file() -> None:
    """A lab whose state file is lost is still removed completely, found by its names."""
    reason = lab_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    lab = Lab(f"orphan-{os.getpid()}")
    try:
        lab.up(1)
        lab.state_path.unlink()
        status = lab.status()
        assert status.exists
        assert status.leftovers
        lab.down()
        assert _leftovers(lab) == []
    finally:
        lab.down()
