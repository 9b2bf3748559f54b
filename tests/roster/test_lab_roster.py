"""The roster that `lab up` writes for its hosts, built from fake lab hosts."""

from __future__ import annotations

import argparse
import base64
import dataclasses
import hashlib
import os
import stat
from collections.abc import Callable
from pathlib import Path

import paramiko
import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.core.hostkeys import fingerprint, fingerprint_from_base64
from workshop_tui.core.paths import DATA_DIR_VARIABLE
from workshop_tui.core.roster import load_roster
from workshop_tui.lab import cli, requirements
from workshop_tui.lab import roster as lab_roster
from workshop_tui.lab.lab import HostStatus, LabHost, LabStatus

ED25519_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIPbyyIEmYMBVEhxaC6AQ/kIvyUwC9dVYv6ZkWlnTs10Y"
# An RSA public key blob; its content only has to parse as a key.
RSA_KEY = (
    "AAAAB3NzaC1yc2EAAAADAQABAAAAgQC7PmbHSHkfv5ASGV2Jpzp+pf4JEJGtW0n8TYmzEa6/4axBuZYhY9Yk"
    "ZCpslHWFwuZCtyjUPDlRpmqNk1aO6BAoTnNnIyJoA9f6mnAHoQ8clZmTEiGwZ3ZDNbgI1dZtMxAT+fKohXnO"
    "xDWhuwjmIrnn2QxOqr2zVIPbJelq2X3kZw=="
)


def fingerprint_of(blob: str) -> str:
    digest = hashlib.sha256(base64.b64decode(blob)).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def make_hosts(count: int) -> list[LabHost]:
    names = ["alpha", "bravo", "charlie", "delta"]
    return [
        LabHost(
            name=names[index],
            fqdn=f"{names[index]}.lab.test",
            address=f"10.200.7.{11 + index}",
            port=22,
            user="learner",
            user_password=f"pass-{index + 1}",
            root_password=f"root-{index + 1}",
            host_keys=(("ssh-ed25519", ED25519_KEY), ("ssh-rsa", RSA_KEY)),
        )
        for index in range(count)
    ]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, [None]),
        (2, ["team-2", "team-1"]),
        (3, ["team-2", "team-1", "team-1"]),
        (4, ["team-2", "team-1", "team-4", "team-3"]),
    ],
)
def test_pairing(count: int, expected: list[str | None]) -> None:
    assert lab_roster.partner_names(lab_roster.team_names(count)) == expected


def test_team_names_in_host_order() -> None:
    teams = lab_roster.lab_teams(make_hosts(3))
    assert [team.name for team in teams] == ["team-1", "team-2", "team-3"]
    assert [team.login.host for team in teams] == ["10.200.7.11", "10.200.7.12", "10.200.7.13"]


def test_team_logs_in_as_sudo_user() -> None:
    team = lab_roster.lab_teams(make_hosts(1))[0]
    assert team.login.user == "learner"
    assert team.login.password == "pass-1"
    assert team.login.port == 22
    assert team.login.key_file is None


def test_team_pins_every_host_key() -> None:
    team = lab_roster.lab_teams(make_hosts(1))[0]
    assert team.host_keys == (fingerprint_of(ED25519_KEY), fingerprint_of(RSA_KEY))


def test_invalid_host_key_names_host() -> None:
    broken = dataclasses.replace(make_hosts(1)[0], host_keys=(("ssh-ed25519", "not base64!"),))
    with pytest.raises(LabError, match="invalid SSH host key of lab host alpha"):
        lab_roster.lab_teams([broken])


def test_written_roster_loads(tmp_path: Path) -> None:
    path = tmp_path / "lab-roster.toml"
    lab_roster.write_lab_roster(path, "t1", make_hosts(3), ["postfix"])
    roster = load_roster(path, known_lessons=["postfix"])
    assert roster.title == "Practice lab t1"
    assert roster.lessons == ("postfix",)
    assert [team.partner for team in roster.teams] == ["team-2", "team-1", "team-1"]
    assert roster.warnings == ()


def test_written_roster_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "lab-roster.toml"
    lab_roster.write_lab_roster(path, "t1", make_hosts(1), [])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_sudo_user_gets_roster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Path, int, int]] = []
    monkeypatch.setenv("SUDO_UID", "1234")
    monkeypatch.setenv("SUDO_GID", "5678")
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    monkeypatch.setattr(os, "chown", lambda path, uid, gid: calls.append((path, uid, gid)))
    path = tmp_path / "lab-roster.toml"
    lab_roster.write_lab_roster(path, "t1", make_hosts(1), [])
    assert calls == [(path, 1234, 5678)]


