"""A real OpenSSH server on 127.0.0.1 for tests, with test users that exist only inside it.

The server runs in a private mount namespace (``unshare -m``) in which copies of
/etc/passwd, /etc/shadow, /etc/group and /etc/sudoers, extended with the test users,
are bind-mounted over the real files and a tmpfs covers /run. So the users, their
passwords and their sudo rules never touch this machine's own files. Needs root,
``/usr/sbin/sshd``, ``sudo`` and ``unshare``.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from workshop_tui.core.remote import Connection

SSHD = Path("/usr/sbin/sshd")
PR_SET_CHILD_SUBREAPER = 36

# uid, name, password, sudoers lines ({name} is replaced); no lines means no sudo rights.
TEST_USERS = (
    (61001, "wtsudo", "Correct horse 1!", ("{name} ALL=(ALL:ALL) ALL",)),
    (61002, "wtnopass", "nopass pw 'x\" $HOME", ("{name} ALL=(ALL:ALL) NOPASSWD: ALL",)),
    (61003, "wtplain", "plain pw 3", ()),
    # sudo caches no credentials for this user, so every sudo call reads a password.
    (
        61004,
        "wtnocache",
        "no cache pw 4",
        ("Defaults:{name} timestamp_timeout=0", "{name} ALL=(ALL:ALL) ALL"),
    ),
)


# Opens a Connection as the named test user; keyword arguments replace Login fields.
ConnectFactory = Callable[..., Connection]


@dataclass
class TestUser:
    name: str
    uid: int
    password: str
    home: Path


@dataclass
class SshdServer:
    """A running test sshd; ``users`` maps user names to their accounts."""

    port: int
    root_key: Path
    host_key_public: str
    users: dict[str, TestUser]
    # Client keys of wtsudo by type; the ed25519 key is encrypted with wtsudo's password.
    user_keys: dict[str, Path]
    process: subprocess.Popen[bytes]
    base: Path
    log_path: Path

    def namespace_pids(self) -> list[int]:
        """Return the processes that share the server's mount namespace (its sessions)."""
        try:
            ns = Path(f"/proc/{self.process.pid}/ns/mnt").readlink()
        except OSError:
            return []
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if (entry / "ns" / "mnt").readlink() == ns:
                    pids.append(int(entry.name))
            except OSError:
                continue
        return pids

    def run_in_namespace(self, command: str, timeout: float = 20) -> str:
        """Run a shell command as root inside the server's mount namespace."""
        result = subprocess.run(
            ["nsenter", "-t", str(self.process.pid), "-m", "sh", "-c", command],
            capture_output=True,
            timeout=timeout,
            check=False,
        )
        return result.stdout.decode("utf-8", "replace") + result.stderr.decode("utf-8", "replace")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _hash_password(password: str) -> str:
    result = subprocess.run(
        ["openssl", "passwd", "-6", "-stdin"],
        input=password.encode(),
        capture_output=True,
        check=True,
    )
    return result.stdout.decode().strip()


def missing_requirements() -> str | None:
    """Return why the server cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root to run sshd with its own users"
    for tool in ("unshare", "nsenter", "sudo", "ssh-keygen", "openssl"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    if not SSHD.exists():
        return "openssh-server is not installed (apt-get install -y openssh-server)"
    return None


def _write(path: Path, text: str, mode: int) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


@contextlib.contextmanager
def running_sshd() -> Iterator[SshdServer]:
    """Start the test server, yield it, and stop it and every process of its namespace."""
    base = Path(tempfile.mkdtemp(prefix="wt-sshd-"))
    base.chmod(0o755)  # the test users' homes are below it
    private = base / "private"
    private.mkdir(mode=0o700)
    etc = base / "etc"
    etc.mkdir()
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            str(private / "host"),
            "-C",
            "test-host",
        ],
        check=True,
    )
    subprocess.run(
        [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-f",
            str(private / "root"),
            "-C",
            "test-root",
        ],
        check=True,
    )
    keys = base / "authorized"  # sshd reads a user's keys with that user's rights
    keys.mkdir(mode=0o755)
    shutil.copy(private / "root.pub", keys / "root")
    user_keys: dict[str, Path] = {}
    for kind, passphrase in (("ed25519", TEST_USERS[0][2]), ("rsa", ""), ("ecdsa", "")):
        user_keys[kind] = private / f"wtsudo-{kind}"
        subprocess.run(
            [
                "ssh-keygen",
                "-q",
                "-t",
                kind,
                "-N",
                passphrase,
                "-f",
                str(user_keys[kind]),
                "-C",
                f"wtsudo-{kind}",
            ],
            check=True,
        )
    (keys / "wtsudo").write_text(
        "".join(path.with_suffix(".pub").read_text() for path in user_keys.values())
    )

    passwd = Path("/etc/passwd").read_text()
    shadow = Path("/etc/shadow").read_text()
    group = Path("/etc/group").read_text()
    # The same defaults as Debian 12's /etc/sudoers, including use_pty.
    sudoers = (
        "Defaults env_reset\nDefaults use_pty\n"
        'Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:'
        '/sbin:/bin"\n'
        "root ALL=(ALL:ALL) ALL\n"
    )
    users: dict[str, TestUser] = {}
    for uid, name, password, rules in TEST_USERS:
        home = base / "home" / name
        home.mkdir(parents=True)
        os.chown(home, uid, uid)
        passwd += f"{name}:x:{uid}:{uid}::{home}:/bin/bash\n"
        shadow += f"{name}:{_hash_password(password)}:19000:0:99999:7:::\n"
        group += f"{name}:x:{uid}:\n"
        sudoers += "".join(rule.format(name=name) + "\n" for rule in rules)
        users[name] = TestUser(name, uid, password, home)
    _write(etc / "passwd", passwd, 0o644)
    _write(etc / "shadow", shadow, 0o640)
    _write(etc / "group", group, 0o644)
    _write(etc / "sudoers", sudoers, 0o440)

    port = free_port()
    config = private / "sshd_config"
    log_path = base / "sshd.log"
    _write(
        config,
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {private / 'host'}",
                "PidFile none",
                "UsePAM no",
                "PasswordAuthentication yes",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password",
                f"AuthorizedKeysFile {keys}/%u",
                "StrictModes no",
                "AllowTcpForwarding yes",
                "LogLevel VERBOSE",
                "MaxStartups 50",
                "MaxSessions 50",
                "",
            ]
        ),
        0o600,
    )
    mounts = " && ".join(
        f"mount --bind {etc / name} /etc/{name}"
        for name in ("passwd", "shadow", "group", "sudoers")
    )
    script = (
        f"{mounts} && mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd "
        f"&& exec {SSHD} -D -e -f {config}"
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_become_subreaper,
        )
    server = SshdServer(
        port,
        private / "root",
        (private / "host.pub").read_text().split()[1],
        users,
        user_keys,
        process,
        base,
        log_path,
    )
    try:
        _wait_for_banner(port, process, log_path)
        yield server
    finally:
        for pid in server.namespace_pids():
            if pid != process.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        shutil.rmtree(base, ignore_errors=True)


def _become_subreaper() -> None:
    """Make sshd adopt and reap the detached processes of its sessions, as systemd does on
    a real server. PID 1 of some sandboxes never reaps them, and a zombie still counts as
    alive for ``kill -0`` and ``tail --pid``."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _wait_for_banner(port: int, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"sshd exited: {log_path.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"sshd did not start: {log_path.read_text(errors='replace')}")
