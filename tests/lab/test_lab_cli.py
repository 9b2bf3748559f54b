"""The lab CLI commands, with the Lab replaced by a fake."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import ClassVar

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.core.paths import DATA_DIR_VARIABLE
from workshop_tui.lab import cli
from workshop_tui.lab.lab import HostStatus, LabHost, LabStatus

ED25519_KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIPbyyIEmYMBVEhxaC6AQ/kIvyUwC9dVYv6ZkWlnTs10Y"

HOST = LabHost(
    name="alpha",
    fqdn="alpha.lab.test",
    address="10.200.7.11",
    port=22,
    user="learner",
    user_password="abcd-efgh-jkmn",
    root_password="pqrs-tuvw-xyz2",
    host_keys=(("ssh-ed25519", ED25519_KEY),),
)


class FakeLab:
    fail = False
    created: ClassVar[list[tuple[str, Path]]] = []

    def __init__(self, name: str, *, root: Path, progress: object) -> None:
        self.name = name
        FakeLab.created.append((name, root))

    def up(self, count: int) -> list[LabHost]:
        if FakeLab.fail:
            raise LabError("debootstrap failed")
        return [HOST] * count

    def status(self) -> LabStatus:
        return LabStatus(
            name=self.name,
            exists=True,
            subnet="10.200.7.0/24",
            bridge_address="10.200.7.1",
            dns_running=True,
            mirror_running=False,
            hosts=(HostStatus(HOST, running=True, ssh_answering=False, link_up=True),),
            leftovers=(),
        )

    def down(self) -> None:
        pass


@pytest.fixture
def parser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> argparse.ArgumentParser:
    monkeypatch.setattr(cli, "Lab", FakeLab)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path / "data"))
    FakeLab.fail = False
    FakeLab.created = []
    main = argparse.ArgumentParser(prog="workshop-tui")
    cli.add_lab_commands(main.add_subparsers(dest="command"))
    return main


def _run(parser: argparse.ArgumentParser, argv: list[str]) -> int:
    arguments = parser.parse_args(argv)
    status: int = arguments.handler(arguments)
    return status


def test_up_prints_logins(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(parser, ["lab", "up", "-n", "2", "--name", "t1"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:3] == ["HOST", "FQDN", "ADDRESS"]
    assert out.count("ssh learner@10.200.7.11") == 2
    assert "abcd-efgh-jkmn" in out
    assert "pqrs-tuvw-xyz2" in out
    assert FakeLab.created == [("t1", Path("/var/lib/workshop-tui"))]


def test_default_lab_name(parser: argparse.ArgumentParser) -> None:
    assert _run(parser, ["lab", "down"]) == 0
    assert FakeLab.created[0][0] == "practice"


def test_error_goes_to_stderr(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeLab.fail = True
    assert _run(parser, ["lab", "up"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: debootstrap failed\n"


def test_status_table(parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(parser, ["lab", "status", "--name", "t1"]) == 0
    out = capsys.readouterr().out
    assert "network 10.200.7.0/24" in out
    assert "package mirror: stopped" in out
    assert "alpha  10.200.7.11  running  not answering  up" in out


@pytest.mark.parametrize("count", ["0", "27", "two"])
def test_invalid_count_is_rejected(parser: argparse.ArgumentParser, count: str) -> None:
    with pytest.raises(SystemExit):
        parser.parse_args(["lab", "up", "-n", count])


def test_missing_lab_status() -> None:
    status = LabStatus("x", False, None, None, False, False, (), ())
    assert cli.format_status(status) == "Lab x does not exist."


def test_up_pins_host_keys(parser: argparse.ArgumentParser, tmp_path: Path) -> None:
    assert _run(parser, ["lab", "up", "--name", "t1"]) == 0
    known_hosts = (tmp_path / "data" / "known_hosts").read_text()
    assert known_hosts == f"10.200.7.11 ssh-ed25519 {ED25519_KEY}\n"


def test_pin_replaces_old_keys(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("10.200.7.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOld\n")
    cli.pin_lab_host_keys([HOST], known_hosts)
    assert known_hosts.read_text() == f"10.200.7.11 ssh-ed25519 {ED25519_KEY}\n"


def test_pin_invalid_key_raises(tmp_path: Path) -> None:
    broken = dataclasses.replace(HOST, host_keys=(("ssh-ed25519", "not base64!"),))
    with pytest.raises(LabError, match="invalid SSH host key of lab host alpha"):
        cli.pin_lab_host_keys([broken], tmp_path / "known_hosts")
