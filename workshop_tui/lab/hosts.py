"""Lab hosts: overlay clones of the image, booted with systemd-nspawn.

A host's directory ``ROOT/labs/<lab>/hosts/<name>/`` contains the overlay's
``upper/`` and ``work/`` directories, the mounted ``root/``, the boot log and
the PID file of the running systemd-nspawn. Everything the attendee changes
on the host lands in ``upper/``; the image below stays untouched.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from workshop_tui.core.errors import LabError
from workshop_tui.lab import cgroups, mounts, naming
from workshop_tui.lab.commands import run
from workshop_tui.lab.network import NETNS_DIR, log_tail

SSH_PORT = 22
SSH_WAIT_SECONDS = 90
STOP_WAIT_SECONDS = 30
STOP_RETRY_SECONDS = 2

HOST_KEY_TYPES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ed25519", ()),
    ("ecdsa", ("-b", "256")),
    ("rsa", ("-b", "3072")),
)

PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 (not a password)
"""Lowercase letters and digits without the look-alikes 0, 1, i, l and o."""

# Boots the guest again whenever systemd-nspawn exits with status 133, which
# it returns when the guest reboots, so `reboot`
# inside a host works, unless the lab asked the host to stop. The PID of the
# running systemd-nspawn goes to a file, because stopping a host means sending
# SIGTERM to systemd-nspawn itself (a clean poweroff of the guest).
_LAUNCH_SCRIPT = """\
stop_file=$1
pid_file=$2
shift 2
while :; do
    "$@" &
    echo $! > "$pid_file"
    wait $!
    status=$?
    if [ "$status" -ne 133 ] || [ -e "$stop_file" ]; then
        exit "$status"
    fi
    echo "workshop lab: the host rebooted, starting it again"
done
"""


@dataclass(frozen=True)
class HostPaths:
    directory: Path

    @property
    def upper(self) -> Path:
        return self.directory / "upper"

    @property
    def work(self) -> Path:
        return self.directory / "work"

    @property
    def root(self) -> Path:
        return self.directory / "root"

    @property
    def log(self) -> Path:
        return self.directory / "boot.log"

    @property
    def pid_file(self) -> Path:
        return self.directory / "nspawn.pid"

    @property
    def stop_file(self) -> Path:
        return self.directory / "stop"


def generate_password() -> str:
    """Return a random practice password such as ``k7dm-x3qa-9tfe`` (about 59 bits)."""
    groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(3))
    return "-".join(groups)


def mount_clone(image_rootfs: Path, paths: HostPaths) -> None:
    """Mount the host's overlay (image below, ``upper/`` above) unless it is mounted."""
    for directory in (paths.upper, paths.work, paths.root):
        directory.mkdir(parents=True, exist_ok=True)
    if mounts.is_mounted(paths.root):
        return
    options = f"lowerdir={image_rootfs},upperdir={paths.upper},workdir={paths.work}"
    run(["mount", "-t", "overlay", "overlay", "-o", options, str(paths.root)])


def personalize(
    root: Path, name: str, bridge_address: ipaddress.IPv4Address, domain: str = naming.DOMAIN
) -> None:
    """Write the files that make a fresh clone its own host: name, hosts, resolver, identity."""
    fqdn = f"{name}.{domain}"
    mounts.write_file(root, "etc/hostname", f"{name}\n")
    mounts.write_file(
        root,
        "etc/hosts",
        f"127.0.0.1\tlocalhost\n127.0.1.1\t{fqdn}\t{name}\n\n"
        "::1\tlocalhost ip6-localhost ip6-loopback\n"
        "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
    )
    mounts.write_file(root, "etc/resolv.conf", f"search {domain}\nnameserver {bridge_address}\n")
    # An empty machine ID makes systemd generate a new one on first boot.
    mounts.write_file(root, "etc/machine-id", "", 0o444)
    for kind, options in HOST_KEY_TYPES:
        key_file = root / f"etc/ssh/ssh_host_{kind}_key"
        if key_file.exists() or key_file.is_symlink():
            continue
        run(
            ["ssh-keygen", "-q", "-t", kind, *options, "-N", "", "-C", f"root@{name}",
             "-f", str(key_file)],
        )  # fmt: skip


def read_host_keys(root: Path) -> list[tuple[str, str]]:
    """Return ``(key type, base64 key)`` for each SSH host public key in a clone."""
    keys: list[tuple[str, str]] = []
    for kind, _options in HOST_KEY_TYPES:
        public = root / f"etc/ssh/ssh_host_{kind}_key.pub"
        words = public.read_text().split()
        if len(words) < 2:
            raise LabError(f"invalid SSH host public key {public}")
        keys.append((words[0], words[1]))
    return keys


