"""The lab CLI commands, with the Lab replaced by a fake."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest

from workshop_tui.core.errors import LabError
from workshop_tui.core.paths import DATA_DIR_VARIABLE
from workshop_tui.lab import cli, requirements
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

BRAVO = dataclasses.replace(
    HOST,
    name="bravo",
    fqdn="bravo.lab.test",
    address="10.200.7.12",
    user_password="bcde-fghj-kmnp",
    root_password="qrst-uvwx-yz23",
)


def _status(
    name: str,
    running: tuple[bool, ...] = (True,),
    *,
    dns: bool = True,
    mirror: bool = True,
    ssh_answering: bool | None = True,
) -> LabStatus:
    """Return the status of a lab with one host per entry of ``running``."""
    hosts = (HOST, BRAVO)[: len(running)]
    return LabStatus(
        name=name,
        exists=True,
        subnet="10.200.7.0/24",
        bridge_address="10.200.7.1",
        dns_running=dns,
        mirror_running=mirror,
        hosts=tuple(
            HostStatus(
                host,
                running=up,
                ssh_answering=ssh_answering if up else False,
                link_up=True,
            )
            for host, up in zip(hosts, running, strict=True)
        ),
        leftovers=(),
    )


MISSING = LabStatus("x", False, None, None, False, False, (), ())


class FakeLab:
    """Stands in for Lab; ``statuses`` and ``down_result`` set what it reports per lab name."""

    fail = False
    created: ClassVar[list[tuple[str, Path]]] = []
    statuses: ClassVar[dict[str, LabStatus | LabError]] = {}
    down_result = True
    status_checks_ssh: ClassVar[list[bool]] = []

    def __init__(self, name: str, *, root: Path, progress: Callable[[str], None]) -> None:
        self.name = name
        self.progress = progress
        FakeLab.created.append((name, root))

    def up(self, count: int) -> list[LabHost]:
        if FakeLab.fail:
            raise LabError("debootstrap failed")
        return [HOST, BRAVO][:count]

    def status(self, *, check_ssh: bool = True) -> LabStatus:
        FakeLab.status_checks_ssh.append(check_ssh)
        found = FakeLab.statuses.get(self.name, dataclasses.replace(MISSING, name=self.name))
        if isinstance(found, LabError):
            raise found
        return found

    def down(self) -> bool:
        if FakeLab.down_result:
            # The real Lab reports its steps as progress while it removes the lab.
            self.progress("Removing host alpha")
        return FakeLab.down_result


@pytest.fixture
def parser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> argparse.ArgumentParser:
    monkeypatch.setattr(cli, "Lab", FakeLab)
    monkeypatch.setattr(requirements, "check_platform", lambda: None)
    monkeypatch.setattr(cli, "lab_names", lambda root: sorted(FakeLab.statuses))
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path / "data"))
    # `lab up` writes its roster to the current directory by default.
    monkeypatch.chdir(tmp_path)
    FakeLab.fail = False
    FakeLab.created = []
    FakeLab.statuses = {"t1": _status("t1")}
    FakeLab.down_result = True
    FakeLab.status_checks_ssh = []
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
    assert "ssh learner@10.200.7.11" in out
    assert "ssh learner@10.200.7.12" in out
    assert "abcd-efgh-jkmn" in out
    assert "pqrs-tuvw-xyz2" in out
    assert FakeLab.created == [("t1", Path("/var/lib/workshop-tui"))]


def test_up_reports_pinned_keys(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _run(parser, ["lab", "up", "-n", "2", "--name", "t1"]) == 0
    err = capsys.readouterr().err
    known_hosts = tmp_path / "data" / "known_hosts"
    assert f"Trusted the host keys of alpha, bravo in {known_hosts}\n" in err
    assert err.count("Trusted the host keys") == 1


def test_up_suggests_next_commands(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(parser, ["lab", "up", "--name", "t1"]) == 0
    err = capsys.readouterr().err
    assert "`workshop-tui lab status --name t1`" in err
    assert "`workshop-tui lab down --name t1`" in err


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
    FakeLab.statuses = {"t1": _status("t1", ssh_answering=False, mirror=False)}
    assert _run(parser, ["lab", "status", "--name", "t1"]) == 0
    out = capsys.readouterr().out
    assert "Network 10.200.7.0/24" in out
    assert "package mirror: stopped" in out
    assert "alpha  10.200.7.11  running  not answering  up" in out


def test_status_prints_logins(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeLab.statuses = {"t1": _status("t1", (True, True))}
    assert _run(parser, ["lab", "status", "--name", "t1"]) == 0
    out = capsys.readouterr().out
    header = "HOST   FQDN            ADDRESS      SSH COMMAND              USER     PASSWORD"
    assert header in out
    assert (
        "alpha  alpha.lab.test  10.200.7.11  ssh learner@10.200.7.11  learner"
        "  abcd-efgh-jkmn  pqrs-tuvw-xyz2"
    ) in out
    assert (
        "bravo  bravo.lab.test  10.200.7.12  ssh learner@10.200.7.12  learner"
        "  bcde-fghj-kmnp  qrst-uvwx-yz23"
    ) in out
    assert FakeLab.status_checks_ssh == [True]


def test_status_reports_lab_up(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeLab.statuses = {"t1": _status("t1", (True, True))}
    assert _run(parser, ["lab", "status", "--name", "t1"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "Lab t1 is up with 2 hosts."


def test_status_of_stopped_lab(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeLab.statuses = {"t1": _status("t1", (False, False), dns=False, mirror=False)}
    assert _run(parser, ["lab", "status", "--name", "t1"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("Lab t1 is down: its 2 hosts, DNS server and package mirror")
    assert first.endswith("Start it again with `workshop-tui lab up -n 2 --name t1`.")


def test_status_of_partly_up_lab(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeLab.statuses = {"practice": _status("practice", (True, False))}
    assert _run(parser, ["lab", "status"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "Lab practice is partly up: 1 of 2 hosts running."
        " Start what is stopped with `workshop-tui lab up -n 2`."
    )
    assert "bravo  10.200.7.12  stopped  not answering  up" in out


def test_status_of_missing_lab(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(parser, ["lab", "status", "--name", "nosuch"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: no lab named nosuch; start one with `workshop-tui lab up --name nosuch`\n"
    )


def test_status_of_leftovers(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeLab.statuses = {
        "t1": LabStatus("t1", True, None, None, False, False, (), ("network link wt0br",))
    }
    assert _run(parser, ["lab", "status", "--name", "t1"]) == 0
    out = capsys.readouterr().out
    assert "remove them with `workshop-tui lab down --name t1`" in out
    assert "  network link wt0br" in out


def test_list_without_labs(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeLab.statuses = {}
    assert _run(parser, ["lab", "list"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "No labs in /var/lib/workshop-tui/labs.\n"
    assert "Start one with `workshop-tui lab up`." in captured.err


def test_list_shows_each_lab(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeLab.statuses = {
        "practice": _status("practice", (True, True)),
        "spare": _status("spare", (True, False)),
        "old": _status("old", (False,), dns=False, mirror=False),
        "crashed": LabStatus("crashed", True, None, None, False, False, (), ("directory x",)),
        "broken": LabError("invalid lab state: unsupported version 99"),
        # Removed by another process after its directory was listed.
        "gone": dataclasses.replace(MISSING, name="gone"),
    }
    assert _run(parser, ["lab", "list"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "LAB       HOSTS  STATE",
        "broken    ?      unreadable state file",
        "crashed   -      leftovers only",
        "old       1      down",
        "practice  2      up",
        "spare     2      partly up (1 of 2 hosts running)",
    ]
    assert "error: lab broken: invalid lab state: unsupported version 99" in captured.err
    assert FakeLab.status_checks_ssh == [False] * 6


def test_list_uses_root(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _run(parser, ["lab", "list", "--root", str(tmp_path)]) == 0
    assert FakeLab.created == [("t1", tmp_path)]
    assert f"workshop-tui lab status --name NAME --root {tmp_path}" in capsys.readouterr().err


def test_down_reports_removal_once(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(parser, ["lab", "down", "--name", "t1"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "Lab t1 removed.\n"
    assert "removed" not in captured.err


def test_down_of_missing_lab(
    parser: argparse.ArgumentParser, capsys: pytest.CaptureFixture[str]
) -> None:
    FakeLab.down_result = False
    assert _run(parser, ["lab", "down", "--name", "nosuch"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "No lab named nosuch; nothing to remove.\n"
    assert "`workshop-tui lab list` shows the labs on this machine." in captured.err


@pytest.mark.parametrize("count", ["0", "27", "two"])
def test_invalid_count_is_rejected(parser: argparse.ArgumentParser, count: str) -> None:
    with pytest.raises(SystemExit):
        parser.parse_args(["lab", "up", "-n", count])


def test_missing_lab_status() -> None:
    assert cli.format_status(MISSING, "up", "down") == "No lab named x."


def test_up_pins_host_keys(parser: argparse.ArgumentParser, tmp_path: Path) -> None:
    assert _run(parser, ["lab", "up", "--name", "t1"]) == 0
    known_hosts = (tmp_path / "data" / "known_hosts").read_text()
    assert known_hosts == f"10.200.7.11 ssh-ed25519 {ED25519_KEY}\n"


def test_pin_replaces_old_keys(tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("10.200.7.11 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOld\n")
    assert cli.pin_lab_host_keys([HOST], known_hosts) == known_hosts
    assert known_hosts.read_text() == f"10.200.7.11 ssh-ed25519 {ED25519_KEY}\n"


def test_pin_invalid_key_raises(tmp_path: Path) -> None:
    broken = dataclasses.replace(HOST, host_keys=(("ssh-ed25519", "not base64!"),))
    with pytest.raises(LabError, match="invalid SSH host key of lab host alpha"):
        cli.pin_lab_host_keys([broken], tmp_path / "known_hosts")
