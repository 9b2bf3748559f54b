"""Known-hosts storage, fingerprints and trust on first use."""

from __future__ import annotations

import io
import shutil
import stat
import subprocess
from pathlib import Path

import paramiko
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from workshop_tui.core.errors import HostKeyChanged
from workshop_tui.core.hostkeys import (
    KnownHosts,
    TrustOnFirstUsePolicy,
    fingerprint,
    format_host_port,
    host_entry_name,
    parse_host_port,
)

needs_ssh_keygen = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="ssh-keygen (openssh-client) is not installed"
)


def new_key() -> paramiko.PKey:
    """Return a fresh ed25519 key; paramiko cannot generate one, cryptography can."""
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return paramiko.Ed25519Key.from_private_key(io.StringIO(pem.decode()))


@pytest.fixture
def store(tmp_path: Path) -> KnownHosts:
    return KnownHosts(tmp_path / "data" / "known_hosts")


@needs_ssh_keygen
@pytest.mark.parametrize("kind", ["ed25519", "rsa", "ecdsa"])
def test_fingerprint_matches_ssh_keygen(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"key-{kind}"
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)
    expected = subprocess.run(
        ["ssh-keygen", "-lf", str(path.with_suffix(".pub"))],
        capture_output=True,
        check=True,
        text=True,
    ).stdout.split()[1]
    key = paramiko.PKey.from_path(path)
    assert fingerprint(key) == expected


def test_host_names() -> None:
    assert host_entry_name("Example.ORG", 22) == "example.org"
    assert host_entry_name("10.0.0.5", 2222) == "[10.0.0.5]:2222"
    assert format_host_port("::1", 2222) == "[::1]:2222"
    assert format_host_port("vps", 22) == "vps"
    assert parse_host_port("vps") == ("vps", 22)
    assert parse_host_port("vps:2222") == ("vps", 2222)
    assert parse_host_port("[::1]:2200") == ("::1", 2200)
    assert parse_host_port("::1") == ("::1", 22)
    for bad in ("", "vps:0", "vps:x", "[::1", "[::1]x"):
        with pytest.raises(ValueError):
            parse_host_port(bad)


def test_trust_lookup_forget(store: KnownHosts) -> None:
    key = new_key()
    assert store.lookup("vps", 2222) == []
    store.trust("vps", 2222, key)
    store.trust("vps", 2222, key)  # a second trust adds no duplicate
    assert [k.asbytes() for k in store.lookup("VPS", 2222)] == [key.asbytes()]
    assert store.lookup("vps", 22) == []
    assert store.path.read_text().count("\n") == 1
    assert store.path.read_text().startswith("[vps]:2222 ssh-ed25519 ")
    assert store.forget("vps", 2222) == 1
    assert store.lookup("vps", 2222) == []
    assert store.forget("vps", 2222) == 0


def test_file_and_directory_modes(store: KnownHosts) -> None:
    store.trust("vps", 22, new_key())
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    leftovers = [
        p.name
        for p in store.path.parent.iterdir()
        if p.name not in ("known_hosts", "known_hosts.lock")
    ]
    assert leftovers == []


def test_pin_replaces_older_keys(store: KnownHosts) -> None:
    old, new, other = new_key(), new_key(), new_key()
    store.trust("lab", 2201, old)
    store.trust("elsewhere", 22, other)
    store.pin("lab", 2201, new.get_name(), new.get_base64())
    assert [k.asbytes() for k in store.lookup("lab", 2201)] == [new.asbytes()]
    assert [k.asbytes() for k in store.lookup("elsewhere", 22)] == [other.asbytes()]
    both = [(old.get_name(), old.get_base64()), (new.get_name(), new.get_base64())]
    store.pin_keys("lab", 2201, both)
    assert len(store.lookup("lab", 2201)) == 2
    with pytest.raises(ValueError, match="base64"):
        store.pin("lab", 2201, "ssh-ed25519", "not base64!")


def test_unknown_lines_survive_rewrite(store: KnownHosts) -> None:
    key = new_key()
    store.path.parent.mkdir(parents=True)
    kept = [
        "# a comment",
        "@cert-authority *.example.org ssh-ed25519 AAAA",
        "other,vps sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t",
    ]
    store.path.write_text("\n".join(kept) + "\n")
    store.trust("new", 22, key)
    store.forget("vps", 22)
    lines = store.path.read_text().splitlines()
    assert lines[:2] == kept[:2]
    assert lines[2] == "other sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t"
    assert lines[3].startswith("new ssh-ed25519 ")


def test_hashed_entries(store: KnownHosts) -> None:
    key = new_key()
    hashed = paramiko.HostKeys.hash_host("[vps]:2222")
    store.path.parent.mkdir(parents=True)
    store.path.write_text(f"{hashed} {key.get_name()} {key.get_base64()}\n")
    assert [k.asbytes() for k in store.lookup("vps", 2222)] == [key.asbytes()]
    assert store.forget("vps", 2222) == 1
    assert store.path.read_text() == ""


@needs_ssh_keygen
def test_openssh_finds_our_entries(store: KnownHosts) -> None:
    key = new_key()
    store.trust("127.0.0.1", 2222, key)
    result = subprocess.run(
        ["ssh-keygen", "-F", "[127.0.0.1]:2222", "-f", str(store.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert key.get_base64() in result.stdout


def test_policy_first_use_same_and_changed(store: KnownHosts) -> None:
    policy = TrustOnFirstUsePolicy(store)
    first, second = new_key(), new_key()
    assert policy.check("vps", 22, first)
    assert policy.first_use
    assert not policy.check("vps", 22, first)
    assert not policy.first_use
    with pytest.raises(HostKeyChanged) as caught:
        policy.check("vps", 22, second)
    message = str(caught.value)
    assert fingerprint(first) in message
    assert fingerprint(second) in message
    assert "reinstalled" in message
    assert "intercepting" in message
    assert "facilitator" in message
    assert "workshop-tui hosts forget vps\n" in message
    assert [k.asbytes() for k in store.lookup("vps", 22)] == [first.asbytes()]


def test_policy_with_paramiko_client_name(store: KnownHosts) -> None:
    policy = TrustOnFirstUsePolicy(store)
    key = new_key()
    policy.missing_host_key(paramiko.SSHClient(), "[vps]:2222", key)
    assert [k.asbytes() for k in store.lookup("vps", 2222)] == [key.asbytes()]
    with pytest.raises(HostKeyChanged, match="workshop-tui hosts forget vps:2222"):
        policy.missing_host_key(paramiko.SSHClient(), "[vps]:2222", new_key())
