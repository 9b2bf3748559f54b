"""`workshop-tui join`: a team's login from the roster, its problems, and its host keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from workshop_tui import cli
from workshop_tui.cli import main
from workshop_tui.core.errors import HostKeyNotTrusted
from workshop_tui.core.login import HostKeyInfo
from workshop_tui.core.roster import load_roster

REPOSITORY = Path(__file__).resolve().parents[2]

FINGERPRINT = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"
OTHER_FINGERPRINT = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"

ROSTER = f"""\
[workshop]
title = "Mail server workshop"

[[team]]
name = "team-1"
host = "203.0.113.11"
user = "learner"
password = "tuna-vivid-orbit"
partner = "team-2"
host_key = "{FINGERPRINT}"

[[team]]
name = "team-2"
host = "203.0.113.12"
user = "learner"
password = "opal-quiet-river"
partner = "team-1"
"""


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    path = tmp_path / "roster.toml"
    path.write_text(ROSTER, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Replace the app with a recorder of the arguments it would be opened with."""
    calls: list[dict[str, Any]] = []

    def record(login: object, overrides: dict[str, str], lessons: object, **options: Any) -> int:
        calls.append({"login": login, "overrides": overrides, **options})
        return 0

    monkeypatch.setattr(cli, "_open_app", record)
    return calls


def test_join_opens_team_login(roster_file: Path, opened: list[dict[str, Any]]) -> None:
    assert main(["join", str(roster_file), "--team", "Team-1"]) == 0
    call = opened[0]
    assert call["login"].host == "203.0.113.11"
    assert call["login"].password == "tuna-vivid-orbit"
    assert call["auto_connect"] is True
    assert call["team"] == "team-1"
    assert call["roster_variables"] == {
        "team": "team-1",
        "partner": "team-2",
        "partner_host": "203.0.113.12",
        "partner_user": "learner",
    }


def test_join_var_wins(roster_file: Path, opened: list[dict[str, Any]]) -> None:
    main(["join", str(roster_file), "--team", "team-1", "--var", "partner=team-9"])
    assert opened[0]["overrides"] == {"partner": "team-9"}


def test_join_broken_roster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "roster.toml"
    path.write_text('[[team]]\nname = "team-1"\nhost = "203.0.113.11"\nport = "ssh"\n')
    assert main(["join", str(path), "--team", "team-1"]) == 1
    error = capsys.readouterr().err
    assert f"{path}:4:" in error
    assert f"{path}:1:" in error
    assert "ask a facilitator to fix it" in error
    assert "Traceback" not in error


def test_join_unknown_team(roster_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["join", str(roster_file), "--team", "team-7"]) == 1
    error = capsys.readouterr().err
    assert "no team named 'team-7'" in error
    assert "team-1, team-2" in error
    assert "check the team name on your slip" in error
    assert "fix it" not in error


def test_join_missing_roster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["join", str(tmp_path / "nope.toml"), "--team", "team-1"]) == 1
    assert "roster file not found" in capsys.readouterr().err


def test_join_prints_warnings(
    roster_file: Path, opened: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    roster_file.chmod(0o644)
    main(["join", str(roster_file), "--team", "team-2"])
    warnings = [
        line for line in capsys.readouterr().err.splitlines() if "workshop-tui: warning:" in line
    ]
    assert warnings == [
        f"workshop-tui: warning: {warning}" for warning in load_roster(roster_file).warnings
    ]


def test_team_without_keys_asks(roster_file: Path, opened: list[dict[str, Any]]) -> None:
    main(["join", str(roster_file), "--team", "team-2"])
    assert opened[0]["new_key_check"] is None


def test_listed_key_trusted(roster_file: Path, opened: list[dict[str, Any]]) -> None:
    main(["join", str(roster_file), "--team", "team-1"])
    check = opened[0]["new_key_check"]
    assert check(HostKeyInfo("ssh-ed25519", FINGERPRINT, first_use=True)) is True


def test_unlisted_key_refused(roster_file: Path, opened: list[dict[str, Any]]) -> None:
    main(["join", str(roster_file), "--team", "team-1"])
    check = opened[0]["new_key_check"]
    with pytest.raises(HostKeyNotTrusted) as refused:
        check(HostKeyInfo("ssh-ed25519", OTHER_FINGERPRINT, first_use=True))
    message = str(refused.value)
    assert "203.0.113.11" in message
    assert OTHER_FINGERPRINT in message
    assert f"{roster_file}:4" in message
    assert "tuna-vivid-orbit" not in message