def test_no_chown_without_sudo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []
    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.delenv("SUDO_GID", raising=False)
    monkeypatch.setattr(os, "chown", lambda *arguments: calls.append(arguments))
    lab_roster.give_to_sudo_user(tmp_path)
    assert calls == []


def test_remembered_roster_path(tmp_path: Path) -> None:
    lab_roster.remember_roster_path(tmp_path, Path("relative/roster.toml"))
    remembered = lab_roster.remembered_roster_path(tmp_path)
    assert remembered == Path.cwd() / "relative" / "roster.toml"


def test_nothing_remembered_without_lab_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-lab"
    lab_roster.remember_roster_path(missing, Path("roster.toml"))
    assert not missing.exists()


class FakeLab:
    """Stands in for Lab in `lab up` and `lab status`: two hosts, always up."""

    def __init__(self, name: str, *, root: Path, progress: Callable[[str], None]) -> None:
        self.name = name
        self.root = root

    def up(self, count: int) -> list[LabHost]:
        (self.root / "labs" / self.name).mkdir(parents=True, exist_ok=True)
        return make_hosts(count)

    def status(self, *, check_ssh: bool = True) -> LabStatus:
        hosts = tuple(HostStatus(host, True, True, True) for host in make_hosts(2))
        return LabStatus(self.name, True, "10.200.7.0/24", "10.200.7.1", True, True, hosts, ())


@pytest.fixture
def run_lab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[list[str]], int]:
    monkeypatch.setattr(cli, "Lab", FakeLab)
    monkeypatch.setattr(requirements, "check_platform", lambda: None)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path / "data"))
    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.chdir(tmp_path)
    parser = argparse.ArgumentParser(prog="workshop-tui")
    cli.add_lab_commands(parser.add_subparsers(dest="command"))

    def run(argv: list[str]) -> int:
        arguments = parser.parse_args([*argv, "--root", str(tmp_path / "root")])
        status: int = arguments.handler(arguments)
        return status

    return run


def test_lab_up_writes_default_roster(run_lab: Callable[[list[str]], int], tmp_path: Path) -> None:
    assert run_lab(["lab", "up", "-n", "2", "--name", "t1"]) == 0
    roster = load_roster(tmp_path / "t1-roster.toml")
    assert [team.name for team in roster.teams] == ["team-1", "team-2"]


def test_lab_up_roster_option(run_lab: Callable[[list[str]], int], tmp_path: Path) -> None:
    assert run_lab(["lab", "up", "--name", "t1", "--roster", "out/r.toml"]) == 0
    assert load_roster(tmp_path / "out" / "r.toml").title == "Practice lab t1"


def test_lab_up_prints_next_commands(
    run_lab: Callable[[list[str]], int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_lab(["lab", "up", "-n", "2", "--name", "t1"]) == 0
    err = capsys.readouterr().err
    assert f"Wrote the roster of 2 hosts to {tmp_path / 't1-roster.toml'}" in err
    assert "team-1 on alpha, team-2 on bravo" in err
    assert "workshop-tui board t1-roster.toml" in err
    assert "workshop-tui slips t1-roster.toml -o slips.html" in err
    assert "workshop-tui join t1-roster.toml --team team-1" in err


def test_lab_status_mentions_roster(
    run_lab: Callable[[list[str]], int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_lab(["lab", "up", "-n", "2", "--name", "t1"]) == 0
    capsys.readouterr()
    assert run_lab(["lab", "status", "--name", "t1"]) == 0
    assert f"Roster: {tmp_path / 't1-roster.toml'}\n" in capsys.readouterr().out


def test_lab_status_notes_removed_roster(
    run_lab: Callable[[list[str]], int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_lab(["lab", "up", "--name", "t1"]) == 0
    (tmp_path / "t1-roster.toml").unlink()
    capsys.readouterr()
    assert run_lab(["lab", "status", "--name", "t1"]) == 0
    assert "(the file no longer exists)" in capsys.readouterr().out


def test_fingerprint_matches_paramiko() -> None:
    key = paramiko.PKey.from_type_string("ssh-ed25519", base64.b64decode(ED25519_KEY))
    assert fingerprint_from_base64("ssh-ed25519", ED25519_KEY) == fingerprint(key)
