"""Login slips: the HTML page and the `workshop-tui slips` command."""

from __future__ import annotations

import html
import stat
from pathlib import Path

import pytest

from workshop_tui.cli import main
from workshop_tui.core.roster import load_roster
from workshop_tui.slips import render_slips, write_slips

FINGERPRINT = "SHA256:ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs"

ROSTER = f"""[workshop]
title = "Mail & <b>server</b> workshop"

[[team]]
name = "team-1 <script>alert(1)</script>"
host = "10.77.0.11"
user = "learner"
password = "a<b&c\\"d'e"
partner = "team-2"
host_key = "{FINGERPRINT}"

[[team]]
name = "team-2"
host = "vps2.example.org"
port = 2222
user = "root"
key_file = "keys/team-2.key"
partner = "team-1 <script>alert(1)</script>"

[[team]]
name = "team-3"
host = "2001:db8::3"
port = 2200
user = "learner"
password = "plain-password"
"""


@pytest.fixture
def roster_path(tmp_path: Path) -> Path:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "team-2.key").write_text("key")
    path = tmp_path / "roster.toml"
    path.write_text(ROSTER)
    path.chmod(0o600)
    return path


@pytest.fixture
def page(roster_path: Path) -> str:
    return render_slips(load_roster(roster_path))


def test_one_slip_per_team(page: str) -> None:
    assert page.count('<section class="slip">') == 3


def test_slip_order_follows_roster(page: str) -> None:
    first = page.index("team-1 &lt;script&gt;")
    assert first < page.index(">team-2<") < page.index(">team-3<")


def test_values_are_escaped(page: str) -> None:
    assert "<script>" not in page
    assert "<b>server</b>" not in page
    assert html.escape("team-1 <script>alert(1)</script>") in page
    assert html.escape("Mail & <b>server</b> workshop") in page
    assert html.escape("a<b&c\"d'e") in page


def test_password_shown_in_monospace(page: str) -> None:
    assert '<span class="mono password">plain-password</span>' in page


def test_key_file_team_has_no_password(page: str) -> None:
    slip = page.split('<section class="slip">')[2]
    assert 'log in with the key file <span class="mono">team-2.key</span>' in slip
    assert "Password" not in slip


def test_key_file_team_command(page: str) -> None:
    assert (
        '<span class="word">workshop-tui connect</span> root@vps2.example.org:2222 '
        '<span class="word">--key team-2.key</span>'
    ) in page


def test_port_only_when_not_22(page: str) -> None:
    first, second = page.split('<section class="slip">')[1:3]
    assert "<th>Port</th>" not in first
    assert "<th>Port</th><td>2222</td>" in second


def test_ipv6_command_in_brackets(page: str) -> None:
    assert "learner@[2001:db8::3]:2200" in page


def test_partner_named(page: str) -> None:
    assert "Partner team: team-2" in page


def test_fingerprint_listed(page: str) -> None:
    assert f'<li class="mono">{FINGERPRINT}</li>' in page


def test_no_fingerprint_list_without_host_keys(page: str) -> None:
    last = page.split('<section class="slip">')[3]
    assert "fingerprint" not in last


def test_a4_page(page: str) -> None:
    assert "@page { size: A4;" in page
    assert "break-inside: avoid" in page


def test_written_mode_0600(roster_path: Path, tmp_path: Path) -> None:
    output = tmp_path / "slips.html"
    write_slips(load_roster(roster_path), output)
    assert stat.S_IMODE(output.stat().st_mode) == 0o600


def test_cli_writes_slips(
    roster_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "slips.html"
    assert main(["slips", str(roster_path), "-o", str(output)]) == 0
    out = capsys.readouterr().out
    assert f"Wrote 3 login slips to {output}" in out
    assert "Open it in a browser" in out
    assert output.read_text().count('<section class="slip">') == 3


def test_cli_refuses_overwrite(
    roster_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "slips.html"
    output.write_text("keep me")
    assert main(["slips", str(roster_path), "-o", str(output)]) == 1
    assert f"{output} already exists; pass --force to replace it" in capsys.readouterr().err
    assert output.read_text() == "keep me"


def test_cli_force_overwrites(roster_path: Path, tmp_path: Path) -> None:
    output = tmp_path / "slips.html"
    output.write_text("old")
    assert main(["slips", str(roster_path), "-o", str(output), "--force"]) == 0
    assert output.read_text().startswith("<!DOCTYPE html>")


def test_cli_warns_about_readable_roster(
    roster_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster_path.chmod(0o644)
    assert main(["slips", str(roster_path), "-o", str(tmp_path / "s.html")]) == 0
    assert "warning: " in capsys.readouterr().err


def test_cli_broken_roster_lists_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.toml"
    roster.write_text('[[team]]\nname = "a"\nhost = "h"\nport = 0\n\n[[team]]\nname = "A"\n')
    output = tmp_path / "slips.html"
    assert main(["slips", str(roster), "-o", str(output)]) == 1
    captured = capsys.readouterr()
    problems = captured.out.splitlines()
    assert len(problems) == 7
    assert problems[0].startswith(f"{roster}:1: team 'a' is missing 'user'")
    assert problems[1].startswith(f"{roster}:1: team 'a' has no password or key_file")
    assert problems[2].startswith(f"{roster}:4: port must be a number")
    assert problems[3].startswith(f"{roster}:6: team 'A' is missing 'host'")
    assert problems[6].startswith(f"{roster}:7: duplicate team name 'A': line 2")
    assert captured.err == "7 problems found\n"
    assert not output.exists()