def set_passwords(root: Path, passwords: dict[str, str]) -> None:
    """Set account passwords inside a clone with its own chpasswd and password hashing."""
    lines = "".join(f"{user}:{password}\n" for user, password in passwords.items())
    run(["chroot", str(root), "/usr/sbin/chpasswd"], input_text=lines)


def nspawn_arguments(paths: HostPaths, lab: str, name: str) -> list[str]:
    return [
        "systemd-nspawn",
        "--boot",
        f"--directory={paths.root}",
        f"--machine={name}",
        f"--network-namespace-path={NETNS_DIR / naming.netns_name(lab, name)}",
        # No machined or D-Bus is needed on this machine: nspawn stays in the
        # cgroup it was started in, which the lab created for this host.
        "--register=no",
        "--keep-unit",
        "--settings=false",
        "--console=passive",
        "--resolv-conf=off",
        "--timezone=off",
        "--link-journal=no",
        # ifupdown brings up lo at boot; the host has its own network namespace,
        # so the capability reaches no other interface.
        "--capability=CAP_NET_ADMIN",
    ]


def start(lab: str, name: str, paths: HostPaths) -> int:
    """Boot the host detached in its own cgroup and return the launcher's PID."""
    paths.stop_file.unlink(missing_ok=True)
    paths.pid_file.unlink(missing_ok=True)
    environment = dict(os.environ)
    # Lets the guest change its own network sysctls, as root on a VPS can.
    environment["SYSTEMD_NSPAWN_API_VFS_WRITABLE"] = "network"
    argv = [
        "sh", "-c", _LAUNCH_SCRIPT, "sh", str(paths.stop_file), str(paths.pid_file),
        *nspawn_arguments(paths, lab, name),
    ]  # fmt: skip
    return cgroups.spawn(argv, naming.cgroup_host(lab, name), paths.log, environment)


def ssh_answers(address: str, port: int = SSH_PORT, timeout: float = 1.0) -> bool:
    """Return whether an SSH server at ``address:port`` sends its version banner."""
    try:
        with socket.create_connection((address, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            return connection.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def wait_for_ssh(name: str, address: str, launcher_pid: int, paths: HostPaths) -> None:
    """Wait until the host's SSH server sends its banner; raise LabError if the host stops first."""
    deadline = time.monotonic() + SSH_WAIT_SECONDS
    while time.monotonic() < deadline:
        if ssh_answers(address):
            return
        if not cgroups.is_alive(launcher_pid):
            cgroups.reap(launcher_pid)
            raise LabError(
                f"host {name} stopped while booting; {paths.log} ends with:\n{log_tail(paths.log)}"
            )
        time.sleep(0.2)
    raise LabError(
        f"host {name} ({address}) did not respond on SSH port {SSH_PORT} within"
        f" {SSH_WAIT_SECONDS} s; {paths.log} ends with:\n{log_tail(paths.log)}"
    )


def is_running(lab: str, name: str, launcher_pid: int | None) -> bool:
    cgroup = naming.cgroup_host(lab, name)
    return launcher_pid is not None and launcher_pid in cgroups.processes(cgroup)


def stop(lab: str, name: str, paths: HostPaths, launcher_pid: int | None) -> None:
    """Power the host off with SIGTERM to systemd-nspawn, then end what is left in its cgroup."""
    cgroup = naming.cgroup_host(lab, name)
    if paths.directory.is_dir():
        paths.stop_file.touch()
    nspawn_pid = _read_pid(paths.pid_file)
    if nspawn_pid is None and launcher_pid is not None:
        # The launcher writes the PID file right after starting systemd-nspawn.
        pid_deadline = time.monotonic() + 2
        while nspawn_pid is None and time.monotonic() < pid_deadline:
            if launcher_pid not in cgroups.processes(cgroup):
                break
            time.sleep(0.05)
            nspawn_pid = _read_pid(paths.pid_file)
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while nspawn_pid is not None and time.monotonic() < deadline:
        if nspawn_pid not in cgroups.processes(cgroup):
            break
        # Repeated, because a guest whose systemd is still starting may not act
        # on the first request.
        cgroups.signal_pid(nspawn_pid, signal.SIGTERM, cgroup)
        if cgroups.wait_until_gone({nspawn_pid}, STOP_RETRY_SECONDS):
            break
    if launcher_pid is not None and launcher_pid in cgroups.processes(cgroup):
        cgroups.wait_until_gone({launcher_pid}, 2)
    cgroups.remove(cgroup)
    if launcher_pid is not None:
        cgroups.reap(launcher_pid)


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None
